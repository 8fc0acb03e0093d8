package query

import (
	"errors"
	"time"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query/filter"
)

// ErrInvalid marks a request that cannot be run as given: a filter syntax
// error, an unknown field, a bad time, a page past the cap. The message says
// what and where.
var ErrInvalid = errors.New("invalid query")

// ErrStartAfterEnd marks (beside ErrInvalid) a request whose start is after
// its end: no event can match. Kibana's _find answers it with an empty
// page rather than an error.
var ErrStartAfterEnd = errors.New("start is after end")

// Paging limits, as in the Kibana event log.
const (
	DefaultPerPage = 10
	// MaxWindow caps page*per_page: deeper pages use SearchAfter.
	MaxWindow = 10_000
)

// Request is one question: the same type serves the Go API, the CLI and
// the HTTP server (its JSON form is the server's request body).
type Request struct {
	// Filter is a KQL expression (see package filter); "" matches all.
	Filter string `json:"filter,omitempty"`
	// Start and End bound @timestamp, both inclusive: RFC 3339, "now",
	// "now-15m", or a bare duration meaning that long before now ("15m",
	// "2h", "7d"). "" is unbounded.
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
	// Sort keys, most significant first; empty sorts by @timestamp
	// ascending. The sequence number breaks the last tie.
	Sort []SortField `json:"sort,omitempty"`
	// Page (from 1) and PerPage (0: DefaultPerPage) select a page;
	// Page*PerPage is at most MaxWindow.
	Page    int `json:"page,omitempty"`
	PerPage int `json:"per_page,omitempty"`
	// SearchAfter continues after the last event of an earlier page of the
	// same request (Result.Next); Page must then be 0 or 1.
	SearchAfter string `json:"search_after,omitempty"`
	// SavedObjects scopes to events with a primary ref to one of the
	// objects, as the Kibana event log's _find does.
	SavedObjects *SavedObjects `json:"saved_objects,omitempty"`
	// Space, when set, keeps events in that space (event.Event.InSpace): one
	// with a ref in it or listing it in kibana.space_ids; an event with
	// neither is in the default space.
	Space string `json:"space,omitempty"`
	// Spaces, when set, keeps events in any of those spaces (as Space
	// does for one): a server's reader scoped to several spaces. With
	// Space too, an event must pass both.
	Spaces []string `json:"spaces,omitempty"`
	// Aggs are computed over every match (not just the page).
	Aggs map[string]Agg `json:"aggs,omitempty"`
	// AllowPartial answers from what is readable when the query reaches
	// damaged stored events, marking the result Partial and listing the
	// damaged ranges in Warnings. Without it such a query fails with a
	// *CorruptionError (ErrCorrupt).
	AllowPartial bool `json:"allow_partial,omitempty"`
}

// SortField is one sort key, named as in the Kibana event log API.
type SortField struct {
	Field string `json:"sort_field"`
	// Order is "asc" (default) or "desc".
	Order string `json:"sort_order,omitempty"`
}

// SavedObjects selects events whose kibana.saved_objects holds a ref with
// rel "primary", type Type, one of IDs, in Space ("" is the default space;
// a ref without a namespace is in the default space).
type SavedObjects struct {
	Type  string   `json:"type"`
	IDs   []string `json:"ids"`
	Space string   `json:"space,omitempty"`
}

// Options tune one execution.
type Options struct {
	// Now resolves relative times; zero means time.Now().
	Now time.Time
	// NoHits skips collecting the page (counting and aggregations only).
	NoHits bool
	// NoTotal lets the executor skip counting what cannot be on the page;
	// Result.Total is then -1. Exports paging through everything use it.
	NoTotal bool
	// Hits, when its capacity holds the page, is where Execute decodes the
	// page's hits (clearing each first) instead of a new slice: a caller
	// stepping through many pages (an export) passes the previous
	// Result.Hits, which it must no longer use; copies of its Hit values
	// stay valid, as a decoded event shares nothing with the slot it
	// was decoded into before. Nil: a new slice.
	Hits []Hit
	// WholeBlocks ends a page that more hits follow before the block of
	// its last hit, when the hit after it is in that block too: the page
	// then holds fewer than PerPage hits, and Next continues after the
	// last it holds. A caller stepping through every page (an export)
	// then decodes each block in one step, not in the two its page
	// boundary would split it between. A page wholly in one block is not
	// cut.
	WholeBlocks bool
	// ExpiredBefore hides events stamped before it (Unix ns): retention's
	// visibility rule. Zero: nothing is hidden.
	ExpiredBefore int64
	// Expired, when set, hides the events it reports (retention rules that
	// depend on the event); only events stamped before MaybeExpiredBefore
	// are asked, and ExpiredFields are decoded for it.
	Expired            func(*event.Event) bool
	ExpiredFields      []*event.Field
	MaybeExpiredBefore int64
	// ParseFilter, when set, makes the request's filter text into the
	// filter run (the engine pseudonymises the values of personal fields
	// there, package privacy). Nil: filter.Parse.
	ParseFilter func(text string) (*filter.Filter, error)
}

// Result is the answer to a Request.
type Result struct {
	// Total is the exact number of matching events (-1 with NoTotal).
	Total   int
	Page    int
	PerPage int
	// Hits is the page, in the request's order.
	Hits []Hit
	// Next continues after the page's last hit (Request.SearchAfter); ""
	// when no match follows it.
	Next string
	// Aggregations by the request's names.
	Aggregations map[string]*AggResult
	// Partial reports that Request.AllowPartial left out damaged ranges
	// the query reached; Warnings lists them. Total, hits and
	// aggregations then cover the readable events only.
	Partial  bool
	Warnings []Damage
}

// Hit is one matching event.
type Hit struct {
	Seq   uint64
	Event event.Event
}

// Check reports whether req can be run with opts, as Execute would
// (ErrInvalid with what is wrong), without running it.
func Check(req Request, opts Options) error {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	_, err := compile(req, now, opts.ParseFilter)
	return err
}
