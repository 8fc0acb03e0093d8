package eventlog

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query"
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
// Find and Count translate it onto Query: they see exactly what every
// other read sees, retention rules and deletes included.
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

// Page sizes of Find: Query's.
const (
	DefaultLimit = query.DefaultPerPage
	MaxLimit     = query.MaxWindow
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
	Seq uint64
	// ID is the event's "_id" (DocumentID): its client id, else its
	// engine id IDOf(Seq).
	ID    string
	Event Event
}

// Find returns one page of the events the request selects, in its order.
// It is a translation onto Query (terms and saved objects become a KQL
// filter, Order an @timestamp sort, Limit the page size, Cursor the
// search_after cursor), so every read obeys one visibility rule, one cursor
// format and one set of limits. It reads a consistent snapshot: events
// appended after Find starts are not in it.
func (db *DB) Find(ctx context.Context, req FindRequest) (*Iterator, error) {
	qr, err := req.query()
	if err != nil {
		return nil, err
	}
	if req.emptyRange() {
		return &Iterator{pos: -1}, nil
	}
	res, err := db.Query(ctx, qr)
	if err != nil {
		return nil, err
	}
	recs := make([]Record, len(res.Hits))
	for i, h := range res.Hits {
		recs[i] = Record{Seq: h.Seq, ID: DocumentID(h.Seq, &h.Event), Event: h.Event}
	}
	return &Iterator{recs: recs, next: res.Next, pos: -1}, nil
}

// Count returns how many events the request selects, ignoring Limit and
// Cursor. It is Aggregate's total: segments answer from their postings and
// block statistics where they can, so counting a term decodes nothing.
func (db *DB) Count(ctx context.Context, req FindRequest) (int, error) {
	req.Limit, req.Cursor = 0, ""
	qr, err := req.query()
	if err != nil {
		return 0, err
	}
	if req.emptyRange() {
		return 0, nil
	}
	res, err := db.Aggregate(ctx, qr)
	if err != nil {
		return 0, err
	}
	return res.Total, nil
}

// emptyRange reports whether Start is after End: nothing can match (Query
// refuses such a range as a mistake; Find answers it with nothing).
func (req FindRequest) emptyRange() bool {
	return !req.Start.IsZero() && !req.End.IsZero() && req.Start.After(req.End)
}

// query translates req into the query.Request that answers it.
func (req FindRequest) query() (query.Request, error) {
	qr := query.Request{PerPage: req.Limit, SearchAfter: req.Cursor}
	switch req.Order {
	case Ascending:
		qr.Sort = []query.SortField{{Field: "@timestamp", Order: "asc"}}
	case Descending:
		qr.Sort = []query.SortField{{Field: "@timestamp", Order: "desc"}}
	default:
		return qr, fmt.Errorf("%w: unknown order %d", ErrInvalidRequest, req.Order)
	}
	if req.Limit < 0 || req.Limit > MaxLimit {
		return qr, fmt.Errorf("%w: limit %d is outside 0..%d", ErrInvalidRequest, req.Limit, MaxLimit)
	}
	if !req.Start.IsZero() {
		qr.Start = req.Start.UTC().Format(time.RFC3339Nano)
	}
	if !req.End.IsZero() {
		qr.End = req.End.UTC().Format(time.RFC3339Nano)
	}
	var conds []string
	for _, t := range req.Terms {
		f := event.FieldByName(t.Field)
		if f == nil || !f.Indexed {
			return qr, fmt.Errorf("%w: term on %q: not an indexed field (indexed: %s)", ErrInvalidRequest, t.Field, strings.Join(IndexedFields(), ", "))
		}
		if len(t.Values) == 0 {
			return qr, fmt.Errorf("%w: term on %q has no values", ErrInvalidRequest, t.Field)
		}
		conds = append(conds, t.Field+":"+kqlAnyOf(t.Values))
	}
	if r := req.SavedObjects; r != nil {
		c, err := r.kql()
		if err != nil {
			return qr, err
		}
		conds = append(conds, c)
	}
	qr.Filter = strings.Join(conds, " and ")
	return qr, nil
}

// kql is the nested filter matching a ref of r's type, with one of its
// ids, in its space (and with rel "primary" under PrimaryOnly).
func (r *RefFilter) kql() (string, error) {
	if r.Type == "" || len(r.IDs) == 0 {
		return "", fmt.Errorf("%w: saved objects: a type and at least one id are required", ErrInvalidRequest)
	}
	space := r.Space
	if space == "" {
		space = event.DefaultSpace
	}
	inner := []string{"type:" + kqlQuote(r.Type), "id:" + kqlAnyOf(r.IDs), "namespace:" + kqlQuote(space)}
	if r.PrimaryOnly {
		inner = append(inner, "rel:"+kqlQuote(event.RelPrimary))
	}
	return "kibana.saved_objects:{" + strings.Join(inner, " and ") + "}", nil
}

// kqlAnyOf is a KQL value list matching any of values (at least one).
func kqlAnyOf(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = kqlQuote(v)
	}
	return "(" + strings.Join(q, " or ") + ")"
}

// kqlQuote quotes v as a KQL value: inside quotes only \" and \\ are
// escapes, and nothing else is special.
func kqlQuote(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}

// Iterator walks one page of Find results. It is not safe for concurrent
// use. The records are the iterator's own: they stay valid after Close.
type Iterator struct {
	recs []Record
	next string
	pos  int
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

// Cursor returns the cursor that continues after this page (Query's
// search_after cursor), or "" when no match follows it.
func (it *Iterator) Cursor() string { return it.next }
