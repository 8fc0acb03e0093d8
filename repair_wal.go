package eventlog

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/eventlogdb/eventlog/segment"
	"github.com/eventlogdb/eventlog/wal"
)

// WAL salvage. The wal package stops at the first damage (Options.Repair
// truncates there and deletes every later file); Repair first reads every
// record that still checks out, resynchronising after damage byte by byte:
// a record header carries its own CRC-32C, so a record can be recognised
// anywhere (FORMAT.md, "Write-ahead log"). These constants restate that format, version 1.
const (
	walFileHeaderLen = 16
	walRecHeaderLen  = 24
	walMagic         = "EVWL"
	walVersion       = 1
)

// repairWAL salvages a WAL damaged mid-log: its good records go into
// segments (sealed_seq raised past them, so replay will not see them
// twice), then the wal package truncates the log at the damage.
func (r *repairer) repairWAL() error {
	walDir := filepath.Join(r.dir, "wal")
	w, err := wal.Open(wal.Options{Dir: walDir, ReadOnly: true}, r.m.SealedSeq, nil)
	if err == nil {
		return w.Close()
	}
	if !errors.Is(err, wal.ErrCorrupt) {
		return err
	}
	r.log.Warn("eventlog: repair: WAL damaged; salvaging every good record", "err", err)
	scan, serr := scanWAL(r.fs.ReadDir, readWhole(r), walDir, r.m.SealedSeq)
	if serr != nil {
		return serr
	}
	var cerr *wal.CorruptionError
	if errors.As(err, &cerr) {
		for i := range scan.damage { // the wal package knows best why it stopped
			if d := &scan.damage[i]; d.File == cerr.File && d.Offset == cerr.Offset {
				d.Reason = cerr.Reason
			}
		}
	}
	rep := &WALRepair{Recovered: len(scan.rows), Damage: scan.damage}
	r.report.WAL = rep
	if len(scan.rows) > 0 {
		metas, err := r.writeRows(scan.rows)
		if err != nil {
			return err
		}
		rep.Segments = names(metas)
		if err := r.addSegments(metas, scan.lastSeq, scan.tombs...); err != nil {
			return err
		}
	}
	return r.truncateWAL(walDir)
}

// truncateWAL lets the wal package cut the log at the damage and drop the
// files after it (whose records are all in segments now), then checkpoint.
func (r *repairer) truncateWAL(walDir string) error {
	w, err := wal.Open(wal.Options{Dir: walDir, Repair: true, Logger: r.log}, r.m.SealedSeq, nil)
	if err != nil {
		return err
	}
	return errors.Join(w.Checkpoint(r.m.SealedSeq), w.Close())
}

func readWhole(r *repairer) func(string) ([]byte, error) {
	return func(path string) ([]byte, error) {
		f, err := r.fs.OpenFile(path, os.O_RDONLY, 0)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return nil, err
		}
		b := make([]byte, st.Size())
		_, err = f.ReadAt(b, 0)
		return b, err
	}
}

// walScan is what scanWAL found.
type walScan struct {
	rows     []segment.Row // events of good records above the sealed seq
	tombs    []*tombstone  // tombstones of those records: they must survive the WAL
	lastSeq  uint64        // last sequence number of the last good record
	firstSeq uint64        // first sequence number of the first good record, 0 if none
	records  [][2]uint64   // first and last sequence number of every good record
	damage   []WALDamage
}

// walItem is a good record or a damaged stretch, in log order.
type walItem struct {
	first, last uint64 // good record
	damage      *WALDamage
	fileSeq     uint64 // name of the file it is in
	nextFile    uint64 // name of the next file, 0 if last
}

// scanWAL reads every log file in dir in order and collects the good
// records and the damaged stretches between them.
func scanWAL(readDir func(string) ([]fs.DirEntry, error), read func(string) ([]byte, error), dir string, sealed uint64) (*walScan, error) {
	entries, err := readDir(dir)
	if err != nil {
		return nil, err
	}
	var seqs []uint64
	for _, e := range entries {
		if seq, ok := walFileSeq(e.Name()); ok && e.Type().IsRegular() {
			seqs = append(seqs, seq)
		}
	}
	slices.Sort(seqs)
	s := &walScan{}
	var items []walItem
	for i, seq := range seqs {
		path := filepath.Join(dir, fmt.Sprintf("%020d.wal", seq))
		data, err := read(path)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		next := uint64(0)
		if i+1 < len(seqs) {
			next = seqs[i+1]
		}
		items, err = s.scanFile(items, path, data, seq, next, sealed)
		if err != nil {
			return nil, err
		}
	}
	s.damage = lostSeqs(items, sealed)
	return s, nil
}

func walFileSeq(name string) (uint64, bool) {
	digits, ok := strings.CutSuffix(name, ".wal")
	if !ok || len(digits) != 20 {
		return 0, false
	}
	seq, err := strconv.ParseUint(digits, 10, 64)
	return seq, err == nil
}

