package wal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// Wire constants. They are frozen: changing any of them is a new format
// version (see FORMAT.md, "Write-ahead log").
const (
	// formatVersion is the version of the log files written. Version 2 has
	// the bytes of version 1; its payloads may hold event fields that
	// version 1 readers do not know (the engine fields _id and _index,
	// wire ids 92 and 93, and the kept unknown fields, 94), so that such a
	// reader refuses the file as too new rather than as corrupt.
	// Readers read versions minVersion..formatVersion.
	formatVersion = 2
	minVersion    = 1
	// reservedVersion is the version of seq.reserved.
	reservedVersion  = 1
	fileMagic        = "EVWL"
	fileHeaderSize   = 16
	recordHeaderSize = 24
	fileSuffix       = ".wal"
	fileNameDigits   = 20

	// MaxPayload is the largest record payload Append accepts and replay
	// believes.
	MaxPayload = 64 << 20
)

// castagnoli is the CRC-32C table, built once; it is read-only.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// fileName is the name of the log file whose first sequence number is seq.
func fileName(seq uint64) string {
	return fmt.Sprintf("%0*d%s", fileNameDigits, seq, fileSuffix)
}

// parseFileName returns the first sequence number encoded in a log file name.
func parseFileName(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, fileSuffix)
	if !ok || len(digits) != fileNameDigits {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	seq, err := strconv.ParseUint(digits, 10, 64)
	return seq, err == nil
}

// appendFileHeader appends the 16-byte header of a file starting at firstSeq.
func appendFileHeader(dst []byte, firstSeq uint64) []byte {
	dst = append(dst, fileMagic...)
	dst = append(dst, formatVersion, 0, 0, 0)
	return binary.LittleEndian.AppendUint64(dst, firstSeq)
}

// decodeFileHeader validates a 16-byte file header and returns its first
// sequence number and version. A newer version wraps ErrUnsupportedVersion.
func decodeFileHeader(b []byte) (uint64, uint8, error) {
	if string(b[0:4]) != fileMagic {
		return 0, 0, fmt.Errorf("bad magic %q", b[0:4])
	}
	v := b[4]
	switch {
	case v > formatVersion:
		return 0, 0, fmt.Errorf("%w: format version %d is newer than supported %d", ErrUnsupportedVersion, v, formatVersion)
	case v < minVersion:
		return 0, 0, fmt.Errorf("bad format version %d", v)
	}
	if b[5] != 0 || b[6] != 0 || b[7] != 0 {
		return 0, 0, fmt.Errorf("reserved header bytes are not zero")
	}
	return binary.LittleEndian.Uint64(b[8:16]), v, nil
}

// recordHeader is the decoded fixed part of a record.
type recordHeader struct {
	length   uint32
	count    uint32
	firstSeq uint64
	hdrCRC   uint32
	crc      uint32
}

// appendRecord appends the framed record (header and payload) to dst.
func appendRecord(dst []byte, firstSeq uint64, count uint32, payload []byte) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, recordHeaderSize)...)
	putRecordHeader(dst[start:], firstSeq, count, payload)
	return append(dst, payload...)
}

// putRecordHeader writes the 24-byte header of a record holding payload
// into hdr[:recordHeaderSize].
func putRecordHeader(hdr []byte, firstSeq uint64, count uint32, payload []byte) {
	binary.LittleEndian.PutUint32(hdr[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(hdr[4:8], count)
	binary.LittleEndian.PutUint64(hdr[8:16], firstSeq)
	hdrCRC := crc32.Checksum(hdr[0:16], castagnoli)
	binary.LittleEndian.PutUint32(hdr[16:20], hdrCRC)
	binary.LittleEndian.PutUint32(hdr[20:24], crc32.Update(hdrCRC, castagnoli, payload))
}

// decodeRecordHeader decodes a 24-byte record header; ok is false when its
// header checksum does not match, in which case no field may be trusted.
func decodeRecordHeader(b []byte) (h recordHeader, ok bool) {
	h = recordHeader{
		length:   binary.LittleEndian.Uint32(b[0:4]),
		count:    binary.LittleEndian.Uint32(b[4:8]),
		firstSeq: binary.LittleEndian.Uint64(b[8:16]),
		hdrCRC:   binary.LittleEndian.Uint32(b[16:20]),
		crc:      binary.LittleEndian.Uint32(b[20:24]),
	}
	return h, crc32.Checksum(b[0:16], castagnoli) == h.hdrCRC
}

// verify reports whether payload matches the record checksum.
func (h recordHeader) verify(payload []byte) bool {
	return crc32.Update(h.hdrCRC, castagnoli, payload) == h.crc
}

// lastSeq is the record's last sequence number; ok is false on overflow.
func (h recordHeader) lastSeq() (uint64, bool) {
	last := h.firstSeq + uint64(h.count) - 1
	return last, last >= h.firstSeq
}
