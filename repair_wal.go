package eventlog

import (
	"errors"
	"path/filepath"

	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/segment"
	"github.com/eventlogdb/eventlog/wal"
)

// WAL salvage: wal.Salvage reads every record that still checks out, past
// damage too; repair turns their events into segments.

// repairWAL salvages a WAL damaged mid-log: its good records go into
// segments (sealed_seq raised past them, so replay will not see them
// twice), then the wal package truncates the log at the damage.
func (r *repairer) repairWAL() error {
	walDir := filepath.Join(r.dir, "wal")
	w, err := wal.Open(wal.Options{FS: r.fs, Dir: walDir, ReadOnly: true}, r.m.SealedSeq, nil)
	if err == nil {
		return w.Close()
	}
	if !errors.Is(err, wal.ErrCorrupt) {
		return err
	}
	r.log.Warn("eventlog: repair: WAL damaged; salvaging every good record", "err", err)
	scan, serr := salvageWAL(r.fs, walDir, r.m.SealedSeq)
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
	var lost []SeqRange
	for _, d := range scan.damage {
		if d.Lost != nil {
			lost = append(lost, *d.Lost)
		}
	}
	if err := r.recordRepairLoss(lost, r.m.Segments, rowSet(scan.rows)); err != nil { // before the log is cut
		return err
	}
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
	w, err := wal.Open(wal.Options{FS: r.fs, Dir: walDir, Repair: true, Logger: r.log}, r.m.SealedSeq, nil)
	if err != nil {
		return err
	}
	return errors.Join(w.Checkpoint(r.m.SealedSeq), w.Close())
}

// walScan is what repair takes from a damaged log.
type walScan struct {
	rows     []segment.Row // events of good records above the sealed seq
	tombs    []*tombstone  // tombstones of those records: they must survive the WAL
	lastSeq  uint64        // last sequence number of the last good record
	firstSeq uint64        // first sequence number of the first good record, 0 if none
	records  [][2]uint64   // first and last sequence number of every good record
	damage   []WALDamage
}

// salvageWAL reads every good record of the log in dir (wal.Salvage),
// keeping the events above sealed.
func salvageWAL(fsys vfs.FS, dir string, sealed uint64) (*walScan, error) {
	s := &walScan{}
	decodes := func(rec wal.Record) bool {
		_, err := decodeBatch(rec.Payload, rec.FirstSeq, rec.Count, func(int, *Event, []byte) {})
		return err == nil
	}
	damage, err := wal.Salvage(fsys, dir, decodes, func(rec wal.Record) error { return s.take(rec, sealed) })
	if err != nil {
		return nil, err
	}
	for _, d := range damage {
		s.damage = append(s.damage, walDamage(d, sealed))
	}
	return s, nil
}

// walDamage is d for the report: its lost range above sealed (nil when
// every number that could have stood there is in segments).
func walDamage(d wal.Damage, sealed uint64) WALDamage {
	out := WALDamage{File: d.File, Offset: d.Offset, Bytes: d.Bytes, Reason: d.Reason, Torn: d.Torn}
	if l := d.Lost; l != nil {
		if first := max(l.First, sealed+1); l.Last == 0 || l.Last >= first {
			out.Lost = &SeqRange{First: first, Last: l.Last, Events: -1}
		}
	}
	return out
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
