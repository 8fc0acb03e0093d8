package eventlog

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query"
	"github.com/eventlogdb/eventlog/query/filter"
	"github.com/eventlogdb/eventlog/query/timespan"
)

// The query action of TestModel: a generated request's total, page, cursor
// walk and aggregations must equal a plain evaluation over the model's
// events, whatever the layout (head only, one segment, many).

// filterAtoms are the leaves generated filters combine; they cover indexed
// terms (bitmaps), prefixes, exists, ranges, message words, nested refs,
// unindexed fields (decoded columns) and kept unknown fields (the kept
// column, evaluated on the stored values).
var filterAtoms = []string{
	`event.provider:p1`, `event.provider:(p1 or p2)`, `event.action:a2`, `event.outcome:*`,
	`event.outcome:failure`, `user.name:u*`, `tags:t1`, `tags:(t2 and t3)`, `log.level:*`,
	`message:disk`, `message:"disk full"`, `timeout`, `dis*`, `épée`,
	`event.duration >= 100`, `event.duration < 0`, `event.duration:*`,
	`@timestamp >= "2024-05-01T00:00:05Z"`, `@timestamp < "2024-05-01T00:00:12.5Z"`,
	`event.end > "2024-05-01T00:00:10Z"`,
	`kibana.saved_objects:{ type: alert and id: A }`,
	`kibana.saved_objects:{ type: action and id: B and namespace: s1 }`,
	`kibana.saved_objects:{ id: C and rel: primary }`,
	`kibana.saved_objects.namespace:default`, `kibana.space_ids:s1`,
	// kept fields outside the schema (model_test.go keptSamples)
	`syslog.facility:local0`, `process.pid > 100`, `agent.name:vector*`, `host.architecture:*`,
	`syslog:*`, `event.module_v.a.b:c`, `process.args:2.5`, `x:*`,
}

func genFilter(rt *rapid.T, depth int) string {
	atom := func() string { return rapid.SampledFrom(filterAtoms).Draw(rt, "atom") }
	if depth == 0 {
		return atom()
	}
	switch rapid.IntRange(0, 5).Draw(rt, "filter_op") {
	case 0:
		return "(" + genFilter(rt, depth-1) + " and " + genFilter(rt, depth-1) + ")"
	case 1:
		return "(" + genFilter(rt, depth-1) + " OR " + genFilter(rt, depth-1) + ")"
	case 2:
		return "not " + genFilter(rt, depth-1)
	}
	return atom()
}

var sortFields = []string{"@timestamp", "event.duration", "event.action", "user.name", "event.end", "tags", "message"}

func genTimeBound(rt *rapid.T, label string) string {
	switch rapid.IntRange(0, 5).Draw(rt, label) {
	case 0:
		return genTime(rt, label+"_t").Format(time.RFC3339Nano)
	case 1:
		return "now-" + fmt.Sprint(rapid.IntRange(0, 30).Draw(rt, label+"_ago")) + "s"
	case 2:
		return fmt.Sprint(rapid.IntRange(1, 30).Draw(rt, label+"_ago")) + "s"
	}
	return ""
}

func genQuery(rt *rapid.T) query.Request {
	var req query.Request
	if rapid.Bool().Draw(rt, "has_filter") {
		req.Filter = genFilter(rt, rapid.IntRange(0, 3).Draw(rt, "depth"))
	}
	req.Start, req.End = genTimeBound(rt, "start"), genTimeBound(rt, "end")
	for range rapid.IntRange(0, 2).Draw(rt, "sort_keys") {
		req.Sort = append(req.Sort, query.SortField{
			Field: rapid.SampledFrom(sortFields).Draw(rt, "sort_field"),
			Order: rapid.SampledFrom([]string{"", "asc", "desc"}).Draw(rt, "sort_order"),
		})
	}
	if rapid.IntRange(0, 4).Draw(rt, "has_scope") == 0 {
		req.SavedObjects = &query.SavedObjects{
			Type: genRefType.Draw(rt, "so_type"), IDs: rapid.SliceOfN(genRefID, 1, 2).Draw(rt, "so_ids"),
			Space: genSpace.Draw(rt, "so_space"),
		}
	}
	if rapid.IntRange(0, 5).Draw(rt, "has_space") == 0 {
		req.Space = genSpaceID.Draw(rt, "space")
	}
	if rapid.IntRange(0, 4).Draw(rt, "has_spaces") == 0 {
		req.Spaces = rapid.SliceOfNDistinct(genSpaceID, 1, 2, rapid.ID[string]).Draw(rt, "spaces")
	}
	if rapid.IntRange(0, 2).Draw(rt, "has_aggs") == 0 {
		req.Aggs = genAggs(rt)
	}
	return req
}

