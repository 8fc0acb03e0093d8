package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/cputime"
)

// Storage benchmarks: what an event costs on disk (BenchmarkBytesPerEvent)
// and how fast a full head is sealed into segments (BenchmarkSeal). Reads over
// a large store are in find_bench_test.go. All of them only run with -bench.

const (
	// defaultSizeEvents is BenchmarkBytesPerEvent's event count;
	// EVENTLOG_BENCH_EVENTS overrides it.
	defaultSizeEvents = 1_000_000
	// sealEvents is the size of the head BenchmarkSeal seals.
	sealEvents = 200_000
	// fillBatch is the Append batch of the streaming fills: events are
	// generated and appended fillBatch at a time, never all held at once.
	fillBatch = 1000
)

// BenchmarkBytesPerEvent appends N realistic events (SyncNone, default segment
// size) to a fresh DB, closes it and sums the sizes of every file in the
// data directory. It reports that total per event ("B/event"), the events'
// average JSON size ("json-B/event") and their ratio ("ratio" = JSON / disk).
// The segment files and the WAL are also reported on their own: the WAL's
// last file (up to WALMaxFileBytes) survives Close even though it is sealed.
// One op is the whole fill and close; its ns/op includes generating and
// JSON-encoding the events, so it is not an append throughput.
func BenchmarkBytesPerEvent(b *testing.B) {
	n := envInt(b, "EVENTLOG_BENCH_EVENTS", defaultSizeEvents)
	opts := eventlog.Options{Sync: eventlog.SyncNone}
	var disk map[string]int64
	var jsonBytes int64
	for b.Loop() {
		dir := filepath.Join(b.TempDir(), "db")
		db := openDB(b, dir, opts)
		jsonBytes = mustFill(b, db, NewGenerator(GeneratorConfig{Seed: 1}), n, nil)
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		disk = mustDirSizes(b, dir)
		if err := os.RemoveAll(dir); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	total := sumSizes(disk)
	b.Logf("%d events: %s on disk (%s), %s of JSON", n, mib(total), formatSizes(disk), mib(jsonBytes))
	b.ReportMetric(float64(total)/float64(n), "B/event")
	b.ReportMetric(float64(jsonBytes)/float64(n), "json-B/event")
	b.ReportMetric(float64(jsonBytes)/float64(total), "ratio")
	b.ReportMetric(float64(disk["segments"])/float64(n), "seg-B/event")
	b.ReportMetric(float64(disk["wal"])/float64(n), "wal-B/event")
}

// BenchmarkSeal measures sealing: a head of sealEvents events (SegmentMaxBytes
// and SegmentMaxAge large enough that nothing seals early) is filled with
// the timer stopped, then DB.Roll — seal into segment files and wait — is
// timed. One op is one Roll; events/s and MB/s (of the events' JSON) are the
// throughput, cpu-ns/event the process's CPU time during the Rolls per
// event (which holds when other work stretches the wall time).
func BenchmarkSeal(b *testing.B) {
	opts := eventlog.Options{Sync: eventlog.SyncNone, SegmentMaxBytes: 1 << 40, SegmentMaxAge: 1000 * time.Hour}
	var jsonBytes int64
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		dir := filepath.Join(b.TempDir(), "db")
		db := openDB(b, dir, opts)
		jsonBytes = mustFill(b, db, NewGenerator(GeneratorConfig{Seed: 1}), sealEvents, nil)
		checkHeadEvents(b, db, sealEvents)
		runtime.GC() // the fill's garbage is not the seal's to collect
		cpu += timedRoll(b, db)
		checkHeadEvents(b, db, 0)
		closeAndRemove(b, db, dir)
		b.StartTimer()
	}
	b.SetBytes(jsonBytes)
	b.ReportMetric(float64(sealEvents*b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(sealEvents*b.N), "cpu-ns/event")
}

// BenchmarkSealServerHeads measures sealing as eventlog serve does it
// under bench http --events 2000000: heads of serverHeadEvents events
// (what the default 256 MiB memory limit rolls a head at) of events
// spread over 30 days, so that a head often spans two days and seals into
// two segments. One op fills and seals serverHeads heads one after the
// other in one store, the fills untimed; cpu-ns/event is the process's
// CPU time during the Rolls per event, segment-B/event the size of the
// segments an op leaves (not merged) per event.
func BenchmarkSealServerHeads(b *testing.B) {
	const (
		serverHeadEvents = 20_000
		serverHeads      = 10
	)
	opts := eventlog.Options{Sync: eventlog.SyncNone, SegmentMaxBytes: 1 << 40, SegmentMaxAge: 1000 * time.Hour}
	var cpu time.Duration
	var segBytes int64 // the segments' size after one op
	for b.Loop() {
		b.StopTimer()
		dir := filepath.Join(b.TempDir(), "db")
		db := openDB(b, dir, opts)
		db.PauseCompaction()
		g := NewGenerator(GeneratorConfig{Seed: 1, Rate: SpreadRate(2_000_000)})
		for range serverHeads {
			mustFill(b, db, g, serverHeadEvents, nil)
			runtime.GC() // the fill's garbage is not the seal's to collect
			cpu += timedRoll(b, db)
		}
		checkHeadEvents(b, db, 0)
		segBytes = mustDirSizes(b, dir)["segments"]
		closeAndRemove(b, db, dir)
		b.StartTimer()
	}
	b.ReportMetric(float64(serverHeadEvents*serverHeads*b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(serverHeadEvents*serverHeads*b.N), "cpu-ns/event")
	b.ReportMetric(float64(segBytes)/float64(serverHeadEvents*serverHeads), "segment-B/event")
}

// timedRoll seals what db's heads hold (DB.Roll), the benchmark's timer
// running only meanwhile, and returns the process's CPU time it took.
func timedRoll(b *testing.B, db *eventlog.DB) time.Duration {
	b.Helper()
	b.StartTimer()
	start := cputime.Process()
	if err := db.Roll(context.Background()); err != nil {
		b.Fatal(err)
	}
	cpu := cputime.Process() - start
	b.StopTimer()
	return cpu
}

// closeAndRemove closes db and removes its directory dir.
func closeAndRemove(b *testing.B, db *eventlog.DB, dir string) {
	b.Helper()
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
}

// checkHeadEvents fails unless db's heads hold want events.
func checkHeadEvents(b *testing.B, db *eventlog.DB, want int) {
	b.Helper()
	if s := db.Stats(); s.HeadEvents != want || s.SealError != "" {
		b.Fatalf("heads hold %d events (want %d), %d segments, seal error %q", s.HeadEvents, want, s.Segments, s.SealError)
	}
}

// openDB opens a DB in dir with every provider/action the generator emits
// registered; it is closed when the benchmark ends (Close is idempotent, so
// closing it earlier is fine).
func openDB(tb testing.TB, dir string, opts eventlog.Options) *eventlog.DB {
	tb.Helper()
	db, err := eventlog.Open(dir, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	if err := registerAll(db); err != nil {
		tb.Fatal(err)
	}
	return db
}

func registerAll(db *eventlog.DB) error { return register(db, ProviderActions()) }

// fill appends the next n events of g to db in batches of fillBatch, calling
// observe (if set) with each event and its JSON size before it is appended,
// and returns the events' total JSON size. Memory stays at one batch.
func fill(db *eventlog.DB, g *Generator, n int, observe func(e *event.Event, jsonLen int)) (int64, error) {
	ctx := context.Background()
	batch := make([]event.Event, fillBatch)
	var buf []byte
	var total int64
	for done := 0; done < n; {
		evs := batch[:min(fillBatch, n-done)]
		g.Fill(evs)
		for i := range evs {
			buf = event.AppendJSON(buf[:0], &evs[i])
			total += int64(len(buf))
			if observe != nil {
				observe(&evs[i], len(buf))
			}
		}
		if _, err := db.Append(ctx, evs...); err != nil {
			return total, fmt.Errorf("append events %d..%d: %w", done, done+len(evs)-1, err)
		}
		done += len(evs)
	}
	return total, nil
}

func mustFill(b *testing.B, db *eventlog.DB, g *Generator, n int, observe func(*event.Event, int)) int64 {
	b.Helper()
	total, err := fill(db, g, n, observe)
	if err != nil {
		b.Fatal(err)
	}
	return total
}

func mustDirSizes(tb testing.TB, dir string) map[string]int64 {
	tb.Helper()
	sizes, err := dirSizes(dir)
	if err != nil {
		tb.Fatal(err)
	}
	return sizes
}

// formatSizes lists sizes by name, e.g. "segments 51.2 MiB, wal 0 B".
func formatSizes(sizes map[string]int64) string {
	names := make([]string, 0, len(sizes))
	for name := range sizes {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = name + " " + mib(sizes[name])
	}
	return strings.Join(parts, ", ")
}

// mib formats n bytes in MiB, or in bytes below 1 MiB.
func mib(n int64) string {
	if n < 1<<20 {
		return strconv.FormatInt(n, 10) + " B"
	}
	return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
}

// envInt returns the positive integer in the environment variable name, or
// def when it is unset.
func envInt(tb testing.TB, name string, def int) int {
	tb.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
	if err != nil || n <= 0 {
		tb.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}
