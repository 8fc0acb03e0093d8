package eventlog

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/eventlogdb/eventlog/internal/match"
	"github.com/eventlogdb/eventlog/query"
	"github.com/eventlogdb/eventlog/segment"
)

// Damage found while serving. Open cannot see a damaged data block (it
// checks only the footer, indexes and postings), so the first read of the
// block — a query, export, tail or compaction merge — finds it: its
// checksum fails. That read's error is confirmed —
// the file is opened afresh and verified whole, so a passing fault (a bad
// read, a flipped bit in memory) never sets a healthy file aside — and the
// segment is then quarantined as Open would have done: moved to
// quarantine/ with its sidecar, dropped from the manifest and the live
// state, named in Stats.Quarantined and logged once. The store keeps it
// mapped until Close, so queries that allow a partial answer still read
// its intact blocks; every other read that reaches a damaged range fails
// with a *CorruptionError naming the file and block, and tails stop before
// it.

// damagedSegment is a segment set aside as damaged: quarantined at open
// (seg nil: nothing of it is readable) or while serving (seg kept mapped
// when only blocks are damaged, one reference held by the registry).
type damagedSegment struct {
	name string
	seg  *liveSegment
	// damage lists the damaged blocks, or the whole file (Block -1).
	damage []query.Damage
}

// damageRegistry holds the damaged segments; the list is replaced whole,
// so readers load it without a lock.
type damageRegistry struct {
	mu   sync.Mutex // one confirmation at a time
	segs atomic.Pointer[[]*damagedSegment]
}

// load returns the damaged segments.
func (r *damageRegistry) load() []*damagedSegment {
	if p := r.segs.Load(); p != nil {
		return *p
	}
	return nil
}

// add registers d; callers hold r.mu.
func (r *damageRegistry) add(d *damagedSegment) {
	segs := append(slices.Clip(r.load()), d)
	r.segs.Store(&segs)
}

// names returns the damaged segments' file names, in the order found.
func (r *damageRegistry) names() []string {
	var out []string
	for _, d := range r.load() {
		out = append(out, d.name)
	}
	return out
}

// find returns the damaged segment of the given file name, nil if none.
func (r *damageRegistry) find(name string) *damagedSegment {
	for _, d := range r.load() {
		if d.name == name {
			return d
		}
	}
	return nil
}

// release drops the registry's references and empties it, at Close.
func (r *damageRegistry) release() error {
	var errs []error
	for _, d := range r.load() {
		if d.seg != nil {
			errs = append(errs, d.seg.release())
		}
	}
	r.segs.Store(nil)
	return errors.Join(errs...)
}

// wholeFileDamage describes a segment of which nothing is readable, from
// its manifest entry; an entry without bounds (no sidecar) may hold
// anything.
func wholeFileDamage(meta segmentMeta, reason string) query.Damage {
	d := query.Damage{File: meta.Name, Block: -1, Events: meta.Events, MinSeq: meta.MinSeq, MaxSeq: meta.MaxSeq,
		MinTS: meta.MinTS, MaxTS: meta.MaxTS, Reason: reason, Source: -1}
	if meta.MaxSeq == 0 {
		d.MinSeq, d.MaxSeq, d.MinTS, d.MaxTS = 0, math.MaxUint64, math.MinInt64, math.MaxInt64
	}
	return d
}

// registerQuarantined records the segments in quarantine/ at open: their
// events are not served, so reads that reach their ranges must say so.
func (db *DB) registerQuarantined(metas []segmentMeta) {
	db.damage.mu.Lock()
	defer db.damage.mu.Unlock()
	for _, m := range metas {
		db.damage.add(&damagedSegment{name: m.Name, damage: []query.Damage{
			wholeFileDamage(m, "set aside in quarantine/: run eventlog repair"),
		}})
	}
}

// checkDamage looks at the error of a read: a segment's checksum or
// structure failure is confirmed and its segment quarantined (see above),
// and the read then fails with a *CorruptionError naming the file and
// block. Any other error, or damage the check does not confirm, is
// returned as it is.
func (db *DB) checkDamage(err error) error {
	var ce *segment.CorruptionError
	if !errors.As(err, &ce) {
		return err
	}
	db.damage.mu.Lock()
	defer db.damage.mu.Unlock()
	if d := db.damage.find(filepath.Base(ce.File)); d != nil { // another read got here first
		return corruptionError(d, ce)
	}
	s := db.liveSegmentAt(ce.File)
	if s == nil {
		return err // compacted or dropped meanwhile
	}
	defer s.release()
	d, verr := confirmDamage(s)
	if d == nil {
		db.log.Warn("eventlog: a segment read failed a check that a fresh read of the file does not confirm; not set aside",
			"segment", s.meta.Name, "err", err, "check", verr)
		return err
	}
	db.quarantineLive(s, d, err)
	return corruptionError(d, ce)
}

// liveSegmentAt returns the live segment read from path, acquired, or nil.
func (db *DB) liveSegmentAt(path string) *liveSegment {
	for _, s := range db.state.Load().segments {
		if s.r.Path() == path && s.acquire() {
			return s
		}
	}
	return nil
}

// corruptionError is the answer of a read that met damage d: the damaged
// block it read when d lists it, else d's first range.
func corruptionError(d *damagedSegment, ce *segment.CorruptionError) error {
	for _, dm := range d.damage {
		if dm.Block == ce.Block || dm.Block < 0 {
			return &CorruptionError{Damage: dm, Err: ce}
		}
	}
	return &CorruptionError{Damage: d.damage[0], Err: ce}
}

