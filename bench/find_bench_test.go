package bench

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
)

// defaultFindEvents is the size of BenchmarkFind's data set;
// EVENTLOG_BENCH_FIND_EVENTS overrides it.
const defaultFindEvents = 10_000_000

// findCase is one sub-benchmark of BenchmarkFind.
type findCase struct {
	name string
	req  eventlog.FindRequest
	// count runs DB.Count instead of Find (one page).
	count bool
	// want is the number of events one op must see (or count).
	want int
}

// findCases are the queries of BenchmarkFind over d:
//
//	rare-id                   all events of an object referenced about
//	                          rareTarget times
//	frequent-id-newest-20     the 20 newest events of the most referenced
//	                          object
//	provider-action-day       DB.Count of the alerting/execute events in the
//	                          UTC day of the generator's start; at the
//	                          default 1,000 events/s 10M events span ~2.8
//	                          hours, so the day covers the whole data set but
//	                          for the few late events stamped before it
//	provider-action-day-page  the first page (ascending, Limit 100) of that
//	                          query
func findCases(d findData) []findCase {
	refFilter := func(r refCount) *eventlog.RefFilter {
		return &eventlog.RefFilter{Type: r.Type, IDs: []string{r.ID}, Space: r.Space}
	}
	window := func(limit int) eventlog.FindRequest {
		return eventlog.FindRequest{
			Start: d.WindowStart, End: d.WindowEnd, Limit: limit,
			Terms: []eventlog.Term{
				{Field: "event.provider", Values: []string{windowProvider}},
				{Field: "event.action", Values: []string{windowAction}},
			},
		}
	}
	return []findCase{{
		name: "rare-id",
		req:  eventlog.FindRequest{SavedObjects: refFilter(d.Rare), Limit: eventlog.MaxLimit},
		want: min(d.Rare.Count, eventlog.MaxLimit),
	}, {
		name: "frequent-id-newest-20",
		req:  eventlog.FindRequest{SavedObjects: refFilter(d.Frequent), Order: eventlog.Descending, Limit: 20},
		want: min(d.Frequent.Count, 20),
	}, {
		name:  "provider-action-day",
		req:   window(0), // Count ignores Limit
		count: true,
		want:  d.WindowMatches,
	}, {
		name: "provider-action-day-page",
		req:  window(100),
		want: min(d.WindowMatches, 100),
	}}
}

// BenchmarkFind measures Find over a store of EVENTLOG_BENCH_FIND_EVENTS
// (default 10M) realistic events, built once and cached on disk (see
// find_data_test.go; delete the cache directory to rebuild). The store is
// opened read-only. Each op's answer is checked against the counts gathered
// while building; ms/op repeats ns/op in a readable unit. Run with -v to see
// the data set's size on disk, event count and chosen ids.
func BenchmarkFind(b *testing.B) {
	n := envInt(b, "EVENTLOG_BENCH_FIND_EVENTS", defaultFindEvents)
	d, dbDir, built, err := loadFindData(n)
	if err != nil {
		b.Fatal(err)
	}
	if built {
		b.Logf("built the data set in %.1fs", d.BuildSeconds)
	}
	db := openFindDB(b, dbDir, d)
	for _, c := range findCases(d) {
		b.Run(c.name, func(b *testing.B) { benchFind(b, db, c) })
	}
}

func benchFind(b *testing.B, db *eventlog.DB, c findCase) {
	ctx := context.Background()
	b.ReportAllocs()
	var got int
	for b.Loop() {
		var err error
		if c.count {
			got, err = db.Count(ctx, c.req)
		} else {
			got, err = findPage(ctx, db, c.req)
		}
		if err != nil {
			b.Fatal(err)
		}
		if got != c.want {
			b.Fatalf("found %d events, want %d", got, c.want)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/op")
	b.ReportMetric(float64(got), "events/op")
}

// findPage runs req (one page) and returns how many events it read,
// checking their order.
func findPage(ctx context.Context, db *eventlog.DB, req eventlog.FindRequest) (int, error) {
	it, err := db.Find(ctx, req)
	if err != nil {
		return 0, err
	}
	n, err := drain(it, req.Order)
	return n, errors.Join(err, it.Close())
}

// drain reads every record of it, checking they come in order.
func drain(it *eventlog.Iterator, order eventlog.Order) (int, error) {
	n := 0
	var prev time.Time
	for it.Next() {
		ts := it.Record().Event.Timestamp.Time()
		if n > 0 && (order == eventlog.Descending && ts.After(prev) || order == eventlog.Ascending && ts.Before(prev)) {
			return n, fmt.Errorf("record %d at %v is out of order after %v", n, ts, prev)
		}
		prev = ts
		n++
	}
	return n, it.Err()
}

// openFindDB opens the data set read-only, checks it holds every event and
// logs its size.
func openFindDB(b *testing.B, dir string, d findData) *eventlog.DB {
	b.Helper()
	start := time.Now()
	db, err := eventlog.Open(dir, eventlog.Options{ReadOnly: true})
	if err != nil {
		b.Fatalf("%v (delete %s to rebuild)", err, dir)
	}
	opened := time.Since(start)
	b.Cleanup(func() {
		if err := db.Close(); err != nil {
			b.Error(err)
		}
	})
	s := db.Stats()
	if s.SegmentEvents+s.HeadEvents != d.Events || len(s.Quarantined) > 0 {
		b.Fatalf("%s holds %d events (%d in heads), quarantined %v; want %d: delete it to rebuild",
			dir, s.SegmentEvents+s.HeadEvents, s.HeadEvents, s.Quarantined, d.Events)
	}
	sizes := mustDirSizes(b, dir)
	b.Logf("data set %s: %d events, %s on disk (%s; %.1f B/event), %d segments, %v to %v; opened read-only in %v",
		dir, d.Events, mib(sumSizes(sizes)), formatSizes(sizes), float64(sumSizes(sizes))/float64(d.Events),
		s.Segments, d.MinTS.Format(time.RFC3339), d.MaxTS.Format(time.RFC3339), opened.Round(time.Millisecond))
	b.Logf("rare id %s/%s in %s: %d events; frequent id %s/%s in %s: %d events; %s/%s in %v..%v: %d events",
		d.Rare.Type, d.Rare.ID, d.Rare.Space, d.Rare.Count, d.Frequent.Type, d.Frequent.ID, d.Frequent.Space,
		d.Frequent.Count, windowProvider, windowAction, d.WindowStart.Format(time.RFC3339),
		d.WindowEnd.Format(time.RFC3339Nano), d.WindowMatches)
	return db
}
