package wal

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// scanResult describes one scanned log file.
type scanResult struct {
	size    int64            // file size when scanned
	end     int64            // offset just past the last good record (0: header bad)
	lastSeq uint64           // last sequence number seen, or the one passed in
	records int              // good records
	damage  *CorruptionError // first damage, nil if the file ended cleanly
	torn    bool             // damage is of a kind allowed at the tail of the last file
	version uint8            // the file's format version (0: header bad)
}

// scanner streams log files record by record with buffers it reuses.
type scanner struct {
	fs      vfs.FS
	br      *bufio.Reader
	hdr     [recordHeaderSize]byte
	payload []byte
	scratch []byte
	after   uint64
	replay  func(Record) error
	keep    bool // each replayed record gets a payload of its own
	slab    payloadSlab
	// mapFiles reads files through a Mapping (Options.MapPayloads); mapped
	// and pos are the current file's mapping and the offset read up to,
	// mapped is nil when the file is read with br.
	mapFiles bool
	mapping  *Mapping
	mapped   []byte
	pos      int
}

func newScanner(fsys vfs.FS, after uint64, replay func(Record) error) *scanner {
	return &scanner{
		fs:      fsys,
		br:      bufio.NewReaderSize(nil, 64<<10),
		scratch: make([]byte, 4<<10),
		after:   after,
		replay:  replay,
	}
}

// fileScan is the state of one file being scanned.
type fileScan struct {
	path    string
	nameSeq uint64
	off     int64
	res     scanResult
}

// scanFile reads path, whose name says it starts at nameSeq, checking that its
// records follow prevSeq, and hands records past s.after to s.replay. Damage is
// reported in the result; the error is for I/O failures, a newer format
// version, and errors returned by replay.
func (s *scanner) scanFile(path string, nameSeq, prevSeq uint64) (scanResult, error) {
	f, err := s.fs.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return scanResult{}, fmt.Errorf("wal: open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return scanResult{}, fmt.Errorf("wal: stat %s: %w", path, err)
	}
	s.startFile(f, path, st.Size())
	fsc := &fileScan{path: path, nameSeq: nameSeq, res: scanResult{size: st.Size(), lastSeq: prevSeq}}
	err = s.scanHeader(fsc)
	for err == nil && fsc.res.damage == nil && fsc.off < fsc.res.size {
		err = s.scanRecord(fsc)
	}
	s.br.Reset(nil)
	s.mapping.release()
	s.mapping, s.mapped = nil, nil
	return fsc.res, err
}

// startFile prepares to read f, of size bytes, from its start: through a
// mapping with s.mapFiles (read-only, unmapped by scanFile unless a record
// kept it), else with br. A file that cannot be mapped is read.
func (s *scanner) startFile(f vfs.File, path string, size int64) {
	if s.mapFiles {
		if m, err := mapFile(f, path, size); err == nil && m != nil {
			s.mapping, s.mapped, s.pos = m, m.data, 0
			return
		}
	}
	s.br.Reset(f)
}

// scanHeader checks the file header.
func (s *scanner) scanHeader(fsc *fileScan) error {
	if fsc.res.size < fileHeaderSize {
		return fsc.fail(true, fmt.Sprintf("short file header (%d bytes)", fsc.res.size))
	}
	b, err := s.next(fsc, fileHeaderSize, s.hdr[:])
	if err != nil {
		return err
	}
	first, version, err := decodeFileHeader(b)
	if errors.Is(err, ErrUnsupportedVersion) {
		return fmt.Errorf("wal: %s: %w", fsc.path, err)
	}
	if err != nil {
		torn, zerr := s.zeroFrom(b)
		if zerr != nil {
			return zerr
		}
		return fsc.fail(torn, "file header: "+err.Error())
	}
	if first != fsc.nameSeq {
		return fsc.fail(false, fmt.Sprintf("file header says first seq %d, name says %d", first, fsc.nameSeq))
	}
	if prev := fsc.res.lastSeq; prev != 0 && fsc.nameSeq <= prev {
		return fsc.fail(false, fmt.Sprintf("file starts at seq %d, not after the previous record's %d", fsc.nameSeq, prev))
	}
	fsc.off, fsc.res.end = fileHeaderSize, fileHeaderSize
	fsc.res.version = version
	return nil
}

