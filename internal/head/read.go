package head

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/google/btree"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/internal/match"
)

// Snapshot is a frozen view of the head: the rows published when it was
// taken. It is safe for concurrent use and needs no release.
type Snapshot struct {
	h    *Head
	tree *btree.BTreeG[key]
	rows []Item // visible rows by row number
	keys snapshotKeys
}

// Snapshot freezes the currently published rows.
func (h *Head) Snapshot() *Snapshot { return h.SnapshotAt(h.published.Load()) }

// SnapshotAt freezes the rows with sequence numbers up to pub, which must
// not be above the published watermark. A reader of several heads and
// segments passes them all one watermark so they agree on what is visible.
func (h *Head) SnapshotAt(pub uint64) *Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := sort.Search(len(h.rows), func(i int) bool { return h.rows[i].Seq > pub })
	return &Snapshot{h: h, tree: h.tree.Clone(), rows: h.rows[:n:n]}
}

// Find returns the matching rows in the query's order.
func (s *Snapshot) Find(q match.Query) []Item {
	if len(q.Groups) == 0 {
		return s.scan(q, nil)
	}
	bm := s.postings(q.Groups)
	// A selective match is cheaper to sort than to find by walking the
	// tree; a broad one is cheaper to filter during the walk.
	if bm.GetCardinality()*16 < uint64(len(s.rows)) {
		return s.collect(q, bm)
	}
	return s.scan(q, bm)
}

// postings evaluates the term groups to a new bitmap of visible rows (the
// head's own bitmaps are only read: FastOr returns a copy).
func (s *Snapshot) postings(groups [][]index.Term) *roaring.Bitmap {
	s.h.mu.RLock()
	defer s.h.mu.RUnlock()
	var result *roaring.Bitmap
	for _, g := range groups {
		ors := make([]*roaring.Bitmap, 0, len(g))
		for _, t := range g {
			if bm := s.h.postings[t]; bm != nil {
				ors = append(ors, bm)
			}
		}
		u := roaring.FastOr(ors...)
		if result == nil {
			result = u
		} else {
			result.And(u)
		}
		if result.IsEmpty() {
			return result
		}
	}
	result.RemoveRange(uint64(len(s.rows)), math.MaxUint32+1)
	return result
}

func (s *Snapshot) collect(q match.Query, bm *roaring.Bitmap) []Item {
	var out []Item
	it := bm.Iterator()
	for it.HasNext() {
		item := s.rows[it.Next()]
		if q.Includes(item.Position) {
			out = append(out, item)
		}
	}
	slices.SortFunc(out, func(a, b Item) int {
		return q.InOrder(a.Position, b.Position)
	})
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out
}

func (s *Snapshot) scan(q match.Query, bm *roaring.Bitmap) []Item {
	var out []Item
	visit := func(k key) bool {
		if !q.Includes(k.Position) {
			// The walk starts at the range's edge, so an item out of range
			// can only be a resume position's equal or the far edge.
			return k.TS >= q.MinTS && k.TS <= q.MaxTS
		}
		if int(k.Row) < len(s.rows) && (bm == nil || bm.Contains(k.Row)) {
			out = append(out, s.rows[k.Row])
		}
		return q.Limit == 0 || len(out) < q.Limit
	}
	lo, hi := s.bounds(q)
	if q.Desc {
		s.tree.DescendLessOrEqual(hi, visit)
	} else {
		s.tree.AscendGreaterOrEqual(lo, visit)
	}
	return out
}

// bounds returns where an ascending walk starts and a descending one starts.
func (s *Snapshot) bounds(q match.Query) (lo, hi key) {
	lo = key{Position: match.Position{TS: q.MinTS}}
	hi = key{Position: match.Position{TS: q.MaxTS, Seq: math.MaxUint64}}
	if q.After != nil {
		p := key{Position: *q.After}
		if !q.Desc && less(lo, p) {
			lo = p
		}
		if q.Desc && less(p, hi) {
			hi = p
		}
	}
	return lo, hi
}

// Sorted returns every row of the head, published or not, in (@timestamp,
// sequence) order. Sealing uses it on a head that no longer takes inserts.
func (h *Head) Sorted() []Item {
	h.mu.Lock()
	tree := h.tree.Clone()
	rows := h.rows
	h.mu.Unlock()
	out := make([]Item, 0, len(rows))
	tree.Ascend(func(k key) bool {
		out = append(out, rows[k.Row])
		return true
	})
	return out
}

// EachSeq calls fn, in sequence order, with every visible row whose
// sequence number is within [lo, hi], decoded. Rows are stored in sequence
// order, so this is a binary search and a walk.
func (s *Snapshot) EachSeq(lo, hi uint64, fn func(seq uint64, ev *event.Event)) error {
	i := sort.Search(len(s.rows), func(i int) bool { return s.rows[i].Seq >= lo })
	for ; i < len(s.rows) && s.rows[i].Seq <= hi; i++ {
		ev, err := event.DecodeBinary(s.rows[i].Data)
		if err != nil {
			return fmt.Errorf("head: event %d: %w", s.rows[i].Seq, err)
		}
		fn(s.rows[i].Seq, &ev)
	}
	return nil
}
