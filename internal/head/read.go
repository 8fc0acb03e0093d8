package head

import (
	"math"
	"slices"
	"sort"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/google/btree"
)

// Query is what the head answers directly: a time range, equality terms and
// an order, resuming after a position, up to a limit.
type Query struct {
	// MinTS and MaxTS bound @timestamp (Unix ns), both inclusive.
	MinTS, MaxTS int64
	// Groups are ANDed; the terms inside a group are ORed. Empty matches all.
	Groups [][]Term
	// Desc orders newest first.
	Desc bool
	// After, when set, resumes after that (timestamp, sequence) position in
	// the query's order (exclusive).
	After *Position
	// Limit caps the result; 0 means no limit.
	Limit int
}

// Position is a place in (@timestamp, sequence) order.
type Position struct {
	TS  int64
	Seq uint64
}

// AllTime is the widest time range.
const (
	MinTime = math.MinInt64
	MaxTime = math.MaxInt64
)

// Snapshot is a frozen view of the head: the rows published when it was
// taken. It is safe for concurrent use and needs no release.
type Snapshot struct {
	h    *Head
	tree *btree.BTreeG[Item]
	rows []Item // visible rows by row number
}

// Snapshot freezes the currently published rows.
func (h *Head) Snapshot() *Snapshot {
	h.mu.Lock()
	defer h.mu.Unlock()
	pub := h.published.Load()
	n := sort.Search(len(h.rows), func(i int) bool { return h.rows[i].Seq > pub })
	return &Snapshot{h: h, tree: h.tree.Clone(), rows: h.rows[:n:n]}
}

// Len returns the number of visible rows.
func (s *Snapshot) Len() int { return len(s.rows) }

// Find returns the matching rows in the query's order.
func (s *Snapshot) Find(q Query) []Item {
	if len(q.Groups) == 0 {
		return s.scan(q, nil)
	}
	bm := s.match(q.Groups)
	// A selective match is cheaper to sort than to find by walking the
	// tree; a broad one is cheaper to filter during the walk.
	if bm.GetCardinality()*16 < uint64(len(s.rows)) {
		return s.collect(q, bm)
	}
	return s.scan(q, bm)
}

// match evaluates the term groups to a bitmap of visible rows.
func (s *Snapshot) match(groups [][]Term) *roaring.Bitmap {
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

// inRange reports whether it is within the query's time range and after
// its resume position.
func (q *Query) inRange(it Item) bool {
	if it.TS < q.MinTS || it.TS > q.MaxTS {
		return false
	}
	if q.After == nil {
		return true
	}
	p := Item{TS: q.After.TS, Seq: q.After.Seq}
	if q.Desc {
		return less(it, p)
	}
	return less(p, it)
}

func (s *Snapshot) collect(q Query, bm *roaring.Bitmap) []Item {
	var out []Item
	it := bm.Iterator()
	for it.HasNext() {
		item := s.rows[it.Next()]
		if q.inRange(item) {
			out = append(out, item)
		}
	}
	slices.SortFunc(out, func(a, b Item) int {
		if q.Desc {
			return Compare(b, a)
		}
		return Compare(a, b)
	})
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out
}

func (s *Snapshot) scan(q Query, bm *roaring.Bitmap) []Item {
	var out []Item
	visit := func(it Item) bool {
		if !q.inRange(it) {
			// The walk starts at the range's edge, so an item out of range
			// can only be a resume position's equal or the far edge.
			return it.TS >= q.MinTS && it.TS <= q.MaxTS
		}
		if int(it.Row) < len(s.rows) && (bm == nil || bm.Contains(it.Row)) {
			out = append(out, it)
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
func (s *Snapshot) bounds(q Query) (lo, hi Item) {
	lo = Item{TS: q.MinTS}
	hi = Item{TS: q.MaxTS, Seq: math.MaxUint64}
	if q.After != nil {
		p := Item{TS: q.After.TS, Seq: q.After.Seq}
		if !q.Desc && less(lo, p) {
			lo = p
		}
		if q.Desc && less(p, hi) {
			hi = p
		}
	}
	return lo, hi
}

// Rows returns every visible row in sequence order (for sealing and tests).
func (s *Snapshot) Rows() []Item { return s.rows }
