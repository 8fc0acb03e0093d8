package eventlog_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/bench"
	"github.com/eventlogdb/eventlog/event"
)

// BenchmarkCompaction measures compaction: how fast Compact merges many
// small segments, and what compaction running in the background does to
// appends offered at a fixed rate.
//
//	go test -run '^$' -bench 'Compaction/merge' -benchtime 3x .
//	go test -run '^$' -bench 'Compaction/ingest' -benchtime 1x .
func BenchmarkCompaction(b *testing.B) {
	b.Run("merge", benchMerge)
	b.Run("ingest", benchIngestDuringCompaction)
}

// benchMerge: 32 segments of 2000 realistic events in one day, merged by
// one Compact at full speed (no pacing). events/s counts events merged.
func benchMerge(b *testing.B) {
	const segments, perSegment = 32, 2000
	b.ReportAllocs()
	var events int
	var took time.Duration
	var in int64
	for range b.N {
		b.StopTimer()
		db := openBench(b, eventlog.Options{CompactionBytesPerSecond: -1, CompactionCPUShare: 1})
		gen := bench.NewGenerator(bench.GeneratorConfig{Start: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)})
		batch := make([]event.Event, perSegment)
		for range segments {
			gen.Fill(batch)
			mustAppend(b, db, batch)
			if err := db.Roll(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
		in += db.Stats().SegmentBytes
		b.StartTimer()
		start := time.Now()
		res, err := db.Compact(context.Background())
		took += time.Since(start)
		b.StopTimer()
		if err != nil || res.Inputs != segments || res.Outputs != 1 {
			b.Fatalf("compact: %+v, %v", res, err)
		}
		events += res.Events
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(in / int64(b.N))
	b.ReportMetric(float64(events)/took.Seconds(), "events/s")
	b.ReportMetric(float64(in)/took.Seconds()/(1<<20), "MiB/s-read")
}

// benchIngestDuringCompaction measures the most events/s one writer
// appends (batches of 100, SyncAlways, 1 MiB heads so segments pile up),
// then offers half of that for ingestSeconds in each of three
// configurations: background maintenance off, every 100 ms at the default
// pacing (64 MiB/s and a quarter of a CPU), and paced at 8 MiB/s. It runs
// the three in turn, rounds times (about 95 s in all), so that other load
// on the machine falls on all three alike, and pools each configuration's
// appends. It reports the latency of an append, timed from when it was
// due (so a stall counts against every batch it delays), the p99 with
// compaction divided by the p99 without, the merges per round and the
// most segments seen.
func benchIngestDuringCompaction(b *testing.B) {
	const ingestSeconds, rounds = 10, 3
	opts := eventlog.Options{SegmentMaxBytes: 1 << 20}
	off := opts
	off.MaintenanceInterval = -1
	def := opts
	def.MaintenanceInterval = 100 * time.Millisecond
	paced := def
	paced.CompactionBytesPerSecond = 8 << 20
	for range b.N {
		maxRate := closedLoopRate(b, opts, 2*time.Second)
		rate := maxRate / 2
		b.ReportMetric(maxRate, "max-events/s")
		b.ReportMetric(rate, "offered-events/s")
		var quiet, busy, slow loopResult
		for range rounds {
			quiet.add(openLoop(b, off, rate, ingestSeconds*time.Second))
			busy.add(openLoop(b, def, rate, ingestSeconds*time.Second))
			slow.add(openLoop(b, paced, rate, ingestSeconds*time.Second))
		}
		quiet.report(b, "off", rounds)
		busy.report(b, "default", rounds)
		slow.report(b, "8MiB/s", rounds)
		b.ReportMetric(float64(busy.p99())/float64(quiet.p99()), "p99-ratio-default")
		b.ReportMetric(float64(slow.p99())/float64(quiet.p99()), "p99-ratio-8MiB/s")
	}
}

func (r loopResult) report(b *testing.B, compaction string, rounds int) {
	b.ReportMetric(ms(r.at(0.50)), "p50-ms-"+compaction)
	b.ReportMetric(ms(r.p99()), "p99-ms-"+compaction)
	b.ReportMetric(ms(r.at(1)), "max-ms-"+compaction)
	b.ReportMetric(float64(r.maxSegments), "segments-max-"+compaction)
	if compaction != "off" {
		b.ReportMetric(float64(r.merges)/float64(rounds), "merges-"+compaction)
	}
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// openBench opens a new store in a temporary directory.
func openBench(b *testing.B, opts eventlog.Options) *eventlog.DB {
	b.Helper()
	opts.AllowUnregistered = true
	if opts.MaintenanceInterval == 0 {
		opts.MaintenanceInterval = -1
	}
	db, err := eventlog.Open(b.TempDir(), opts)
	if err != nil {
		b.Fatal(err)
	}
	return db
}

func mustAppend(b *testing.B, db *eventlog.DB, events []event.Event) {
	b.Helper()
	if _, err := db.Append(context.Background(), events...); err != nil {
		b.Fatal(err)
	}
}

const benchBatch = 100

// benchPool is a pool of realistic events, stamped now when appended.
func benchPool() [][]event.Event {
	gen := bench.NewGenerator(bench.GeneratorConfig{Seed: 3})
	pool := make([][]event.Event, 64)
	for i := range pool {
		pool[i] = make([]event.Event, benchBatch)
		gen.Fill(pool[i])
	}
	return pool
}

func stamp(batch []event.Event) {
	now := event.DateOf(time.Now())
	for i := range batch {
		batch[i].Timestamp = now
	}
}

// closedLoopRate appends batches back to back for d and returns events/s.
func closedLoopRate(b *testing.B, opts eventlog.Options, d time.Duration) float64 {
	b.Helper()
	opts.MaintenanceInterval = -1
	db := openBench(b, opts)
	defer db.Close()
	pool := benchPool()
	start := time.Now()
	n := 0
	for time.Since(start) < d {
		batch := pool[(n/benchBatch)%len(pool)]
		stamp(batch)
		mustAppend(b, db, batch)
		n += len(batch)
	}
	return float64(n) / time.Since(start).Seconds()
}

// loopResult is what open-loop runs saw.
type loopResult struct {
	lat         []time.Duration // every append's latency, sorted
	maxSegments int
	merges      int64
}

// add pools the appends of another run into r.
func (r *loopResult) add(o loopResult) {
	r.lat = append(r.lat, o.lat...)
	slices.Sort(r.lat)
	r.maxSegments = max(r.maxSegments, o.maxSegments)
	r.merges += o.merges
}

// at returns the q-quantile (0..1) of the latencies.
func (r loopResult) at(q float64) time.Duration {
	return r.lat[int(q*float64(len(r.lat)-1))]
}

func (r loopResult) p99() time.Duration { return r.at(0.99) }

// openLoop offers rate events/s for d, a batch each time one is due, and
// times each append from when it was due.
func openLoop(b *testing.B, opts eventlog.Options, rate float64, d time.Duration) loopResult {
	b.Helper()
	db := openBench(b, opts)
	defer db.Close()
	pool := benchPool()
	every := time.Duration(float64(time.Second) * benchBatch / rate)
	var res loopResult
	start := time.Now()
	nextSample := start
	for i := 0; ; i++ {
		due := start.Add(time.Duration(i) * every)
		if due.Sub(start) >= d {
			break
		}
		time.Sleep(time.Until(due))
		batch := pool[i%len(pool)]
		stamp(batch)
		mustAppend(b, db, batch)
		res.lat = append(res.lat, time.Since(due))
		if time.Now().After(nextSample) {
			res.maxSegments = max(res.maxSegments, db.Stats().Segments)
			nextSample = time.Now().Add(50 * time.Millisecond)
		}
	}
	slices.Sort(res.lat)
	res.merges = db.Stats().Maintenance.Compactions
	return res
}
