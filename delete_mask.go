package eventlog

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

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
	// holdsGen is the generation of the holds whose rows were left out.
	holdsGen uint64
}

// hiddenRows returns the rows of src that tombs hide (nil when none can):
// key identifies the source, minSeq is its lowest sequence number and
// purged the tombstone level it is already clean of. Rows an incident
// hold pins are not hidden: a hold wins over a delete until released.
func (db *DB) hiddenRows(ctx context.Context, key any, src query.Source, minSeq, purged uint64, tombs tombstones) (*roaring.Bitmap, error) {
	apply := tombs.after(purged, minSeq)
	if len(apply) == 0 {
		return nil, nil
	}
	newest := apply.newest()
	gen := db.holdsGen.Load() // before the holds: a change after it makes the mask stale
	holds := db.liveHolds()
	db.masks.mu.Lock()
	cached, ok := db.masks.m[key]
	db.masks.mu.Unlock()
	ok = ok && cached.holdsGen == gen
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
		if hs := holds.forTomb(t); len(hs) > 0 && !r.IsEmpty() {
			held, err := heldRows(ctx, src, hs)
			if err != nil {
				return nil, err
			}
			r.AndNot(held)
		}
		rows.Or(r)
	}
	db.masks.store(key, sourceMask{upTo: newest, rows: rows, holdsGen: gen}, db.state.Load())
	return rows, nil
}

// heldRows returns the rows of src that holds pin.
func heldRows(ctx context.Context, src query.Source, holds holdSet) (*roaring.Bitmap, error) {
	r, err := query.MatchingRows(ctx, src, query.Request{Filter: holds.kql()}, time.Time{}, math.MaxUint64)
	if err != nil {
		return nil, fmt.Errorf("rows incident holds pin: %w", err)
	}
	return r, nil
}

// blockedRows returns the rows of src that a tombstone of tombs selects
// but a hold made before it pins: what the delete erases once the holds
// are released.
func blockedRows(ctx context.Context, src query.Source, tombs tombstones, holds holdSet) (*roaring.Bitmap, error) {
	out := roaring.New()
	if len(holds) == 0 || len(tombs) == 0 {
		return out, nil
	}
	for _, t := range tombs {
		hs := holds.forTomb(t)
		if len(hs) == 0 {
			continue
		}
		r, err := query.MatchingRows(ctx, src, t.request(), time.Time{}, t.Bound)
		if err != nil {
			return nil, fmt.Errorf("rows deleted by tombstone %d: %w", t.Seq, err)
		}
		held, err := heldRows(ctx, src, hs)
		if err != nil {
			return nil, err
		}
		r.And(held)
		out.Or(r)
	}
	return out, nil
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
