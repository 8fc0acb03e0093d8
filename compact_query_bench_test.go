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

// BenchmarkTimeBoundedQueryAfterCompact measures what an on-demand Compact
// does for a query bounded in time: six segments of realistic events that
// each span the same day (six sources backfilling it, 10,000 events each)
// are queried for one hour of alerting events (exact total and the newest
// 100), then Compact merges them and the same query runs again. It reports
// the segments whose time ranges meet the hour (those the query reads)
// and checks the answer is the same.
//
//	go test -run '^$' -bench TimeBoundedQueryAfterCompact -benchtime 200x .
func BenchmarkTimeBoundedQueryAfterCompact(b *testing.B) {
	db := openBench(b, eventlog.Options{CompactionBytesPerSecond: -1, CompactionCPUShare: 1})
	defer db.Close()
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	const perSegment = 10_000
	for i := range 6 {
		gen := bench.NewGenerator(bench.GeneratorConfig{Seed: int64(i + 1), Start: day, Rate: perSegment / 82_000.0, OutOfOrder: -1})
		batch := make([]event.Event, perSegment)
		gen.Fill(batch)
		mustAppend(b, db, batch)
		if err := db.Roll(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	req := query.Request{Filter: "event.provider:alerting", Start: "2026-03-01T10:00:00Z", End: "2026-03-01T11:00:00Z", PerPage: 100}
	hour := [2]time.Time{day.Add(10 * time.Hour), day.Add(11 * time.Hour)}
	var want int
	b.Run("6-overlapping", func(b *testing.B) { want = benchQuery(b, db, req, hour, -1) })
	if res, err := db.Compact(context.Background()); err != nil || res.Inputs != 6 || len(db.Segments()) != 1 {
		b.Fatalf("compact: %+v, %v", res, err)
	}
	b.Run("compacted", func(b *testing.B) { benchQuery(b, db, req, hour, want) })
}

// benchQuery runs req b.N times, checks its total against want (unless
// negative) and returns it; it reports the segments meeting the window.
func benchQuery(b *testing.B, db *eventlog.DB, req query.Request, window [2]time.Time, want int) int {
	meeting := 0
	for _, s := range db.Segments() {
		if !s.MaxTS.Before(window[0]) && !s.MinTS.After(window[1]) {
			meeting++
		}
	}
	b.ReportAllocs()
	total := 0
	for b.Loop() {
		res, err := db.Query(context.Background(), req)
		if err != nil {
			b.Fatal(err)
		}
		total = res.Total
	}
	if want >= 0 && total != want {
		b.Fatalf("total %d, want %d as before", total, want)
	}
	b.ReportMetric(float64(meeting), "segments-read")
	b.ReportMetric(float64(total), "matches")
	return total
}
