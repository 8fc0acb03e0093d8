package query

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/internal/match"
	"github.com/eventlogdb/eventlog/query/filter"
	"github.com/eventlogdb/eventlog/query/timespan"
)

// plan is a checked Request, ready to run on any snapshot.
type plan struct {
	filter       *filter.Filter
	minTS, maxTS int64
	// timeBound holds the filter's top-level @timestamp ranges, which the
	// time bounds enforce.
	timeBound map[filter.Node]bool
	scope     []scopeRef // SavedObjects: primary refs to any of these
	space     string
	spaces    []string // any of them (Request.Spaces)
	keys      []sortKey
	page      int
	perPage   int
	after     *cursor
	aggs      []*aggSpec
	now       time.Time
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// compile checks req and prepares its plan; parse (nil: filter.Parse)
// makes its filter.
func compile(req Request, now time.Time, parse func(string) (*filter.Filter, error)) (*plan, error) {
	p := &plan{minTS: math.MinInt64, maxTS: math.MaxInt64, now: now, timeBound: map[filter.Node]bool{}}
	if parse == nil {
		parse = filter.Parse
	}
	f, err := parse(req.Filter)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	p.filter = f
	if err := p.compileTimes(req.Start, req.End); err != nil {
		return nil, err
	}
	p.boundByFilter()
	if err := p.compileScope(req); err != nil {
		return nil, err
	}
	if p.keys, err = compileSort(req.Sort); err != nil {
		return nil, err
	}
	if err := p.compilePage(req); err != nil {
		return nil, err
	}
	if p.aggs, err = compileAggs(req.Aggs, 0); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *plan) compileTimes(start, end string) error {
	if start != "" {
		t, err := timespan.ParseTime(start, p.now)
		if err != nil {
			return invalid("start: %v", err)
		}
		p.minTS = match.UnixNano(t)
	}
	if end != "" {
		t, err := timespan.ParseTime(end, p.now)
		if err != nil {
			return invalid("end: %v", err)
		}
		p.maxTS = match.UnixNano(t)
	}
	if p.minTS > p.maxTS {
		return fmt.Errorf("%w: %w: start %s, end %s", ErrInvalid, ErrStartAfterEnd, start, end)
	}
	return nil
}

// boundByFilter narrows the time bounds by the @timestamp ranges the filter
// ANDs at its top level, so they prune blocks like start and end do.
func (p *plan) boundByFilter() {
	if p.filter.Root == nil {
		return
	}
	conds := []filter.Node{p.filter.Root}
	if a, ok := p.filter.Root.(*filter.And); ok {
		conds = a.Nodes
	}
	for _, c := range conds {
		r, ok := c.(*filter.Range)
		if !ok || r.Path.Field == nil || r.Path.Field.Name != "@timestamp" || r.Path.Sub != "" {
			continue
		}
		switch r.Op {
		case filter.OpGTE:
			p.minTS = max(p.minTS, r.Int)
		case filter.OpGT:
			p.minTS = max(p.minTS, satAdd(r.Int, 1))
		case filter.OpLTE:
			p.maxTS = min(p.maxTS, r.Int)
		case filter.OpLT:
			p.maxTS = min(p.maxTS, satAdd(r.Int, -1))
		}
		p.timeBound[r] = true
	}
}

func satAdd(v, d int64) int64 {
	if (d > 0 && v > math.MaxInt64-d) || (d < 0 && v < math.MinInt64-d) {
		return v
	}
	return v + d
}

func (p *plan) compileScope(req Request) error {
	p.space = req.Space
	for i, s := range req.Spaces {
		if s == "" {
			return invalid("spaces: space %d is empty", i+1)
		}
	}
	p.spaces = req.Spaces
	so := req.SavedObjects
	if so == nil {
		return nil
	}
	if so.Type == "" || len(so.IDs) == 0 {
		return invalid("saved objects: a type and at least one id are required")
	}
	space := so.Space
	if space == "" {
		space = event.DefaultSpace
	}
	for _, id := range so.IDs {
		if id == "" {
			return invalid("saved objects: empty id")
		}
		p.scope = append(p.scope, scopeRef{typ: so.Type, id: id, space: space})
	}
	return nil
}

// inSpaces reports whether ev passes Space and Spaces.
func (p *plan) inSpaces(ev *event.Event) bool {
	if p.space != "" && !ev.InSpace(p.space) {
		return false
	}
	if len(p.spaces) == 0 {
		return true
	}
	for _, s := range p.spaces {
		if ev.InSpace(s) {
			return true
		}
	}
	return false
}

// scopeRef is one saved object of Request.SavedObjects.
type scopeRef struct{ typ, id, space string }

// term is the posting key of a primary ref to r in layout l.
func (r scopeRef) term(l index.Layout) index.Term {
	return index.RefTerm(l, r.typ, r.id, r.space, true)
}

func (p *plan) compilePage(req Request) error {
	p.page, p.perPage = req.Page, req.PerPage
	if p.page == 0 {
		p.page = 1
	}
	if p.perPage == 0 {
		p.perPage = DefaultPerPage
	}
	switch {
	case p.page < 0:
		return invalid("page %d: pages start at 1", req.Page)
	case p.perPage < 0 || p.perPage > MaxWindow:
		return invalid("per_page %d is outside 1..%d", req.PerPage, MaxWindow)
	case p.page > MaxWindow || p.page*p.perPage > MaxWindow:
		return invalid("page * per_page = %d * %d is over %d; use search_after to page deeper", p.page, p.perPage, MaxWindow)
	}
	if req.SearchAfter == "" {
		return nil
	}
	if p.page != 1 {
		return invalid("search_after continues from a cursor: page must be 1, not %d", p.page)
	}
	c, err := decodeCursor(req.SearchAfter, p.keys)
	if err != nil {
		return invalid("search_after: %v", err)
	}
	p.after = &c
	return nil
}

// offset and limit of the page within the sorted matches.
func (p *plan) window() (offset, limit int) { return (p.page - 1) * p.perPage, p.perPage }

// fields returns the event fields the plan decodes for a source: the
// filter's when the bitmaps do not answer it, the sort's and the
// aggregations'.
func (p *plan) fields(exact, hits, aggs bool) []*event.Field {
	seen := map[*event.Field]bool{}
	out := []*event.Field{} // never nil: nil asks a Source for every field
	add := func(f *event.Field) {
		if f != nil && !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	if !exact {
		for _, f := range p.filter.Fields() {
			add(f)
		}
		if p.space != "" || len(p.spaces) > 0 {
			add(event.FieldByName("kibana.saved_objects"))
			add(event.FieldByName("kibana.space_ids"))
		}
	}
	if hits {
		for _, k := range p.keys {
			if k.field.Name != "@timestamp" { // from the keys
				add(k.field)
			}
		}
	}
	if aggs {
		for _, a := range p.aggs {
			a.fields(add)
		}
	}
	return out
}

// fieldNames lists the names of fields accepted by kind, for error messages.
func fieldNames(accept func(*event.Field) bool) string {
	var names []string
	for i := range event.Fields() {
		if f := &event.Fields()[i]; accept(f) {
			names = append(names, f.Name)
		}
	}
	return strings.Join(names, ", ")
}
