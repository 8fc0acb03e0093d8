package wal

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// Salvage reads every record of the log in dir whose checksums hold, damage
// or not: where Open stops at the first damage (and Options.Repair
// truncates there), Salvage resynchronises byte by byte, since a record
// header carries its own CRC-32C and so can be recognised anywhere. It
// calls fn with each good record in log order (its payload points into the
// file's bytes, read whole and never reused) and returns the damaged stretches between them. valid,
// when not nil, rejects a record whose checksums hold but whose payload the
// caller cannot decode: that stretch then counts as damaged too. Nothing is
// written.
func Salvage(fsys vfs.FS, dir string, valid func(Record) bool, fn func(Record) error) ([]Damage, error) {
	entries, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("wal: salvage: %w", err)
	}
	var seqs []uint64
	for _, e := range entries {
		if seq, ok := parseFileName(e.Name()); ok && e.Type().IsRegular() {
			seqs = append(seqs, seq)
		}
	}
	slices.Sort(seqs)
	s := &salvager{valid: valid, fn: fn}
	for i, seq := range seqs {
		path := filepath.Join(dir, fileName(seq))
		data, err := vfs.ReadFile(fsys, path)
		if err != nil {
			return nil, fmt.Errorf("wal: salvage: read %s: %w", path, err)
		}
		next := uint64(0)
		if i+1 < len(seqs) {
			next = seqs[i+1]
		}
		if err := s.scanFile(path, data, seq, next); err != nil {
			return nil, err
		}
	}
	return s.lost(), nil
}

// Damage is a stretch of a log file where no good record could be read.
type Damage struct {
	File   string
	Offset int64
	Bytes  int64
	Reason string
	// Torn reports damage of the kind an interrupted append leaves at the
	// end of the last file: zeros, a partial record header, or a header
	// whose length runs past the end. Nothing acknowledged was there.
	Torn bool
	// Lost bounds the sequence numbers that may have stood in the stretch:
	// after the last good record before it (or its file's first number) up
	// to before the first good record after it (or the next file's first
	// number); Last is 0 when unknown (the end of the log). Nil when Torn,
	// or when no sequence number could have stood there.
	Lost *SeqSpan
}

// SeqSpan is an inclusive range of sequence numbers.
type SeqSpan struct{ First, Last uint64 }

// salvager collects good records and damaged stretches in log order.
type salvager struct {
	valid   func(Record) bool
	fn      func(Record) error
	lastSeq uint64
	items   []salvageItem
}

// salvageItem is a good record or a damaged stretch.
type salvageItem struct {
	first, last       uint64 // good record
	damage            *Damage
	fileSeq, nextFile uint64 // this file's first number; the next file's, 0 if last
}

// scanFile appends the file's good records and damaged stretches.
func (s *salvager) scanFile(path string, data []byte, fileSeq, nextFile uint64) error {
	off, bad := 0, -1
	if first, _, err := decodeFileHeaderOf(data); err == nil && first == fileSeq {
		off = fileHeaderSize
	} else {
		bad = 0
	}
	flush := func(end int) {
		if bad < 0 {
			return
		}
		d := &Damage{File: path, Offset: int64(bad), Bytes: int64(end - bad), Reason: "no readable record"}
		d.Torn = nextFile == 0 && end == len(data) && tornTail(data[bad:])
		s.items = append(s.items, salvageItem{damage: d, fileSeq: fileSeq, nextFile: nextFile})
		bad = -1
	}
	for off < len(data) {
		rec, n, ok := s.recordAt(data[off:], max(s.lastSeq, max(fileSeq, 1)-1))
		if !ok {
			if bad < 0 {
				bad = off
			}
			off++
			continue
		}
		flush(off)
		if err := s.fn(rec); err != nil {
			return fmt.Errorf("wal: salvage: %s at offset %d: %w", path, off, err)
		}
		s.lastSeq = rec.FirstSeq + uint64(rec.Count) - 1
		s.items = append(s.items, salvageItem{first: rec.FirstSeq, last: s.lastSeq, fileSeq: fileSeq, nextFile: nextFile})
		off += n
	}
	flush(len(data))
	return nil
}

// decodeFileHeaderOf decodes the file header at the start of data.
func decodeFileHeaderOf(data []byte) (uint64, uint8, error) {
	if len(data) < fileHeaderSize {
		return 0, 0, io.ErrUnexpectedEOF
	}
	return decodeFileHeader(data[:fileHeaderSize])
}

// recordAt decodes a record at the start of b whose checksums hold, whose
// sequence numbers follow prev and which valid accepts; it returns the
// record and its framed length.
func (s *salvager) recordAt(b []byte, prev uint64) (Record, int, bool) {
	if len(b) < recordHeaderSize {
		return Record{}, 0, false
	}
	h, ok := decodeRecordHeader(b)
	if !ok || int64(h.length) > int64(len(b)-recordHeaderSize) {
		return Record{}, 0, false
	}
	if _, reason := checkHeader(h, 0, prev); reason != "" {
		return Record{}, 0, false
	}
	payload := b[recordHeaderSize : recordHeaderSize+int(h.length)]
	if !h.verify(payload) {
		return Record{}, 0, false
	}
	rec := Record{FirstSeq: h.firstSeq, Count: h.count, Payload: payload}
	if s.valid != nil && !s.valid(rec) {
		return Record{}, 0, false
	}
	return rec, recordHeaderSize + int(h.length), true
}

// tornTail reports whether a damaged stretch reaching the end of the last
// file looks like an interrupted append.
func tornTail(b []byte) bool {
	if allZero(b) || len(b) < recordHeaderSize {
		return true
	}
	h, ok := decodeRecordHeader(b)
	return ok && int64(h.length) > int64(len(b)-recordHeaderSize)
}

// lost returns the damaged stretches, each with the range of sequence
// numbers that may have stood in it.
func (s *salvager) lost() []Damage {
	var out []Damage
	for i, it := range s.items {
		if it.damage == nil {
			continue
		}
		d := *it.damage
		if !d.Torn {
			d.Lost = s.lostSpan(i)
		}
		out = append(out, d)
	}
	return out
}

func (s *salvager) lostSpan(i int) *SeqSpan {
	it := s.items[i]
	first := max(it.fileSeq, 1)
	for j := i - 1; j >= 0; j-- {
		if s.items[j].damage == nil {
			first = max(first, s.items[j].last+1)
			break
		}
	}
	var last uint64 // unknown
	if it.nextFile != 0 {
		last = it.nextFile - 1
	}
	for j := i + 1; j < len(s.items); j++ {
		if s.items[j].damage == nil {
			last = s.items[j].first - 1
			break
		}
	}
	if last != 0 && last < first {
		return nil
	}
	return &SeqSpan{First: first, Last: last}
}
