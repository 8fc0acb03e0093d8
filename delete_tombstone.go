package eventlog

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"time"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/corrupt"
	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/query"
	"github.com/eventlogdb/eventlog/query/filter"
)

// A tombstone is one delete by query. It hides every event with a sequence
// number up to Bound that matches Filter and the time range: queries,
// counts and tails leave such events out from the moment it is published,
// and sealing and compaction leave them out of what they write. It lives
// in its WAL record (beside the delete-by-query event, so both are durable
// in one write) and in the manifest until the purge is complete: no head
// holds rows up to Bound and every segment that could holds none (its
// Purged level reached Seq). Then it is forgotten, filter and all.
type tombstone struct {
	// Seq is the sequence number of the delete-by-query event recorded
	// with it; tombstones are ordered by it.
	Seq uint64 `json:"seq"`
	// Bound is the highest sequence number it applies to: events stored
	// after the delete was made survive it even if they match.
	Bound uint64 `json:"bound"`
	// Filter is the KQL filter; Start and End bound @timestamp (RFC 3339,
	// inclusive, "" unbounded), relative times resolved when it was made.
	Filter string `json:"filter"`
	Start  string `json:"start,omitempty"`
	End    string `json:"end,omitempty"`
	// Deleted is how many visible events it hid when it was made;
	// Blocked how many more it selected that incident holds pinned (hidden
	// and purged once released).
	Deleted int `json:"deleted"`
	Blocked int `json:"blocked,omitempty"`

	f            *filter.Filter // compiled by compile
	minTS, maxTS int64
}

// compile parses the filter and time bounds; a tombstone read from disk is
// compiled before use, so a damaged one fails the open, not a read.
func (t *tombstone) compile() error {
	f, err := filter.Parse(t.Filter)
	if err != nil {
		return err
	}
	t.f, t.minTS, t.maxTS = f, math.MinInt64, math.MaxInt64
	for _, b := range []struct {
		s   string
		dst *int64
	}{{t.Start, &t.minTS}, {t.End, &t.maxTS}} {
		if b.s == "" {
			continue
		}
		ts, err := time.Parse(time.RFC3339Nano, b.s)
		if err != nil {
			return err
		}
		*b.dst = ts.UnixNano()
	}
	return nil
}

// hides reports whether the tombstone hides the event stored as seq.
func (t *tombstone) hides(seq uint64, ev *event.Event) bool {
	ts := ev.Timestamp.UnixNano()
	return seq <= t.Bound && ts >= t.minTS && ts <= t.maxTS && t.f.Match(ev)
}

// request is the query selecting the tombstone's events (before Bound).
func (t *tombstone) request() query.Request {
	return query.Request{Filter: t.Filter, Start: t.Start, End: t.End}
}

// tombstones is an ordered (by Seq) list of tombstones; it is never
// modified once published, only replaced.
type tombstones []*tombstone

// upTo returns those with Seq at most seq: the ones a reader at that
// watermark (or a writer whose WAL is durable to it) applies.
func (ts tombstones) upTo(seq uint64) tombstones {
	n := len(ts)
	for n > 0 && ts[n-1].Seq > seq {
		n--
	}
	return ts[:n:n]
}

// hides reports whether any of ts hides the event.
func (ts tombstones) hides(seq uint64, ev *event.Event) bool {
	for _, t := range ts {
		if t.hides(seq, ev) {
			return true
		}
	}
	return false
}

// after returns those a source holding sequence numbers from minSeq, clean
// of every tombstone up to purged, must still apply.
func (ts tombstones) after(purged, minSeq uint64) tombstones {
	var out tombstones
	for _, t := range ts {
		if t.Seq > purged && t.Bound >= minSeq {
			out = append(out, t)
		}
	}
	return out
}

// newest is the highest Seq of ts, 0 when empty.
func (ts tombstones) newest() uint64 {
	if len(ts) == 0 {
		return 0
	}
	return ts[len(ts)-1].Seq
}