func genAggs(rt *rapid.T) map[string]query.Agg {
	aggs := map[string]query.Agg{}
	if rapid.Bool().Draw(rt, "terms") {
		a := query.Agg{Terms: &query.TermsAgg{
			Field: rapid.SampledFrom([]string{"event.action", "tags", "user.name", "message"}).Draw(rt, "terms_field"),
			Size:  rapid.IntRange(0, 3).Draw(rt, "terms_size"),
		}}
		if rapid.Bool().Draw(rt, "terms_sub") {
			a.Aggs = map[string]query.Agg{"dur": {Stats: &query.StatsAgg{Field: "event.duration"}}}
		}
		aggs["t"] = a
	}
	if rapid.Bool().Draw(rt, "hist") {
		aggs["h"] = query.Agg{DateHistogram: &query.DateHistogramAgg{
			Interval: rapid.SampledFrom([]string{"1s", "5s", "auto", "1d"}).Draw(rt, "interval"),
			TimeZone: rapid.SampledFrom([]string{"", "UTC", "Asia/Kolkata", "America/St_Johns"}).Draw(rt, "tz"),
		}}
	}
	if rapid.Bool().Draw(rt, "stats") {
		aggs["s"] = query.Agg{Stats: &query.StatsAgg{Field: "event.duration"}}
	}
	return aggs
}

func (m *modelRun) query(rt *rapid.T) {
	req := genQuery(rt)
	req.Filter = m.ownEvents(req.Filter)
	want, ok := m.expectQuery(rt, req)
	if !ok {
		if _, err := m.db.Query(ctx, req); !errors.Is(err, ErrInvalidRequest) {
			rt.Fatalf("query %+v: got %v, want an invalid-request error", req, err)
		}
		return
	}
	if rapid.Bool().Draw(rt, "walk") {
		m.walk(rt, req, want)
		return
	}
	req.PerPage = rapid.IntRange(1, 5).Draw(rt, "per_page")
	req.Page = rapid.IntRange(1, 3).Draw(rt, "page")
	res, err := m.db.Query(ctx, req)
	if err != nil {
		rt.Fatalf("query %+v: %v", req, err)
	}
	if res.Total != len(want) {
		rt.Fatalf("query %+v: total %d, want %d", req, res.Total, len(want))
	}
	lo := min((req.Page-1)*req.PerPage, len(want))
	page := want[lo:min(lo+req.PerPage, len(want))]
	checkHits(rt, req, res.Hits, page)
	if (res.Next != "") != (lo+req.PerPage < len(want)) {
		rt.Fatalf("query %+v: next %q with a page of %d", req, res.Next, len(page))
	}
	checkAggs(rt, req, res, want)
	// Aggregate runs without a page, in parallel over many blocks.
	if res, err = m.db.Aggregate(ctx, req); err != nil || res.Total != len(want) || len(res.Hits) != 0 {
		rt.Fatalf("aggregate %+v: %v, want total %d and no hits", req, err, len(want))
	}
	checkAggs(rt, req, res, want)
}

// walk pages through every match with search_after and requires the pages
// to add up to the whole sorted answer.
func (m *modelRun) walk(rt *rapid.T, req query.Request, want []modelEvent) {
	req.PerPage = rapid.IntRange(1, 4).Draw(rt, "walk_per_page")
	var got []query.Hit
	for pages := 0; pages <= len(want)+1; pages++ {
		res, err := m.db.Query(ctx, req)
		if err != nil {
			rt.Fatalf("query %+v: %v", req, err)
		}
		got = append(got, res.Hits...)
		if res.Next == "" {
			break
		}
		req.SearchAfter = res.Next
	}
	checkHits(rt, req, got, want)
}

