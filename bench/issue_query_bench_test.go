package bench

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query"
)

// defaultIssueEvents is the size of BenchmarkIssueQueries' data set, issue
// 15's; EVENTLOG_BENCH_ISSUE_EVENTS overrides it (a smaller one for quick
// runs).
const defaultIssueEvents = 2_000_000

// BenchmarkIssueQueries measures the query figures of issue 15 through
// DB.Query and DB.Aggregate (no HTTP) over a cached store of realistic
// events (see issue_data_test.go):
//
//	rare-object           every event of the object referenced as primary
//	                      closest to 2 times, as full documents (Kibana _find)
//	mid-object            the same for the object closest to 991 times
//	mid-object-by-id      kibana.saved_objects:{id:X} for that object's id,
//	                      without type: what users write
//	frequent-object       every event of the most referenced object, paged
//	                      10,000 at a time with search_after
//	frequent-object-export
//	                      the same through DB.Export (what _export streams)
//	frequent-newest-100   the newest 100 of those, with their total
//	space-failures-newest-100
//	                      the newest 100 failures in one space, no time
//	                      bound, with their total
//	ref-space-count       kibana.saved_objects:{namespace:S} counted: a
//	                      ref's space alone, decided on every ref key
//	provider-day-by-action
//	                      one provider's events in one UTC day, counted by
//	                      event.action
//
// Every answer is checked against counts taken from the generated events
// while the store was built; each hit of a page is checked to match.
func BenchmarkIssueQueries(b *testing.B) {
	n := envInt(b, "EVENTLOG_BENCH_ISSUE_EVENTS", defaultIssueEvents)
	d, dbDir, built, err := loadIssueData(n)
	if err != nil {
		b.Fatal(err)
	}
	if built {
		b.Logf("built the data set in %.1fs", d.BuildSeconds)
	}
	db := openIssueDB(b, dbDir, d)
	ctx := context.Background()
	objectReq := func(r refCount, per int, desc bool) query.Request {
		req := query.Request{SavedObjects: &query.SavedObjects{Type: r.Type, IDs: []string{r.ID}, Space: r.Space}, PerPage: per}
		if desc {
			req.Sort = []query.SortField{{Field: "@timestamp", Order: "desc"}}
		}
		return req
	}
	isObject := func(r refCount) func(*event.Event) bool {
		return func(e *event.Event) bool {
			return slices.ContainsFunc(e.Kibana.SavedObjects, func(o event.SavedObject) bool {
				return o.Primary() && o.Type == r.Type && o.ID == r.ID && o.Space() == r.Space
			})
		}
	}
	page := func(name string, req query.Request, total int, match func(*event.Event) bool) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := &cpuLaps{}
			defer cpu.report(b)
			for b.Loop() {
				cpu.lap()
				res, err := db.Query(ctx, req)
				if err != nil {
					b.Fatal(err)
				}
				checkPage(b, res, req, total, match)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/op")
		})
	}
	page("rare-object", objectReq(d.Rare, query.MaxWindow, false), d.Rare.Count, isObject(d.Rare))
	page("mid-object", objectReq(d.Mid, query.MaxWindow, false), d.Mid.Count, isObject(d.Mid))
	page("mid-object-by-id", query.Request{Filter: "kibana.saved_objects:{id:" + strconv.Quote(d.Mid.ID) + "}", PerPage: query.MaxWindow},
		d.MidByID, func(e *event.Event) bool {
			return slices.ContainsFunc(e.Kibana.SavedObjects, func(o event.SavedObject) bool { return o.ID == d.Mid.ID })
		})
	b.Run("frequent-object", func(b *testing.B) {
		b.ReportAllocs()
		cpu := &cpuLaps{}
		defer cpu.report(b)
		for b.Loop() {
			cpu.lap()
			if got, err := readAll(ctx, db, objectReq(d.Frequent, query.MaxWindow, false), isObject(d.Frequent)); err != nil {
				b.Fatal(err)
			} else if got != d.Frequent.Count {
				b.Fatalf("read %d events, want %d", got, d.Frequent.Count)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/op")
	})
	// The same events through DB.Export, as _export streams them: its
	// pages, its cursor, every hit checked.
	b.Run("frequent-object-export", func(b *testing.B) {
		b.ReportAllocs()
		cpu := &cpuLaps{}
		defer cpu.report(b)
		match := isObject(d.Frequent)
		for b.Loop() {
			cpu.lap()
			got := 0
			err := db.Export(ctx, query.Request{SavedObjects: objectReq(d.Frequent, 0, false).SavedObjects}, func(h query.Hit) error {
				if !match(&h.Event) {
					return fmt.Errorf("hit %d (_seq %d) does not match", got, h.Seq)
				}
				got++
				return nil
			})
			if err != nil {
				b.Fatal(err)
			} else if got != d.Frequent.Count {
				b.Fatalf("exported %d events, want %d", got, d.Frequent.Count)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/op")
	})
	// The same export written as the server's _export writes it: each hit,
	// in place (DB.ExportHits), as its NDJSON document
	// (eventlog.AppendDocument) into a buffer that
	// is emptied every 256 KiB, as a flush would.
	b.Run("frequent-object-export-json", func(b *testing.B) {
		b.ReportAllocs()
		cpu := &cpuLaps{}
		defer cpu.report(b)
		buf := make([]byte, 0, 512<<10)
		for b.Loop() {
			cpu.lap()
			got, size := 0, 0
			err := db.ExportHits(ctx, query.Request{SavedObjects: objectReq(d.Frequent, 0, false).SavedObjects}, func(h *query.Hit) error {
				buf = append(eventlog.AppendDocument(buf, h.Seq, &h.Event), '\n')
				if len(buf) >= 256<<10 {
					size, buf = size+len(buf), buf[:0]
				}
				got++
				return nil
			})
			if err != nil {
				b.Fatal(err)
			} else if got != d.Frequent.Count {
				b.Fatalf("exported %d events, want %d", got, d.Frequent.Count)
			}
			b.ReportMetric(float64(size+len(buf))/float64(got), "B/doc")
			buf = buf[:0]
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/op")
	})
	page("frequent-newest-100", objectReq(d.Frequent, 100, true), d.Frequent.Count, isObject(d.Frequent))
	page("space-failures-newest-100", query.Request{Filter: "event.outcome:failure", Space: failureSpace, PerPage: 100,
		Sort: []query.SortField{{Field: "@timestamp", Order: "desc"}}}, d.SpaceFailures,
		func(e *event.Event) bool { return e.Event.Outcome == "failure" && e.InSpace(failureSpace) })
	// A ref's space alone has no derived term: it is decided on every ref
	// key. The check runs the same condition with a clause no posting key
	// can decide (type_id), which reads the events instead.
	nsFilter := "kibana.saved_objects:{namespace:" + failureSpace + "}"
	nsWant, err := db.Aggregate(ctx, query.Request{Filter: "kibana.saved_objects:{namespace:" + failureSpace + ` and not type_id:"-"}`})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("ref-space-count", func(b *testing.B) {
		b.ReportAllocs()
		cpu := &cpuLaps{}
		defer cpu.report(b)
		for b.Loop() {
			cpu.lap()
			res, err := db.Aggregate(ctx, query.Request{Filter: nsFilter})
			if err != nil {
				b.Fatal(err)
			}
			if res.Total != nsWant.Total {
				b.Fatalf("counted %d, want %d", res.Total, nsWant.Total)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/op")
	})
	byAction := query.Request{Filter: "event.provider:" + countProvider,
		Start: d.DayStart.Format(time.RFC3339Nano), End: d.DayEnd.Format(time.RFC3339Nano),
		Aggs: map[string]query.Agg{"a": {Terms: &query.TermsAgg{Field: "event.action", Size: 100}}}}
	b.Run("provider-day-by-action", func(b *testing.B) {
		b.ReportAllocs()
		cpu := &cpuLaps{}
		defer cpu.report(b)
		for b.Loop() {
			cpu.lap()
			res, err := db.Aggregate(ctx, byAction)
			if err != nil {
				b.Fatal(err)
			}
			got := map[string]int{}
			for _, bk := range res.Aggregations["a"].Buckets {
				got[bk.Key] = int(bk.Count)
			}
			if fmt.Sprint(got) != fmt.Sprint(d.DayActions) {
				b.Fatalf("counts by action %v, want %v", got, d.DayActions)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/1e6/float64(b.N), "ms/op")
	})
}

// cpuLaps measures the process's CPU time (user and system, GC included)
// per iteration of a benchmark loop: the figures to compare on a shared
// machine, whose load stretches wall time far more. Its median and minimum
// are steadier than the mean, since other processes only ever add to an
// iteration's time.
type cpuLaps struct {
	last    time.Duration
	started bool
	laps    []time.Duration
}

func cpuNow() time.Duration {
	u := selfUsage()
	return u.user + u.sys
}

// lap starts an iteration, ending the previous one.
func (c *cpuLaps) lap() {
	now := cpuNow()
	if c.started {
		c.laps = append(c.laps, now-c.last)
	}
	c.last, c.started = now, true
}

// report ends the last iteration and reports cpu-ms/op (the mean),
// cpu-ms/op-median and cpu-ms/op-min.
func (c *cpuLaps) report(b *testing.B) {
	c.lap()
	if len(c.laps) == 0 {
		return
	}
	var total time.Duration
	for _, l := range c.laps {
		total += l
	}
	slices.Sort(c.laps)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }
	b.ReportMetric(ms(total)/float64(len(c.laps)), "cpu-ms/op")
	b.ReportMetric(ms(c.laps[len(c.laps)/2]), "cpu-ms/op-median")
	b.ReportMetric(ms(c.laps[0]), "cpu-ms/op-min")
}

// checkPage checks one page of req: its total, its length, its order and
// that every hit matches.
func checkPage(b *testing.B, res *query.Result, req query.Request, total int, match func(*event.Event) bool) {
	b.Helper()
	if res.Total != total {
		b.Fatalf("total %d, want %d", res.Total, total)
	}
	if want := min(total, req.PerPage); len(res.Hits) != want {
		b.Fatalf("page of %d, want %d", len(res.Hits), want)
	}
	desc := len(req.Sort) > 0 && req.Sort[0].Order == "desc"
	for i := range res.Hits {
		h := &res.Hits[i]
		if !match(&h.Event) {
			b.Fatalf("hit %d (seq %d) does not match", i, h.Seq)
		}
		if i > 0 {
			a, c := res.Hits[i-1].Event.Timestamp.UnixNano(), h.Event.Timestamp.UnixNano()
			if desc && c > a || !desc && c < a {
				b.Fatalf("hit %d out of order", i)
			}
		}
	}
}

// readAll reads every event req selects, a page at a time with
// search_after, checking each matches, and returns how many it read.
func readAll(ctx context.Context, db *eventlog.DB, req query.Request, match func(*event.Event) bool) (int, error) {
	n := 0
	for {
		res, err := db.Query(ctx, req)
		if err != nil {
			return n, err
		}
		for i := range res.Hits {
			if !match(&res.Hits[i].Event) {
				return n, fmt.Errorf("event %d (seq %d) does not match", n+i, res.Hits[i].Seq)
			}
		}
		n += len(res.Hits)
		if res.Next == "" {
			return n, nil
		}
		req.SearchAfter = res.Next
	}
}

// openIssueDB opens the data set read-only, checks it holds every event and
// logs its size and picks.
func openIssueDB(b *testing.B, dir string, d issueData) *eventlog.DB {
	b.Helper()
	db, err := eventlog.Open(dir, eventlog.Options{ReadOnly: true})
	if err != nil {
		b.Fatalf("%v (delete %s to rebuild)", err, dir)
	}
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
	b.Logf("data set %s: %d events, %s on disk (%s; %.1f B/event), %d segments",
		dir, d.Events, mib(sumSizes(sizes)), formatSizes(sizes), float64(sumSizes(sizes))/float64(d.Events), s.Segments)
	b.Logf("rare %+v; mid %+v (%d by id); frequent %+v; %d failures in %s; %s by action %v..%v: %v",
		d.Rare, d.Mid, d.MidByID, d.Frequent, d.SpaceFailures, failureSpace, countProvider,
		d.DayStart.Format(time.RFC3339), d.DayEnd.Format(time.RFC3339), d.DayActions)
	return db
}
