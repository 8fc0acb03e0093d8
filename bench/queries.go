package bench

import (
	"context"
	"time"

	"github.com/eventlogdb/eventlog/query"
)

// selectiveFilter is the filter of the selective queries: about 1.4% of
// generated events match it.
const selectiveFilter = "event.provider:alerting and event.outcome:failure"

// QueryKind is one query of the mix a run issues alongside ingest
// (Config.QueryRate); BenchmarkQuery times the same requests over a static
// store.
type QueryKind struct {
	Name string
	Req  query.Request
	// Aggregate runs Req without its page: DB.Aggregate, or the server's
	// _aggregate (else DB.Query, or _search).
	Aggregate bool
}

// QueryMix returns the kinds a run cycles through, in order.
func QueryMix() []QueryKind {
	return []QueryKind{
		{Name: "selective-newest-20", Req: selectiveNewestRequest(20)},
		{Name: "selective-count", Req: selectiveCountRequest(), Aggregate: true},
		{Name: "terms-action", Req: termsActionRequest("", ""), Aggregate: true},
		{Name: "stats-duration", Req: statsDurationRequest(), Aggregate: true},
		{Name: "object-newest-20", Req: objectNewestRequest(20)},
	}
}

// selectiveNewestRequest asks for the n newest events of selectiveFilter,
// with their total.
func selectiveNewestRequest(n int) query.Request {
	return query.Request{Filter: selectiveFilter, Sort: []query.SortField{{Field: "@timestamp", Order: "desc"}}, PerPage: n}
}

// selectiveCountRequest counts selectiveFilter (run it with Aggregate).
func selectiveCountRequest() query.Request { return query.Request{Filter: selectiveFilter} }

// termsActionRequest counts events per event.action between start and end
// ("" for unbounded).
func termsActionRequest(start, end string) query.Request {
	return query.Request{Start: start, End: end, Aggs: map[string]query.Agg{
		"a": {Terms: &query.TermsAgg{Field: "event.action", Size: 10}},
	}}
}

// statsDurationRequest computes the stats (percentiles too) of
// event.duration over the alerting provider.
func statsDurationRequest() query.Request {
	return query.Request{Filter: "event.provider:alerting", Aggs: map[string]query.Agg{
		"d": {Stats: &query.StatsAgg{Field: "event.duration"}},
	}}
}

// objectNewestRequest asks for the n newest events of the generator's most
// referenced rule (object 0, the head of the Zipf draw), as Kibana's
// _find on one rule does.
func objectNewestRequest(n int) query.Request {
	return query.Request{
		SavedObjects: &query.SavedObjects{Type: "alert", IDs: []string{objectID(0)}, Space: spaceOf(0)},
		Sort:         []query.SortField{{Field: "@timestamp", Order: "desc"}},
		PerPage:      n,
	}
}

// queryRunner issues QueryMix in turn at a fixed rate, one query at a
// time, timing each from when it was due.
type queryRunner struct {
	t     target
	rate  float64
	kinds []QueryKind
	hists []*Histogram
	errs  []int64
	first []string // the first error of each kind
}

func newQueryRunner(t target, rate float64) *queryRunner {
	kinds := QueryMix()
	q := &queryRunner{t: t, rate: rate, kinds: kinds,
		hists: make([]*Histogram, len(kinds)), errs: make([]int64, len(kinds)), first: make([]string, len(kinds))}
	for i := range q.hists {
		q.hists[i] = NewHistogram()
	}
	return q
}

// loop runs query k at start + k/rate seconds until stop is closed.
func (q *queryRunner) loop(ctx context.Context, start time.Time, stop <-chan struct{}) {
	for k := 0; ; k++ {
		due := start.Add(time.Duration(float64(k) / q.rate * float64(time.Second)))
		if !sleepUntil(due, stop) {
			return
		}
		i := k % len(q.kinds)
		if err := q.t.query(ctx, q.kinds[i]); err != nil {
			if isStop(ctx, err) {
				return
			}
			if q.errs[i]++; q.errs[i] == 1 {
				q.first[i] = err.Error()
			}
			continue
		}
		q.hists[i].Record(time.Since(due))
	}
}

// latencies reports each kind's latency; call it once loop has returned.
func (q *queryRunner) latencies() []QueryLatency {
	out := make([]QueryLatency, len(q.kinds))
	for i, k := range q.kinds {
		out[i] = QueryLatency{Kind: k.Name, Errors: q.errs[i], FirstError: q.first[i], Latency: q.hists[i].Latency()}
	}
	return out
}