func checkHits(rt *rapid.T, req query.Request, got []query.Hit, want []modelEvent) {
	if len(got) != len(want) {
		gs := make([]uint64, len(got))
		for i, h := range got {
			gs[i] = h.Seq
		}
		rt.Fatalf("query %+v: got seqs %v, want %v", req, gs, modelSeqs(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Seq != w.seq || !bytes.Equal(event.AppendJSON(nil, &g.Event), event.AppendJSON(nil, &w.ev)) {
			rt.Fatalf("query %+v: hit %d: got seq %d %s, want seq %d %s", req, i, g.Seq, event.AppendJSON(nil, &g.Event), w.seq, event.AppendJSON(nil, &w.ev))
		}
	}
}

// expectQuery is the model's answer: every event that passes the filter,
// the bounds and the scopes, sorted by the keys then sequence; ok is false
// when the request must be refused (start after end).
func (m *modelRun) expectQuery(rt *rapid.T, req query.Request) (want []modelEvent, ok bool) {
	f, err := filter.Parse(req.Filter)
	if err != nil {
		rt.Fatalf("filter %q: %v", req.Filter, err)
	}
	lo, hi := m.bounds(rt, req.Start, req.End)
	if lo > hi {
		return nil, false
	}
	var out []modelEvent
	for _, me := range m.events {
		e := &me.ev
		ts := e.Timestamp.UnixNano()
		if ts < lo || ts > hi || !m.live(e) || !f.Match(e) || !modelScope(req, e) {
			continue
		}
		out = append(out, me)
	}
	slices.SortFunc(out, func(a, b modelEvent) int { return modelCompare(req.Sort, &a, &b) })
	return out, true
}

// bounds resolves a request's start and end at the model's clock, as Unix
// ns (unbounded: the extremes).
func (m *modelRun) bounds(rt *rapid.T, start, end string) (lo, hi int64) {
	bound := func(s string, def int64) int64 {
		if s == "" {
			return def
		}
		t, err := timespan.ParseTime(s, m.clock())
		if err != nil {
			rt.Fatalf("time %q: %v", s, err)
		}
		return t.UnixNano()
	}
	return bound(start, math.MinInt64), bound(end, math.MaxInt64)
}

func modelScope(req query.Request, e *Event) bool {
	space := func(so event.SavedObject) string {
		if so.Namespace == "" {
			return "default"
		}
		return so.Namespace
	}
	if s := req.SavedObjects; s != nil {
		want := cmp.Or(s.Space, "default")
		if !slices.ContainsFunc(e.Kibana.SavedObjects, func(so event.SavedObject) bool {
			return so.Rel == "primary" && so.Type == s.Type && slices.Contains(s.IDs, so.ID) && space(so) == want
		}) {
			return false
		}
	}
	inSpace := func(sp string) bool {
		if len(e.Kibana.SpaceIDs.Values) == 0 && len(e.Kibana.SavedObjects) == 0 {
			return sp == "default" // an event with no space is in the default one
		}
		return slices.Contains(e.Kibana.SpaceIDs.Values, sp) ||
			slices.ContainsFunc(e.Kibana.SavedObjects, func(so event.SavedObject) bool { return space(so) == sp })
	}
	if req.Space != "" && !inSpace(req.Space) {
		return false
	}
	return len(req.Spaces) == 0 || slices.ContainsFunc(req.Spaces, inSpace)
}

// modelKey is a sort value: missing sorts lowest.
type modelKey struct {
	has bool
	n   int64
	s   string
}

func modelSortValue(field string, e *Event) modelKey {
	switch field {
	case "@timestamp":
		return modelKey{true, e.Timestamp.UnixNano(), ""}
	case "event.duration":
		if e.Event.Duration != nil {
			return modelKey{true, e.Event.Duration.Nanos, ""}
		}
	case "event.end":
		if !e.Event.End.IsZero() {
			return modelKey{true, e.Event.End.UnixNano(), ""}
		}
	case "event.action", "user.name", "message":
		s := map[string]string{"event.action": e.Event.Action, "user.name": e.User.Name, "message": e.Message}[field]
		return modelKey{s != "", 0, s}
	case "tags":
		if len(e.Tags.Values) > 0 {
			return modelKey{true, 0, slices.Min(e.Tags.Values)}
		}
	default:
		panic("model: no sort field " + field)
	}
	return modelKey{}
}

func modelCompare(keys []query.SortField, a, b *modelEvent) int {
	if len(keys) == 0 {
		keys = []query.SortField{{Field: "@timestamp"}}
	}
	for _, k := range keys {
		va, vb := modelSortValue(k.Field, &a.ev), modelSortValue(k.Field, &b.ev)
		c := cmp.Compare(btoi(va.has), btoi(vb.has))
		if c == 0 {
			c = cmp.Or(cmp.Compare(va.n, vb.n), strings.Compare(va.s, vb.s))
		}
		if k.Order == "desc" {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	c := cmp.Compare(a.seq, b.seq)
	if keys[0].Order == "desc" {
		c = -c
	}
	return c
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// tail is the Tail action of TestModel: from a drawn sequence number with a
// drawn filter, the tail yields exactly the model's matching events in
// sequence order. The model appends under SyncNone, so the WAL is synced
// first: a tail only shows durable events.
func (m *modelRun) tail(rt *rapid.T) {
	if err := m.db.wal.Sync(); err != nil {
		rt.Fatalf("sync: %v", err)
	}
	from := uint64(rapid.IntRange(0, int(m.lastSeq)+1).Draw(rt, "tail_from"))
	text := ""
	if rapid.Bool().Draw(rt, "tail_filtered") {
		text = genFilter(rt, rapid.IntRange(0, 2).Draw(rt, "tail_depth"))
	}
	text = m.ownEvents(text)
	f, err := filter.Parse(text)
	if err != nil {
		rt.Fatalf("filter %q: %v", text, err)
	}
	var want []uint64
	for _, me := range m.events { // in sequence order
		if me.seq >= from && m.live(&me.ev) && f.Match(&me.ev) {
			want = append(want, me.seq)
		}
	}
	// A missing event would block the tail for ever: bound the wait so
	// the failure is reported.
	c, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	seq, err := m.db.Tail(c, TailRequest{From: from, Filter: text})
	if err != nil {
		rt.Fatalf("tail: %v", err)
	}
	var got []uint64
	if len(want) > 0 {
		for r, err := range seq {
			if err != nil {
				rt.Fatalf("tail: %v", err)
			}
			got = append(got, r.Seq)
			if len(got) == len(want) {
				break
			}
		}
	}
	if !slices.Equal(got, want) {
		rt.Fatalf("tail from %d filter %q: got %v, want %v", from, text, got, want)
	}
}

// delete is the Delete action of TestModel: a generated filter and time
// range (relative times resolved at the model's clock) remove every
// matching event from the model; the engine must report how many visible
// ones it hid and then match the model in every other action.
func (m *modelRun) delete(rt *rapid.T) {
	m.deletes++ // before ownEvents: the store now holds records of its own
	text := m.ownEvents(genFilter(rt, rapid.IntRange(0, 2).Draw(rt, "delete_depth")))
	req := DeleteRequest{Filter: text, Start: genTimeBound(rt, "delete_start"), End: genTimeBound(rt, "delete_end"),
		KeptFields: rapid.IntRange(0, 3).Draw(rt, "delete_kept_fields") > 0}
	f, err := filter.Parse(text)
	if err != nil {
		rt.Fatalf("filter %q: %v", text, err)
	}
	lo, hi := m.bounds(rt, req.Start, req.End)
	res, err := m.db.Delete(ctx, req)
	if len(f.KeptPaths()) > 0 && !req.KeptFields {
		// Refused, whatever else is wrong with it: nothing changes.
		if !errors.Is(err, ErrInvalidRequest) {
			rt.Fatalf("delete %+v by kept fields without KeptFields: %v", req, err)
		}
		return
	}
	if lo > hi {
		if !errors.Is(err, ErrInvalidRequest) {
			rt.Fatalf("delete %+v with start after end: %v", req, err)
		}
		return
	}
	if err != nil {
		rt.Fatalf("delete %+v: %v", req, err)
	}
	want, blocked := 0, 0
	var kept []int // indexes, in the model after the deletion, of the events holds kept
	m.events = slices.DeleteFunc(m.events, func(me modelEvent) bool {
		ts := me.ev.Timestamp.UnixNano()
		hit := ts >= lo && ts <= hi && f.Match(&me.ev)
		switch {
		case hit && m.held(&me.ev, 0): // every hold in force was made before this delete
			blocked++
			return false
		case hit && m.live(&me.ev):
			want++
		}
		return hit
	})
	for i := range m.events {
		me := &m.events[i]
		if ts := me.ev.Timestamp.UnixNano(); ts >= lo && ts <= hi && f.Match(&me.ev) {
			kept = append(kept, i)
		}
	}
	if res.Deleted != want || res.Blocked != blocked || res.Seq <= m.lastSeq {
		rt.Fatalf("delete %+v: %+v, want %d deleted and %d blocked after seq %d", req, res, want, blocked, m.lastSeq)
	}
	for _, i := range kept {
		m.events[i].blockedBy = append(m.events[i].blockedBy, res.Seq)
	}
	m.lastSeq = res.Seq
}
