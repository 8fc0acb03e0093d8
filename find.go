package eventlog

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/head"
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
// The iterator reads a consistent snapshot: events appended after Find
// returns are not in it.
func (db *DB) Find(ctx context.Context, req FindRequest) (*Iterator, error) {
	if db.closed.Load() {
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q, limit, err := planHeadQuery(req)
	if err != nil {
		return nil, err
	}
	items := db.head.Snapshot().Find(q)
	return &Iterator{items: items, limit: limit, desc: req.Order == Descending, pos: -1}, nil
}

// planHeadQuery checks req and turns it into a head query.
func planHeadQuery(req FindRequest) (head.Query, int, error) {
	q := head.Query{MinTS: head.MinTime, MaxTS: head.MaxTime, Desc: req.Order == Descending}
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
		q.MinTS = req.Start.UnixNano()
	}
	if !req.End.IsZero() {
		q.MaxTS = req.End.UnixNano()
	}
	for _, t := range req.Terms {
		f := event.FieldByName(t.Field)
		if f == nil || !f.Indexed {
			return q, 0, fmt.Errorf("%w: term on %q: not an indexed field (indexed: %s)", ErrInvalidRequest, t.Field, strings.Join(IndexedFields(), ", "))
		}
		g := make([]head.Term, len(t.Values))
		for i, v := range t.Values {
			g[i] = head.Term{Field: t.Field, Value: v}
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

func refTerms(r *RefFilter) ([]head.Term, error) {
	if r.Type == "" || len(r.IDs) == 0 {
		return nil, fmt.Errorf("%w: saved objects: a type and at least one id are required", ErrInvalidRequest)
	}
	space := r.Space
	if space == "" {
		space = event.DefaultSpace
	}
	var g []head.Term
	for _, id := range r.IDs {
		g = append(g, head.Term{Field: head.RefField, Value: head.RefValue(r.Type, id, space, true)})
		if !r.PrimaryOnly {
			g = append(g, head.Term{Field: head.RefField, Value: head.RefValue(r.Type, id, space, false)})
		}
	}
	return g, nil
}

// Iterator walks one page of Find results. It is not safe for concurrent
// use. Record's value is valid until the next call to Next.
type Iterator struct {
	items []head.Item
	limit int
	desc  bool
	pos   int
	rec   Record
	err   error
}

// Next advances to the next record, reporting false at the end or on error.
func (it *Iterator) Next() bool {
	if it.err != nil || it.pos+1 >= len(it.items) {
		it.pos = len(it.items)
		return false
	}
	it.pos++
	item := it.items[it.pos]
	ev, err := event.DecodeBinary(item.Data)
	if err != nil {
		it.err = fmt.Errorf("eventlog: event %d: %w", item.Seq, err)
		return false
	}
	it.rec = Record{Seq: item.Seq, ID: IDOf(item.Seq), Event: ev}
	return true
}

// Record returns the current record.
func (it *Iterator) Record() *Record { return &it.rec }

// Err returns the error that stopped the iteration, if any.
func (it *Iterator) Err() error { return it.err }

// Close releases the iterator. It is safe to call more than once.
func (it *Iterator) Close() error {
	it.items = nil
	return nil
}

// Len returns the number of records in the page.
func (it *Iterator) Len() int { return len(it.items) }

// Cursor returns the cursor that continues after this page, or "" when the
// page was not full (nothing can follow it now).
func (it *Iterator) Cursor() string {
	if len(it.items) < it.limit || len(it.items) == 0 {
		return ""
	}
	last := it.items[len(it.items)-1]
	return encodeCursor(head.Position{TS: last.TS, Seq: last.Seq}, it.desc)
}
