package bench

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/eventlogdb/eventlog/client"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query"
)

// suiteQuery is one of the suite's queries: the request, the route it goes
// to, and the check of its answer against the generator's expectation.
type suiteQuery struct {
	Name, What string
	// Path is the route: api/events/_search, _export or _aggregate.
	Path string
	Req  query.Request
	// check runs the query once through package client, which decodes
	// every document, and compares the answer with the expectation; it
	// returns how many events the answer held (or counted).
	check func(ctx context.Context, c *client.Client) (int, error)
}

// Routes of the suite's queries.
const (
	pathSearch    = "api/events/_search"
	pathExport    = "api/events/_export"
	pathAggregate = "api/events/_aggregate"
)

// suiteQueries are issue 15's seven queries over x, in the order of its
// table, plus the saved-object condition without a type that item 2 names.
func suiteQueries(x *suiteExpect) []suiteQuery {
	obj := func(o suiteObject) *query.SavedObjects {
		return &query.SavedObjects{Type: o.Type, IDs: []string{o.ID}, Space: o.Space}
	}
	desc := []query.SortField{{Field: "@timestamp", Order: "desc"}}
	all := func(name, what string, o suiteObject) suiteQuery {
		req := query.Request{SavedObjects: obj(o), PerPage: query.MaxWindow}
		return suiteQuery{Name: name, What: what, Path: pathSearch, Req: req, check: checkSearch(req, o.Docs, false)}
	}
	day := query.Request{
		Filter: "event.provider:" + suiteCountProvider,
		Start:  x.DayStart.Format(time.RFC3339Nano), End: x.DayEnd.Format(time.RFC3339Nano),
		Aggs: map[string]query.Agg{"actions": {Terms: &query.TermsAgg{Field: "event.action", Size: 100}}},
	}
	byID := query.Request{Filter: "kibana.saved_objects.id:" + strconv.Quote(x.Rare.ID), PerPage: query.MaxWindow}
	newestOf := query.Request{SavedObjects: obj(x.Frequent), Sort: desc, PerPage: suiteNewest}
	failures := query.Request{Filter: "event.outcome:failure", Space: x.Space, Sort: desc, PerPage: suiteNewest}
	return []suiteQuery{
		all("rare-object", "all events of a rare saved object (_find's query)", x.Rare),
		all("mid-object", "all events of a mid saved object", x.Mid),
		{Name: "frequent-object-all", What: "all events of the most referenced object, full documents (_export)",
			Path: pathExport, Req: query.Request{SavedObjects: obj(x.Frequent)}, check: checkExport(obj(x.Frequent), x.Frequent.Docs)},
		{Name: "frequent-object-newest-100", What: "newest 100 of those", Path: pathSearch,
			Req: newestOf, check: checkSearch(newestOf, x.Frequent.Docs, true)},
		{Name: "failures-in-space-newest-100", What: "newest 100 failures in space " + x.Space + ", no time bound",
			Path: pathSearch, Req: failures, check: checkSearch(failures, x.Failures, true)},
		{Name: "count-by-action-day", What: "count by event.action, provider " + suiteCountProvider + ", one day",
			Path: pathAggregate, Req: day, check: checkActions(day, x.Actions)},
		{Name: "rare-object-by-id", What: "the rare object's events by id alone (kibana.saved_objects.id, no type)",
			Path: pathSearch, Req: byID, check: checkSearch(byID, x.RareByID, false)},
	}
}

// checkSearch checks one _search page of req against docs (every match):
// with newestFirst the page must be the suiteNewest newest, newest first,
// else all of docs, oldest first.
func checkSearch(req query.Request, docs []expDoc, newestFirst bool) func(context.Context, *client.Client) (int, error) {
	return func(ctx context.Context, c *client.Client) (int, error) {
		page, err := c.Search(ctx, req)
		if err != nil {
			return 0, err
		}
		if page.Total != len(docs) {
			return len(page.Hits), fmt.Errorf("total %d, want %d", page.Total, len(docs))
		}
		if newestFirst {
			return len(page.Hits), checkNewest(page.Hits, docs)
		}
		return len(page.Hits), checkAll(page.Hits, docs)
	}
}