// scanRecord reads, checks and replays the record at fsc.off.
func (s *scanner) scanRecord(fsc *fileScan) error {
	left := fsc.res.size - fsc.off
	if left < recordHeaderSize {
		return fsc.fail(true, fmt.Sprintf("short record header (%d bytes left)", left))
	}
	b, err := s.next(fsc, recordHeaderSize, s.hdr[:])
	if err != nil {
		return err
	}
	h, ok := decodeRecordHeader(b)
	if !ok {
		torn, err := s.zeroFrom(b)
		if err != nil {
			return err
		}
		return fsc.fail(torn, "record header checksum mismatch")
	}
	last, reason := checkHeader(h, fsc.nameSeq, fsc.res.lastSeq)
	if reason != "" {
		return fsc.fail(false, reason)
	}
	if int64(h.length) > left-recordHeaderSize {
		return fsc.fail(true, fmt.Sprintf("record length %d reaches past the end of the file (%d bytes left)", h.length, left-recordHeaderSize))
	}
	replay := last > s.after && s.replay != nil
	payload, err := s.nextPayload(fsc, int(h.length), s.keep && replay)
	if err != nil {
		return err
	}
	if !h.verify(payload) {
		torn, err := s.zeroFrom(nil)
		if err != nil {
			return err
		}
		return fsc.fail(torn, "record checksum mismatch")
	}
	if replay {
		rec := Record{FirstSeq: h.firstSeq, Count: h.count, Payload: payload}
		if s.keep && s.mapped != nil {
			rec.Owner, s.mapping.kept = s.mapping, true
		}
		if err := s.replay(rec); err != nil {
			return fmt.Errorf("wal: replay record %d of %s: %w", h.firstSeq, fsc.path, err)
		}
	}
	fsc.off += recordHeaderSize + int64(h.length)
	fsc.res.end, fsc.res.lastSeq = fsc.off, last
	fsc.res.records++
	return nil
}

// checkHeader validates a record header whose checksum matched against the
// file's first sequence number and the previous record's last one. It
// returns the record's last sequence number, or a reason it is corrupt.
func checkHeader(h recordHeader, nameSeq, prevSeq uint64) (uint64, string) {
	if h.count == 0 {
		return 0, "record with zero count"
	}
	if h.length > MaxPayload {
		return 0, fmt.Sprintf("record length %d exceeds the maximum %d", h.length, MaxPayload)
	}
	last, ok := h.lastSeq()
	if !ok {
		return 0, fmt.Sprintf("record seq %d + count %d overflows", h.firstSeq, h.count)
	}
	if h.firstSeq < nameSeq || (prevSeq != 0 && h.firstSeq <= prevSeq) || h.firstSeq == 0 {
		return 0, fmt.Sprintf("record seq %d out of order (file starts at %d, previous record ended at %d)", h.firstSeq, nameSeq, prevSeq)
	}
	return last, ""
}

// fail records damage at the current record (or header) start.
func (fsc *fileScan) fail(torn bool, reason string) error {
	fsc.res.damage = &CorruptionError{File: fsc.path, Offset: fsc.res.end, Reason: reason}
	fsc.res.torn = torn
	return nil
}

// next returns the file's next n bytes (n bounded by the bytes left in
// the file by the caller), advancing nothing but the reader: the mapping's
// bytes, or buf[:n] filled from the file.
func (s *scanner) next(fsc *fileScan, n int, buf []byte) ([]byte, error) {
	if s.mapped != nil {
		b := s.mapped[s.pos : s.pos+n : s.pos+n]
		s.pos += n
		return b, nil
	}
	b := buf[:n]
	if _, err := io.ReadFull(s.br, b); err != nil {
		return nil, fmt.Errorf("wal: read %s at offset %d: %w", fsc.path, fsc.off, err)
	}
	return b, nil
}

// nextPayload returns the next n bytes as a record's payload: the
// mapping's bytes, else the reused payload buffer, or a payload of its own
// from the slab when the record's callback keeps it. n was bounded by
// MaxPayload and the bytes left in the file by the caller.
func (s *scanner) nextPayload(fsc *fileScan, n int, keep bool) ([]byte, error) {
	if s.mapped != nil {
		return s.next(fsc, n, nil)
	}
	if keep {
		return s.next(fsc, n, s.slab.take(n))
	}
	if cap(s.payload) < n {
		s.payload = make([]byte, n)
	}
	return s.next(fsc, n, s.payload)
}

// zeroFrom reports whether b and everything left in the file are zero bytes:
// the signature of a preallocated or never-written tail.
func (s *scanner) zeroFrom(b []byte) (bool, error) {
	if !allZero(b) {
		return false, nil
	}
	if s.mapped != nil {
		return allZero(s.mapped[s.pos:]), nil
	}
	for {
		n, err := s.br.Read(s.scratch)
		if !allZero(s.scratch[:n]) {
			return false, nil
		}
		if err == io.EOF {
			return true, nil
		}
		if err != nil {
			return false, fmt.Errorf("wal: read tail: %w", err)
		}
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