// scanFile appends the file's good records and damaged stretches to items.
func (s *walScan) scanFile(items []walItem, path string, data []byte, fileSeq, nextFile, sealed uint64) ([]walItem, error) {
	off, bad := 0, -1
	if walHeaderOK(data, fileSeq) {
		off = walFileHeaderLen
	} else {
		bad = 0
	}
	flush := func(end int, reason string) {
		if bad >= 0 {
			d := &WALDamage{File: path, Offset: int64(bad), Bytes: int64(end - bad), Reason: reason}
			d.Torn = nextFile == 0 && end == len(data) && tornTail(data[bad:])
			items = append(items, walItem{damage: d, fileSeq: fileSeq, nextFile: nextFile})
			bad = -1
		}
	}
	for off < len(data) {
		rec, n, ok := walRecordAt(data[off:], max(s.lastSeq, max(fileSeq, 1)-1))
		if !ok {
			if bad < 0 {
				bad = off
			}
			off++
			continue
		}
		flush(off, "no readable record")
		if err := s.take(rec, sealed); err != nil {
			return nil, fmt.Errorf("%s at offset %d: %w", path, off, err)
		}
		items = append(items, walItem{first: rec.FirstSeq, last: rec.FirstSeq + uint64(rec.Count) - 1, fileSeq: fileSeq, nextFile: nextFile})
		off += n
	}
	flush(len(data), "no readable record")
	return items, nil
}

// take keeps the events of a good record above sealed.
func (s *walScan) take(rec wal.Record, sealed uint64) error {
	if s.firstSeq == 0 {
		s.firstSeq = rec.FirstSeq
	}
	s.lastSeq = rec.FirstSeq + uint64(rec.Count) - 1
	s.records = append(s.records, [2]uint64{rec.FirstSeq, s.lastSeq})
	if s.lastSeq <= sealed {
		return nil
	}
	tomb, err := decodeBatch(rec.Payload, rec.FirstSeq, rec.Count, func(i int, ev *Event, _ []byte) {
		if seq := rec.FirstSeq + uint64(i); seq > sealed {
			e := *ev
			s.rows = append(s.rows, segment.Row{Seq: seq, Event: &e})
		}
	})
	if tomb != nil {
		s.tombs = append(s.tombs, tomb)
	}
	return err
}

func walHeaderOK(data []byte, fileSeq uint64) bool {
	return len(data) >= walFileHeaderLen && string(data[:4]) == walMagic && data[4] == walVersion &&
		data[5] == 0 && data[6] == 0 && data[7] == 0 && binary.LittleEndian.Uint64(data[8:]) == fileSeq
}

// walRecordAt decodes a record at the start of b whose checksums hold,
// whose sequence numbers follow prev and whose payload decodes; it returns
// the record and its length.
func walRecordAt(b []byte, prev uint64) (wal.Record, int, bool) {
	if len(b) < walRecHeaderLen {
		return wal.Record{}, 0, false
	}
	le := binary.LittleEndian
	hcrc := crc32.Checksum(b[:16], castagnoli) // the record CRC continues from it

	if hcrc != le.Uint32(b[16:]) {
		return wal.Record{}, 0, false
	}
	length, count, first := le.Uint32(b), le.Uint32(b[4:]), le.Uint64(b[8:])
	if count == 0 || length > wal.MaxPayload || int64(length) > int64(len(b)-walRecHeaderLen) ||
		first <= prev || first+uint64(count)-1 < first {
		return wal.Record{}, 0, false
	}
	payload := b[walRecHeaderLen : walRecHeaderLen+int(length)]
	if crc32.Update(hcrc, castagnoli, payload) != le.Uint32(b[20:]) {
		return wal.Record{}, 0, false
	}
	if _, err := decodeBatch(payload, first, count, func(int, *Event, []byte) {}); err != nil {
		return wal.Record{}, 0, false
	}
	return wal.Record{FirstSeq: first, Count: count, Payload: payload}, walRecHeaderLen + int(length), true
}

// tornTail reports whether a damaged stretch reaching the end of the last
// file looks like an interrupted append: all zero, a partial record header,
// or a record header whose length runs past the end.
func tornTail(b []byte) bool {
	if !slices.ContainsFunc(b, func(c byte) bool { return c != 0 }) || len(b) < walRecHeaderLen {
		return true
	}
	le := binary.LittleEndian
	return crc32.Checksum(b[:16], castagnoli) == le.Uint32(b[16:]) && int64(le.Uint32(b)) > int64(len(b)-walRecHeaderLen)
}

// lostSeqs fills in each damaged stretch's lost range: after the last good
// record before it (or its file's first number) up to before the first
// good record after it (or the next file's first number), above sealed.
func lostSeqs(items []walItem, sealed uint64) []WALDamage {
	var out []WALDamage
	for i, it := range items {
		if it.damage == nil {
			continue
		}
		d := *it.damage
		if !d.Torn {
			d.Lost = lostRange(items, i, sealed)
		}
		out = append(out, d)
	}
	return out
}

func lostRange(items []walItem, i int, sealed uint64) *SeqRange {
	it := items[i]
	first := max(it.fileSeq, sealed+1)
	for j := i - 1; j >= 0; j-- {
		if items[j].damage == nil {
			first = max(first, items[j].last+1)
			break
		}
	}
	var last uint64 // unknown
	if it.nextFile != 0 {
		last = it.nextFile - 1
	}
	for j := i + 1; j < len(items); j++ {
		if items[j].damage == nil {
			last = items[j].first - 1
			break
		}
	}
	if last != 0 && last < first {
		return nil // nothing unsealed could have stood there
	}
	return &SeqRange{First: first, Last: last, Events: -1}
}
