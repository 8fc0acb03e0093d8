package eventlog_test

import (
	"context"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/bench"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query"
)

// BenchmarkDelete measures a privacy request on a store of realistic
// events in many segments: forgetting one user (of 500) — the Delete call
// (counting what it hides, the WAL write and fsync), the first query after
// it (which computes the hidden rows), and the purge that rewrites the
// segments holding the user's events, at the default compaction pacing.
//
//	go test -run '^$' -bench Delete -benchtime 3x .
func BenchmarkDelete(b *testing.B) {
	const events = 1_000_000
	var deleteTook, queryTook, purgeTook time.Duration
	var deleted, rewritten, segments int
	for range b.N {
		b.StopTimer()
		db := openBench(b, eventlog.Options{SegmentMaxBytes: 8 << 20})
		gen := bench.NewGenerator(bench.GeneratorConfig{Seed: 5})
		batch := make([]event.Event, 10_000)
		for n := 0; n < events; n += len(batch) {
			gen.Fill(batch)
			mustAppend(b, db, batch)
		}
		if err := db.Roll(context.Background()); err != nil {
			b.Fatal(err)
		}
		// A compacted store, as in steady state: the timed Compact below
		// is then the purge alone.
		if _, err := db.Compact(context.Background()); err != nil {
			b.Fatal(err)
		}
		segments += db.Stats().Segments
		b.StartTimer()

		start := time.Now()
		res, err := db.Delete(context.Background(), eventlog.DeleteRequest{Filter: "user.name:user123"})
		deleteTook += time.Since(start)
		if err != nil || res.Deleted == 0 {
			b.Fatalf("delete: %+v, %v", res, err)
		}
		deleted += res.Deleted
		start = time.Now()
		q, err := db.Aggregate(context.Background(), query.Request{Filter: "user.name:user123"})
		queryTook += time.Since(start)
		if err != nil || q.Total != 0 {
			b.Fatalf("after the delete: %+v, %v", q, err)
		}
		start = time.Now()
		cr, err := db.Compact(context.Background())
		purgeTook += time.Since(start)
		if err != nil || db.Stats().Maintenance.PendingDeletes != 0 {
			b.Fatalf("purge: %+v, %v, %+v", cr, err, db.Stats().Maintenance)
		}
		rewritten += int(db.Stats().Maintenance.PurgeRewrites)
		b.StopTimer()
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(deleteTook.Milliseconds())/n, "delete-ms")
	b.ReportMetric(float64(queryTook.Milliseconds())/n, "first-query-ms")
	b.ReportMetric(float64(purgeTook.Milliseconds())/n, "purge-ms")
	b.ReportMetric(float64(deleted)/n, "deleted")
	b.ReportMetric(float64(rewritten)/n, "segments-rewritten")
	b.ReportMetric(float64(segments)/n, "segments")
}
