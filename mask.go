package eventlog

import (
	"context"
	"fmt"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eventlogdb/eventlog/internal/head"
	"github.com/eventlogdb/eventlog/query"
)

// maskCache keeps, per head and segment, the rows the tombstones hide.
// Both are stable: a segment never changes, a head only grows past the
// rows a tombstone can reach (those up to its Bound, all present once the
// tombstone is visible), and tombstones only come in Seq order. So a mask
// computed once holds until a newer tombstone applies to the source.
type maskCache struct {
	mu sync.Mutex
	m  map[any]sourceMask // by *head.Head or *liveSegment
}

// sourceMask is the rows hidden by every tombstone up to upTo that applies
// to a source. rows is never modified once stored.
type sourceMask struct {
	upTo uint64
	rows *roaring.Bitmap
}

// hiddenRows returns the rows of src that tombs hide (nil when none can):
// key identifies the source, minSeq is its lowest sequence number and
// purged the tombstone level it is already clean of.
func (db *DB) hiddenRows(ctx context.Context, key any, src query.Source, minSeq, purged uint64, tombs tombstones) (*roaring.Bitmap, error) {
	apply := tombs.after(purged, minSeq)
	if len(apply) == 0 {
		return nil, nil
	}
	newest := apply.newest()
	db.masks.mu.Lock()
	cached, ok := db.masks.m[key]
	db.masks.mu.Unlock()
	if ok && cached.upTo >= newest {
		return cached.rows, nil
	}
	rows := roaring.New()
	if ok {
		rows = cached.rows.Clone()
	}
	for _, t := range apply {
		if ok && t.Seq <= cached.upTo {
			continue
		}
		// Tombstone times are absolute: the clock plays no part.
		r, err := query.MatchingRows(ctx, src, t.request(), db.opts.Now(), t.Bound)
		if err != nil {
			return nil, fmt.Errorf("rows deleted by tombstone %d: %w", t.Seq, err)
		}
		rows.Or(r)
	}
	db.masks.store(key, sourceMask{upTo: newest, rows: rows}, db.state.Load())
	return rows, nil
}

// store caches a mask, first forgetting the masks of sources no longer
// in the current state.
func (c *maskCache) store(key any, m sourceMask, st *state) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[any]sourceMask{}
	}
	live := map[any]bool{st.active: true}
	for _, h := range st.frozen {
		live[h] = true
	}
	for _, s := range st.segments {
		live[s] = true
	}
	for k := range c.m {
		if !live[k] {
			delete(c.m, k)
		}
	}
	c.m[key] = m
}

// readSnapshot is what one read sees: a view, its watermark, the
// tombstones visible at it, and the rows they hide per source.
type readSnapshot struct {
	view
	pub        uint64
	tombs      tombstones
	headSnaps  []*head.Snapshot
	headHidden []*roaring.Bitmap
	segHidden  []*roaring.Bitmap
	damHidden  []*roaring.Bitmap // of the view's readable damaged segments
	anyHidden  bool
}

// acquireSnapshot takes a consistent snapshot for a read: the watermark
// first (every row up to it is in the view), then the tombstones (every
// one visible at the watermark was installed before it was published),
// then the view (so a tombstone retired meanwhile only finds sources it is
// purged from). The caller closes it.
func (db *DB) acquireSnapshot(ctx context.Context) (*readSnapshot, error) {
	pub := db.published.Load()
	tombs := db.tombs.Load().upTo(pub)
	rs := &readSnapshot{view: db.acquireView(), pub: pub, tombs: tombs}
	for _, h := range rs.heads {
		rs.headSnaps = append(rs.headSnaps, h.SnapshotAt(pub))
	}
	if len(tombs) == 0 {
		return rs, nil
	}
	rs.headHidden = make([]*roaring.Bitmap, len(rs.heads))
	for i, h := range rs.heads {
		hidden, err := db.hiddenRows(ctx, h, rs.headSnaps[i], h.Stats().FirstSeq, 0, tombs)
		if err != nil {
			rs.close()
			return nil, err
		}
		rs.headHidden[i] = hidden
		rs.anyHidden = rs.anyHidden || hidden != nil
	}
	rs.segHidden = make([]*roaring.Bitmap, len(rs.segments))
	for i, s := range rs.segments {
		hidden, err := db.hiddenRows(ctx, s, s.r, s.meta.MinSeq, s.purged.Load(), tombs)
		if err != nil {
			rs.close()
			return nil, fmt.Errorf("segment %s: %w", s.meta.Name, err)
		}
		rs.segHidden[i] = hidden
		rs.anyHidden = rs.anyHidden || hidden != nil
	}
	for _, s := range rs.readableDamaged() {
		hidden, err := db.hiddenRows(ctx, s, s.r, s.meta.MinSeq, s.purged.Load(), tombs)
		if err != nil {
			rs.close()
			return nil, fmt.Errorf("segment %s: %w", s.meta.Name, err)
		}
		rs.damHidden = append(rs.damHidden, hidden)
		rs.anyHidden = rs.anyHidden || hidden != nil
	}
	return rs, nil
}

// readableDamaged returns the damaged segments whose intact blocks can be
// read, in the view's order.
func (v view) readableDamaged() []*liveSegment {
	var out []*liveSegment
	for _, d := range v.damaged {
		if d.seg != nil {
			out = append(out, d.seg)
		}
	}
	return out
}

// query is the snapshot as the query executor takes it.
func (rs *readSnapshot) query() query.Snapshot {
	snap := query.Snapshot{MaxSeq: rs.pub}
	for _, s := range rs.headSnaps {
		snap.Sources = append(snap.Sources, s)
	}
	for _, s := range rs.segments {
		snap.Sources = append(snap.Sources, s.r)
	}
	if rs.anyHidden {
		snap.Hidden = append(append(snap.Hidden, rs.headHidden...), rs.segHidden...)
		snap.Hidden = append(snap.Hidden, rs.damHidden...)
	}
	for _, d := range rs.damaged {
		src := -1
		if d.seg != nil {
			src = len(snap.Sources)
			snap.Sources = append(snap.Sources, d.seg.r)
		}
		for _, dm := range d.damage {
			dm.Source = src
			snap.Damaged = append(snap.Damaged, dm)
		}
	}
	return snap
}
