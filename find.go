package eventlog

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/internal/match"
)

// Order is the order of Find results by @timestamp (then sequence number).
type Order int

// The orders.
const (
	Ascending Order = iota
	Descending
)

// Term matches events whose indexed Field equals one of Values.
type Term struct {
	Field  string
	Values []string
}

// RefFilter matches events that reference saved objects of one Type with one
// of IDs, in one space.
type RefFilter struct {
	Type string
	IDs  []string
	// Space is the refs' namespace; "" means the default space.
	Space string
	// PrimaryOnly matches only refs with rel "primary", as the Kibana event
	// log's _find API does; false matches any ref.
	PrimaryOnly bool
}

// FindRequest selects events. Every condition set must hold (AND).
//
// Find and Count are the storage core's lower-level reads: they hide
// events every retention period has expired, but apply RetentionRules
// (which depend on each event's fields) only through Query, Aggregate,
// Export and Tail.
type FindRequest struct {
	// Start and End bound @timestamp, both inclusive; zero means unbounded.
	Start, End time.Time
	// Terms are equality conditions on indexed fields (IndexedFields).
	Terms []Term
	// SavedObjects, when set, keeps events referencing those objects.
	SavedObjects *RefFilter
	// Order is by @timestamp, then sequence number. Zero: Ascending.
	Order Order
	// Limit caps the page. Zero: DefaultLimit; at most MaxLimit.
	Limit int
	// Cursor continues after the last event of an earlier page of the same
	// request (Iterator.Cursor).
	Cursor string
}

// Page sizes of Find.
const (
	DefaultLimit = 100
	MaxLimit     = 10_000
)

// IndexedFields returns the fields FindRequest.Terms can use.
func IndexedFields() []string {
	var names []string
	for _, f := range event.Fields() {
		if f.Indexed {
			names = append(names, f.Name)
		}
	}
	sort.Strings(names)
	return names
}

// Record is one stored event with its engine fields.
type Record struct {
	Seq   uint64
	ID    string
	Event Event
}