// installTombstone adds t (its WAL record just committed or replayed) to
// the live list; a replayed one the manifest already lists is skipped.
// Callers hold stateMu.
func (db *DB) installTombstone(t *tombstone) {
	cur := *db.tombs.Load()
	if slices.ContainsFunc(cur, func(o *tombstone) bool { return o.Seq == t.Seq }) {
		return
	}
	next := append(slices.Clip(cur), t)
	db.tombs.Store(&next)
}

// tombstonesToApply are the tombstones sealing and compaction apply: those
// durable in the WAL (all of them while replaying, when no WAL is open
// yet), so a crash cannot take back a tombstone whose rows are gone.
func (db *DB) tombstonesToApply() tombstones {
	ts := *db.tombs.Load()
	if db.wal == nil {
		return ts
	}
	return ts.upTo(db.wal.DurableSeq())
}

// The WAL record of a delete holds the delete-by-query event's frame
// followed by a control frame: a zero byte (no event's binary form starts
// with one: field ids start at 1), the kind, then the body.
const (
	controlFrame     = 0x00
	controlTombstone = 0x01
)

// appendTombstoneFrame appends t as a control frame body (length-prefixed
// like every frame).
func appendTombstoneFrame(dst []byte, t *tombstone) ([]byte, error) {
	body, err := json.Marshal(t)
	if err != nil {
		return dst, err
	}
	start := len(dst)
	dst = append(dst, 0, 0, 0, controlFrame, controlTombstone)
	dst = append(dst, body...)
	return putFrameLen(dst, start, len(dst)-start-3), nil
}

var errControlFrame = errors.New("unknown control frame")

// decodeControlFrame decodes a frame that starts with controlFrame.
func decodeControlFrame(data []byte) (*tombstone, error) {
	if len(data) < 2 || data[1] != controlTombstone {
		return nil, errControlFrame
	}
	var t tombstone
	if err := json.Unmarshal(data[2:], &t); err != nil {
		return nil, fmt.Errorf("tombstone: %w", err)
	}
	if err := t.compile(); err != nil {
		return nil, fmt.Errorf("tombstone: %w", err)
	}
	return &t, nil
}

// isControlFrame reports whether a frame holds a control record rather
// than an event.
func isControlFrame(data []byte) bool { return len(data) > 0 && data[0] == controlFrame }

// purgedIn reports whether m completes t's purge: t's own record is sealed
// (so no head holds rows up to its Bound) and every segment that could
// hold such rows is clean of it, quarantined ones included (repair may
// write their rows back) and dropped ones whose files are not durably gone
// (a manifest rebuild would find them).
func (db *DB) purgedIn(t *tombstone, m *manifest) bool {
	if m.SealedSeq < t.Seq {
		return false
	}
	db.removingMu.Lock()
	removing := slices.Collect(maps.Values(db.removing))
	db.removingMu.Unlock()
	for _, segs := range [][]segmentMeta{m.Segments, db.quarantinedMetas, removing} {
		for _, s := range segs {
			if s.MinSeq <= t.Bound && s.Purged < t.Seq {
				return false
			}
		}
	}
	return true
}

// withTombstones sets the tombstones m must carry: the live ones whose
// purge m does not complete. Callers hold manifestMu.
func (db *DB) withTombstones(m *manifest) {
	m.Tombstones = nil
	for _, t := range *db.tombs.Load() {
		if !db.purgedIn(t, m) {
			m.Tombstones = append(m.Tombstones, t)
		}
	}
}

// retireTombstones forgets the tombstones whose purge the manifest m, now
// written, completes. Callers hold stateMu.
func (db *DB) retireTombstonesLocked(m *manifest) {
	cur := *db.tombs.Load()
	keep := slices.DeleteFunc(slices.Clone(cur), func(t *tombstone) bool { return db.purgedIn(t, m) })
	if len(keep) == len(cur) {
		return
	}
	for _, t := range cur {
		if db.purgedIn(t, m) {
			db.log.Info("eventlog: delete by query purged from disk", "seq", t.Seq, "deleted", t.Deleted)
		}
	}
	db.tombs.Store(&keep)
}