// confirmDamage re-reads s's file through a new reader and verifies it
// whole. It returns the damage found; nil when the file is clean, or with
// the error when it cannot be checked (an I/O failure is not damage).
func confirmDamage(s *liveSegment) (*damagedSegment, error) {
	if s.path == "" {
		return nil, errors.New("opened by Options.OpenSegment: no local file to check again")
	}
	r, err := segment.Open(s.r.Path(), segment.OpenOptions{})
	if errors.Is(err, segment.ErrCorrupt) {
		return &damagedSegment{name: s.meta.Name, damage: []query.Damage{wholeFileDamage(s.meta, err.Error())}}, nil
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	verr := r.Verify()
	if verr == nil {
		return nil, nil
	}
	if !errors.Is(verr, segment.ErrCorrupt) {
		return nil, verr
	}
	return damageOf(s, r.Blocks(), verr), nil
}

// damageOf lists the damage Verify found: the damaged blocks when only
// blocks are (the rest stays readable), else the whole file.
func damageOf(s *liveSegment, blocks []match.Block, verr error) *damagedSegment {
	d := &damagedSegment{name: s.meta.Name}
	for _, e := range joined(verr) {
		var ce *segment.CorruptionError
		if !errors.As(e, &ce) || ce.Section != segment.SectionBlock || ce.Block < 0 || ce.Block >= len(blocks) {
			return &damagedSegment{name: s.meta.Name, damage: []query.Damage{wholeFileDamage(s.meta, verr.Error())}}
		}
		if slices.ContainsFunc(d.damage, func(x query.Damage) bool { return x.Block == ce.Block }) {
			continue
		}
		b := blocks[ce.Block]
		d.damage = append(d.damage, query.Damage{File: s.meta.Name, Block: ce.Block, Events: int(b.Rows),
			MinSeq: b.MinSeq, MaxSeq: b.MaxSeq, MinTS: b.MinTS, MaxTS: b.MaxTS,
			Reason: ce.Err.Error(), FirstRow: b.FirstRow, Rows: b.Rows})
	}
	d.seg = s
	return d
}

// joined returns the errors err joins, or err alone.
func joined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, joined(e)...)
		}
		return out
	}
	return []error{err}
}

// quarantineLive sets aside a segment found damaged while serving: its
// file goes to quarantine/ with its sidecar and leaves the manifest (not
// when read-only), and it leaves the live state. Readers holding it finish
// (it stays mapped); when its intact blocks are readable the registry
// keeps it for partial answers. Callers hold db.damage.mu.
func (db *DB) quarantineLive(s *liveSegment, d *damagedSegment, reason error) {
	db.manifestMu.Lock()
	defer db.manifestMu.Unlock()
	if !slices.ContainsFunc(db.manifest.Segments, func(m segmentMeta) bool { return m.Name == s.meta.Name }) {
		return // dropped meanwhile
	}
	db.log.Error("eventlog: damaged segment found while serving; set aside in quarantine, reads that reach it fail (or with allow_partial answer without it)",
		"segment", s.meta.Name, "events", s.meta.Events, "min_seq", s.meta.MinSeq, "max_seq", s.meta.MaxSeq,
		"damage", damageNames(d.damage), "err", reason)
	if !db.opts.ReadOnly {
		db.unlistDamaged(s.meta, reason)
	}
	if d.seg != nil {
		d.seg.acquire() // the registry's reference
	}
	db.damage.add(d) // published before the state drops s: a reader sees s in one of them
	db.stateMu.Lock()
	st := *db.state.Load()
	st.segments = slices.DeleteFunc(slices.Clone(st.segments), func(x *liveSegment) bool { return x == s })
	st.changed = make(chan struct{})
	db.setStateLocked(&st)
	db.stateMu.Unlock()
	s.release() // the live state's reference
}

// unlistDamaged moves a damaged segment's file to quarantine/ and writes a
// manifest without it, keeping its tombstones (repair may bring its rows
// back). Failing to move it, it stays listed: not served now, and checked
// again by the next open. Callers hold manifestMu.
func (db *DB) unlistDamaged(meta segmentMeta, reason error) {
	if err := db.quarantine(meta, reason); err != nil {
		db.log.Error("eventlog: could not move damaged segment to quarantine", "segment", meta.Name, "err", err)
		return
	}
	db.quarantinedMetas = append(db.quarantinedMetas, meta)
	m := db.manifest.clone()
	m.Segments = slices.DeleteFunc(m.Segments, func(x segmentMeta) bool { return x.Name == meta.Name })
	db.withTombstones(m)
	if err := writeManifest(db.opts.FS, db.dir, m); err != nil {
		db.log.Error("eventlog: could not write the manifest without a quarantined segment", "segment", meta.Name, "err", err)
		return
	}
	db.notifyManifest(m)
	db.manifest = m
}

// damageNames names the damaged ranges, for logs.
func damageNames(ds []query.Damage) []string {
	out := make([]string, len(ds))
	for i := range ds {
		out[i] = ds[i].String()
	}
	return out
}

// parkSeq is where a tail reading from seq next must stop: the first
// sequence number of the first damaged range it has not passed, MaxUint64
// when none is ahead.
func (db *DB) parkSeq(next uint64) (uint64, *query.Damage) {
	stop, at := uint64(math.MaxUint64), (*query.Damage)(nil)
	for _, d := range db.damage.load() {
		for i := range d.damage {
			dm := &d.damage[i]
			if dm.MaxSeq >= next && dm.MinSeq < stop {
				stop, at = dm.MinSeq, dm
			}
		}
	}
	return stop, at
}

// errTailParked formats the error of a tail stopped at damage d.
func errTailParked(d *query.Damage) error {
	return fmt.Errorf("eventlog: tail: stopped before %w", &CorruptionError{Damage: *d})
}