// Find returns one page of the events the request selects, in its order.
// It reads a consistent snapshot (heads and segments at one sequence
// watermark): events appended after Find starts are not in it.
func (db *DB) Find(ctx context.Context, req FindRequest) (*Iterator, error) {
	q, limit, err := planQuery(req)
	if err != nil {
		return nil, err
	}
	var recs []Record
	err = db.read(ctx, "find", func(rs *readSnapshot) error {
		q.MinTS = max(q.MinTS, db.expiredBefore())
		if err := rs.damageIn(q.MinTS, q.MaxTS); err != nil {
			return err
		}
		var hits []hit
		for i := range rs.headSnaps {
			for _, it := range rs.headFind(i, q) {
				hits = append(hits, hit{Position: it.Position, data: it.Data})
			}
		}
		hits, err := findInSegments(rs, q, hits)
		if err != nil {
			return err
		}
		recs, err = materialize(hits)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &Iterator{recs: recs, limit: limit, desc: q.Desc, pos: -1}, nil
}

// findInSegments adds the segments' matches to hits (the heads' matches)
// and returns the first q.Limit in q's order. It visits segments from the
// one whose time range starts first in q's order, and stops as soon as the
// page is full and no remaining segment can hold an earlier row, so a
// "newest 20" query reads only the newest segments.
func findInSegments(rs *readSnapshot, q match.Query, hits []hit) ([]hit, error) {
	order := make([]int, len(rs.segments))
	for i := range order {
		order[i] = i
	}
	edge := func(i int) match.Position { // the segment's first possible row in q's order
		s := rs.segments[i]
		if q.Desc {
			return match.Position{TS: s.meta.MaxTS, Seq: s.meta.MaxSeq}
		}
		return match.Position{TS: s.meta.MinTS}
	}
	slices.SortFunc(order, func(a, b int) int { return q.InOrder(edge(a), edge(b)) })
	sortHits := func() {
		slices.SortFunc(hits, func(a, b hit) int { return q.InOrder(a.Position, b.Position) })
		if q.Limit > 0 && len(hits) > q.Limit {
			hits = hits[:q.Limit]
		}
	}
	sortHits()
	for _, i := range order {
		if q.Limit > 0 && len(hits) == q.Limit && q.InOrder(edge(i), hits[len(hits)-1].Position) > 0 {
			break
		}
		found, err := findInSegment(rs.segments[i], q, rs.pub, rs.segmentHidden(i))
		if err != nil {
			return nil, err
		}
		hits = append(hits, found...)
		sortHits()
	}
	return hits, nil
}

// hit is one matching row before its event is decoded: from a head (data
// set) or from a segment (seg and row set).
type hit struct {
	match.Position
	data []byte
	seg  *liveSegment
	row  uint32
}

// findInSegment finds q's rows in s that are visible at watermark pub and
// not hidden by a delete. A segment can hold rows above pub for a moment
// (sealed before their WAL fsync returned); if any are filtered out the
// query is widened so the page is still full.
func findInSegment(s *liveSegment, q match.Query, pub uint64, hidden *roaring.Bitmap) ([]hit, error) {
	if s.meta.MaxTS < q.MinTS || s.meta.MinTS > q.MaxTS {
		return nil, nil
	}
	for {
		found, err := s.r.Find(q)
		if err != nil {
			return nil, err
		}
		out := make([]hit, 0, len(found))
		for _, f := range found {
			if f.Seq <= pub && (hidden == nil || !hidden.Contains(f.Row)) {
				out = append(out, hit{Position: f.Position, seg: s, row: f.Row})
			}
		}
		if len(out) == len(found) || q.Limit == 0 || len(found) < q.Limit {
			return out, nil
		}
		q.Limit += len(found) - len(out)
	}
}

// materialize decodes the hits' events, reading each segment's rows in one
// call so each block is decompressed once.
func materialize(hits []hit) ([]Record, error) {
	recs := make([]Record, len(hits))
	bySeg := map[*liveSegment][]int{}
	for i, h := range hits {
		recs[i].Seq, recs[i].ID = h.Seq, IDOf(h.Seq)
		if h.seg != nil {
			bySeg[h.seg] = append(bySeg[h.seg], i)
			continue
		}
		ev, err := event.DecodeBinary(h.data)
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", h.Seq, err)
		}
		recs[i].Event = ev
	}
	for s, idx := range bySeg {
		rows := make([]uint32, len(idx))
		for j, i := range idx {
			rows[j] = hits[i].row
		}
		evs, err := s.r.Events(rows)
		if err != nil {
			return nil, err
		}
		for j, i := range idx {
			recs[i].Event = evs[j]
		}
	}
	return recs, nil
}

// planQuery checks req and turns it into a match.Query.
func planQuery(req FindRequest) (match.Query, int, error) {
	q := match.Query{MinTS: match.MinTime, MaxTS: match.MaxTime, Desc: req.Order == Descending}
	if req.Order != Ascending && req.Order != Descending {
		return q, 0, fmt.Errorf("%w: unknown order %d", ErrInvalidRequest, req.Order)
	}
	limit := req.Limit
	switch {
	case limit < 0 || limit > MaxLimit:
		return q, 0, fmt.Errorf("%w: limit %d is outside 0..%d", ErrInvalidRequest, limit, MaxLimit)
	case limit == 0:
		limit = DefaultLimit
	}
	q.Limit = limit
	if !req.Start.IsZero() {
		q.MinTS = match.UnixNano(req.Start)
	}
	if !req.End.IsZero() {
		q.MaxTS = match.UnixNano(req.End)
	}
	for _, t := range req.Terms {
		f := event.FieldByName(t.Field)
		if f == nil || !f.Indexed {
			return q, 0, fmt.Errorf("%w: term on %q: not an indexed field (indexed: %s)", ErrInvalidRequest, t.Field, strings.Join(IndexedFields(), ", "))
		}
		g := make([]index.Term, len(t.Values))
		for i, v := range t.Values {
			g[i] = index.Term{Field: t.Field, Value: v}
		}
		q.Groups = append(q.Groups, g)
	}
	if r := req.SavedObjects; r != nil {
		g, err := refTerms(r)
		if err != nil {
			return q, 0, err
		}
		q.Groups = append(q.Groups, g)
	}
	if req.Cursor != "" {
		pos, err := decodeCursor(req.Cursor, req.Order)
		if err != nil {
			return q, 0, err
		}
		q.After = &pos
	}
	return q, limit, nil
}

func refTerms(r *RefFilter) ([]index.Term, error) {
	if r.Type == "" || len(r.IDs) == 0 {
		return nil, fmt.Errorf("%w: saved objects: a type and at least one id are required", ErrInvalidRequest)
	}
	space := r.Space
	if space == "" {
		space = event.DefaultSpace
	}
	var g []index.Term
	for _, id := range r.IDs {
		g = append(g, index.Term{Field: index.RefField, Value: index.RefValue(r.Type, id, space, true)})
		if !r.PrimaryOnly {
			g = append(g, index.Term{Field: index.RefField, Value: index.RefValue(r.Type, id, space, false)})
		}
	}
	return g, nil
}

// Iterator walks one page of Find results. It is not safe for concurrent
// use. The records are the iterator's own: they stay valid after Close.
type Iterator struct {
	recs  []Record
	limit int
	desc  bool
	pos   int
}

// Next advances to the next record, reporting false at the end.
func (it *Iterator) Next() bool {
	if it.pos+1 >= len(it.recs) {
		it.pos = len(it.recs)
		return false
	}
	it.pos++
	return true
}

// Record returns the current record, or nil before the first Next and
// after the last.
func (it *Iterator) Record() *Record {
	if it.pos < 0 || it.pos >= len(it.recs) {
		return nil
	}
	return &it.recs[it.pos]
}

// Err returns the error that stopped the iteration, if any. Find reads every
// record before it returns, so this is nil today; callers should check it
// anyway, as later versions stream.
func (it *Iterator) Err() error { return nil }

// Close releases the iterator. It is safe to call more than once.
func (it *Iterator) Close() error {
	it.recs = nil
	return nil
}

// Len returns the number of records in the page.
func (it *Iterator) Len() int { return len(it.recs) }

// Cursor returns the cursor that continues after this page, or "" when the
// page was not full (nothing can follow it now).
func (it *Iterator) Cursor() string {
	if len(it.recs) < it.limit || len(it.recs) == 0 {
		return ""
	}
	last := &it.recs[len(it.recs)-1]
	return encodeCursor(match.Position{TS: last.Event.Timestamp.UnixNano(), Seq: last.Seq}, it.desc)
}

// Count returns how many events the request selects, ignoring Limit and
// Cursor. Segments answer from their postings and block statistics where
// they can, so counting a term over whole segments decodes nothing.
func (db *DB) Count(ctx context.Context, req FindRequest) (int, error) {
	req.Limit, req.Cursor = 0, ""
	q, _, err := planQuery(req)
	if err != nil {
		return 0, err
	}
	q.Limit = 0
	n := 0
	err = db.read(ctx, "count", func(rs *readSnapshot) error {
		q.MinTS = max(q.MinTS, db.expiredBefore())
		if err := rs.damageIn(q.MinTS, q.MaxTS); err != nil {
			return err
		}
		for i := range rs.headSnaps {
			n += len(rs.headFind(i, q))
		}
		for i, s := range rs.segments {
			c, err := countInSegment(s, q, rs.pub, rs.segmentHidden(i))
			if err != nil {
				return err
			}
			n += c
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

func countInSegment(s *liveSegment, q match.Query, pub uint64, hidden *roaring.Bitmap) (int, error) {
	if s.meta.MaxTS < q.MinTS || s.meta.MinTS > q.MaxTS {
		return 0, nil
	}
	if s.meta.MaxSeq <= pub && hidden == nil {
		return s.r.Count(q)
	}
	hits, err := findInSegment(s, q, pub, hidden) // rows above pub and hidden rows must not count
	return len(hits), err
}