// tombstonesFile keeps the tombstones redundantly, so that a rebuilt
// manifest cannot forget a delete: every tombstone of the manifest and of
// the previous manifest (MANIFEST.prev), written crash-safely before any
// manifest whose tombstones it does not hold yet (writeManifest). It has
// the manifest's envelope: indented JSON, then "crc32c XXXXXXXX\n".
const tombstonesFile = "TOMBSTONES"

// tombstonesVersion is the version of the TOMBSTONES format; readers refuse
// newer ones.
const tombstonesVersion = 1

// tombstonesDoc is the content of TOMBSTONES.
type tombstonesDoc struct {
	Version    int        `json:"version"`
	Tombstones tombstones `json:"tombstones"`
}

var errTombstonesFile = corrupt.New("tombstones file is damaged")

func encodeTombstonesFile(ts tombstones) ([]byte, error) {
	if ts == nil {
		ts = tombstones{}
	}
	return encodeChecksummed(&tombstonesDoc{Version: tombstonesVersion, Tombstones: ts})
}

// decodeTombstonesFile decodes and compiles the tombstones of a TOMBSTONES
// file.
func decodeTombstonesFile(data []byte) (tombstones, error) {
	var doc tombstonesDoc
	if err := decodeChecksummed(data, &doc, errTombstonesFile); err != nil {
		return nil, err
	}
	if doc.Version < 1 || doc.Version > tombstonesVersion {
		return nil, fmt.Errorf("%w: format version %d, this eventlog reads 1..%d", errTombstonesFile, doc.Version, tombstonesVersion)
	}
	if err := doc.Tombstones.check(errTombstonesFile); err != nil {
		return nil, err
	}
	return doc.Tombstones, nil
}

// check validates tombstones read from disk (in increasing Seq order, each
// compiling), wrapping damaged.
func (ts tombstones) check(damaged error) error {
	for i, t := range ts {
		if t == nil || (i > 0 && t.Seq <= ts[i-1].Seq) {
			return fmt.Errorf("%w: tombstone %d is missing or out of order", damaged, i)
		}
		if err := t.compile(); err != nil {
			return fmt.Errorf("%w: tombstone %d (seq %d): %v", damaged, i, t.Seq, err)
		}
	}
	return nil
}

// readTombstonesFile reads dir's TOMBSTONES; a missing file is returned as
// fs.ErrNotExist.
func readTombstonesFile(fsys vfs.FS, dir string) (tombstones, error) {
	path := filepath.Join(dir, tombstonesFile)
	data, err := vfs.ReadFile(fsys, path)
	if err != nil {
		return nil, err
	}
	ts, err := decodeTombstonesFile(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ts, nil
}

// keepTombstones makes TOMBSTONES hold every tombstone of m and of cur (the
// manifest m replaces; nil when there is none or it is damaged), writing it
// only when its bytes change.
func keepTombstones(fsys vfs.FS, dir string, m, cur *manifest) error {
	want := m.Tombstones
	if cur != nil {
		want = unionTombstones(want, cur.Tombstones)
	}
	data, err := encodeTombstonesFile(want)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, tombstonesFile)
	if have, err := vfs.ReadFile(fsys, path); err == nil && bytes.Equal(have, data) {
		return nil
	}
	if err := vfs.WriteFileAtomic(fsys, path, data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// unionTombstones returns the tombstones of every list, one per Seq, in Seq
// order.
func unionTombstones(lists ...tombstones) tombstones {
	var out tombstones
	for _, l := range lists {
		for _, t := range l {
			if !slices.ContainsFunc(out, func(o *tombstone) bool { return o.Seq == t.Seq }) {
				out = append(out, t)
			}
		}
	}
	slices.SortFunc(out, func(a, b *tombstone) int { return cmp.Compare(a.Seq, b.Seq) })
	return out
}
