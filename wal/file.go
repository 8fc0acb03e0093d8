package wal

import (
	"fmt"
)

// Whole log files in memory, for copies of the log kept elsewhere (package
// tiering ships records to object storage as log files and restores them
// into a log directory): the same bytes as the files Open reads.

// FileHeaderSize is the size of a log file's header.
const FileHeaderSize = fileHeaderSize

// FileName returns the name of the log file whose first record starts at
// seq: 20 zero-padded decimal digits and ".wal".
func FileName(seq uint64) string { return fileName(seq) }

// AppendFileHeader appends the header of a log file (of the current format
// version) whose first record starts at firstSeq.
func AppendFileHeader(dst []byte, firstSeq uint64) []byte {
	return appendFileHeader(dst, firstSeq)
}

// RecordFirstSeq returns the first sequence number of the framed record
// rec (as AppendFramed wrote it) and its count, checking the header's
// checksum and the record's length.
func RecordFirstSeq(rec []byte) (first uint64, count uint32, err error) {
	if len(rec) < recordHeaderSize {
		return 0, 0, fmt.Errorf("wal: record of %d bytes is shorter than its header", len(rec))
	}
	h, ok := decodeRecordHeader(rec)
	switch {
	case !ok:
		return 0, 0, fmt.Errorf("wal: record header checksum mismatch")
	case int(h.length) != len(rec)-recordHeaderSize:
		return 0, 0, fmt.Errorf("wal: record header says %d payload bytes, the record holds %d", h.length, len(rec)-recordHeaderSize)
	}
	return h.firstSeq, h.count, nil
}

// FileInfo describes a whole log file checked by CheckFile.
type FileInfo struct {
	// FirstSeq is the header's first sequence number; LastSeq the last
	// record's last one.
	FirstSeq, LastSeq uint64
	Records           int
}

// CheckFile checks a whole log file held in data as Open checks the files
// of a log, but strictly: the file must hold at least one record, and any
// damage, a torn tail included, is a *CorruptionError naming name and the
// offset. A file of a newer format version wraps ErrUnsupportedVersion.
func CheckFile(name string, data []byte) (FileInfo, error) {
	fail := func(off int, reason string) (FileInfo, error) {
		return FileInfo{}, &CorruptionError{File: name, Offset: int64(off), Reason: reason}
	}
	if len(data) < fileHeaderSize {
		return fail(0, fmt.Sprintf("short file header (%d bytes)", len(data)))
	}
	first, _, err := decodeFileHeader(data[:fileHeaderSize])
	if err != nil {
		return FileInfo{}, fmt.Errorf("wal: %s: file header: %w", name, err)
	}
	info := FileInfo{FirstSeq: first}
	for off := fileHeaderSize; off < len(data); {
		if len(data)-off < recordHeaderSize {
			return fail(off, fmt.Sprintf("short record header (%d bytes left)", len(data)-off))
		}
		h, ok := decodeRecordHeader(data[off:])
		if !ok {
			return fail(off, "record header checksum mismatch")
		}
		last, reason := checkHeader(h, first, info.LastSeq)
		if reason != "" {
			return fail(off, reason)
		}
		end := off + recordHeaderSize + int(h.length)
		if int64(h.length) > int64(len(data)-off-recordHeaderSize) {
			return fail(off, fmt.Sprintf("record length %d reaches past the end of the file", h.length))
		}
		if !h.verify(data[off+recordHeaderSize : end]) {
			return fail(off, "record checksum mismatch")
		}
		info.LastSeq, info.Records, off = last, info.Records+1, end
	}
	if info.Records == 0 {
		return fail(fileHeaderSize, "no record")
	}
	return info, nil
}
