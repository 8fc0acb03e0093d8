package bench

import (
	"context"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/query"
)

// BenchmarkQuery measures the query engine over the same cached data set as
// BenchmarkFind (EVENTLOG_BENCH_FIND_EVENTS, default 10M):
//
//	selective-newest-20   the 20 newest events of selectiveFilter, with total
//	selective-count       the total alone (no page)
//	terms-action-day      terms on event.action over the generator's UTC day
//	stats-duration        stats (percentiles too) of event.duration for the
//	                      alerting provider over the whole range
//
// Each answer is checked against DB.Count, the storage core's separate
// counting path.
func BenchmarkQuery(b *testing.B) {
	n := envInt(b, "EVENTLOG_BENCH_FIND_EVENTS", defaultFindEvents)
	d, dbDir, _, err := loadFindData(n)
	if err != nil {
		b.Fatal(err)
	}
	db := openFindDB(b, dbDir, d)
	ctx := context.Background()
	count := func(req eventlog.FindRequest) int {
		n, err := db.Count(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		return n
	}
	selective := count(eventlog.FindRequest{Terms: []eventlog.Term{
		{Field: "event.provider", Values: []string{"alerting"}}, {Field: "event.outcome", Values: []string{"failure"}},
	}})
	day := count(eventlog.FindRequest{Start: d.WindowStart, End: d.WindowEnd})
	alerting := count(eventlog.FindRequest{Terms: []eventlog.Term{{Field: "event.provider", Values: []string{"alerting"}}}})
	dayStart, dayEnd := d.WindowStart.Format(time.RFC3339Nano), d.WindowEnd.Format(time.RFC3339Nano)

	run := func(name string, req query.Request, agg bool, check func(*query.Result) (got, want int)) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				q := db.Query
				if agg {
					q = db.Aggregate
				}
				res, err := q(ctx, req)
				if err != nil {
					b.Fatal(err)
				}
				if got, want := check(res); got != want {
					b.Fatalf("got %d, want %d", got, want)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/op")
		})
	}
	run("selective-newest-20", selectiveNewestRequest(20), false, func(r *query.Result) (int, int) {
		if len(r.Hits) != min(20, selective) {
			b.Fatalf("page of %d, want %d", len(r.Hits), min(20, selective))
		}
		return r.Total, selective
	})
	run("selective-count", selectiveCountRequest(), true,
		func(r *query.Result) (int, int) { return r.Total, selective })
	run("terms-action-day", termsActionRequest(dayStart, dayEnd), true, func(r *query.Result) (int, int) {
		n := r.Aggregations["a"].OtherCount
		for _, bk := range r.Aggregations["a"].Buckets {
			n += bk.Count
		}
		return int(n), day // every generated event has an action
	})
	run("stats-duration", statsDurationRequest(), true, func(r *query.Result) (int, int) {
		if c := r.Aggregations["d"].Stats.Count; c == 0 || c > int64(alerting) {
			b.Fatalf("stats over %d durations of %d alerting events", c, alerting)
		}
		return r.Total, alerting
	})
}