// checkExport checks that _export of the object's events streams exactly
// docs, oldest first.
func checkExport(o *query.SavedObjects, docs []expDoc) func(context.Context, *client.Client) (int, error) {
	return func(ctx context.Context, c *client.Client) (int, error) {
		var hits []query.Hit
		for h, err := range c.Export(ctx, query.Request{SavedObjects: o}) {
			if err != nil {
				return len(hits), err
			}
			hits = append(hits, h)
		}
		return len(hits), checkAll(hits, docs)
	}
}

// checkAll checks that hits are docs, each once, in @timestamp order.
func checkAll(hits []query.Hit, docs []expDoc) error {
	want := map[docKey]int{}
	for _, d := range docs {
		want[d.Key]++
	}
	if err := inOrder(hits, false); err != nil {
		return err
	}
	for i := range hits {
		k := keyOf(&hits[i].Event)
		if want[k] == 0 {
			return fmt.Errorf("hit %d (_seq %d) is not an expected document, or is repeated", i, hits[i].Seq)
		}
		want[k]--
	}
	if len(hits) != len(docs) {
		return fmt.Errorf("%d documents, want %d", len(hits), len(docs))
	}
	return nil
}

// checkNewest checks that hits are the newest suiteNewest of docs, newest
// first: each is one of docs, none twice, and their timestamps are the
// newest ones (which of two equal timestamps comes is the store's choice).
func checkNewest(hits []query.Hit, docs []expDoc) error {
	all := map[docKey]bool{}
	for _, d := range docs {
		all[d.Key] = true
	}
	want := newest(docs)
	if len(hits) != len(want) {
		return fmt.Errorf("%d documents, want %d", len(hits), len(want))
	}
	if err := inOrder(hits, true); err != nil {
		return err
	}
	seen := map[docKey]bool{}
	for i := range hits {
		k := keyOf(&hits[i].Event)
		if !all[k] || seen[k] {
			return fmt.Errorf("hit %d (_seq %d) is not an expected document, or is repeated", i, hits[i].Seq)
		}
		seen[k] = true
		if ts := hits[i].Event.Timestamp.UnixNano(); ts != want[i].TS {
			return fmt.Errorf("hit %d is stamped %v, want %v", i, time.Unix(0, ts).UTC(), time.Unix(0, want[i].TS).UTC())
		}
	}
	return nil
}

// inOrder checks that hits come by @timestamp, ascending or descending.
func inOrder(hits []query.Hit, descending bool) error {
	for i := 1; i < len(hits); i++ {
		a, b := hits[i-1].Event.Timestamp.UnixNano(), hits[i].Event.Timestamp.UnixNano()
		if descending && b > a || !descending && b < a {
			return fmt.Errorf("hit %d (_seq %d) is out of @timestamp order", i, hits[i].Seq)
		}
	}
	return nil
}

// keyOf is the docKey of a returned document: its content, without the
// _index a run through /es adds.
func keyOf(e *event.Event) docKey {
	c := *e
	c.Index = "" // the engine field a run through /es adds (Config.ES): the content is what is checked
	h := sha256.Sum256(event.AppendJSON(nil, &c))
	return docKey(h[:16])
}

// checkActions checks the terms aggregation of req against the expected
// counts by action.
func checkActions(req query.Request, want map[string]int64) func(context.Context, *client.Client) (int, error) {
	return func(ctx context.Context, c *client.Client) (int, error) {
		a, err := c.Aggregate(ctx, req)
		if err != nil {
			return 0, err
		}
		var terms struct {
			Buckets []struct {
				Key   string `json:"key"`
				Count int64  `json:"count"`
			} `json:"buckets"`
			OtherCount int64 `json:"other_count"`
		}
		if err := json.Unmarshal(a.Aggregations["actions"], &terms); err != nil {
			return a.Total, fmt.Errorf("terms: %w", err)
		}
		got := map[string]int64{}
		for _, b := range terms.Buckets {
			got[b.Key] = b.Count
		}
		var sum int64
		for _, n := range want {
			sum += n
		}
		if !maps.Equal(got, want) || terms.OtherCount != 0 || int64(a.Total) != sum {
			return a.Total, fmt.Errorf("total %d, counts %v; want %d, %v", a.Total, got, sum, sortedCounts(want))
		}
		return a.Total, nil
	}
}

func sortedCounts(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, fmt.Sprintf("%s:%d", k, m[k]))
	}
	return out
}
