package eventlog_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	. "github.com/eventlogdb/eventlog" // the benchmark reads as in-package code
	"github.com/eventlogdb/eventlog/bench"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/cputime"
)

// BenchmarkOpenAfterCrash measures Open of a directory whose last 64 MiB of
// WAL (EVENTLOG_BENCH_REPLAY_MIB to change it) of realistic events were never
// sealed, as after a crash: the replay cost, as MB/s of WAL. Both the store
// that wrote the WAL and the reopened one never roll a head by size, like a
// server run with a large --segment-max-bytes, so Open only replays. Aim
// (issue 15): 500 MB/s. cpu-ms/op is the process's CPU time in Open (both
// replay goroutines and the collector), steadier than wall time on a busy
// machine. Open leaves the events' postings to be added after it returns
// (head.Batch.Defer): query-cpu-ms/op is the CPU time of the first query
// after Open, a count by provider, which adds whatever the background has
// not added yet; both together bound replay's whole cost.
//
//	go test -run '^$' -bench OpenAfterCrash -benchtime 5x .
func BenchmarkOpenAfterCrash(b *testing.B) {
	mib := int64(64)
	if s := os.Getenv("EVENTLOG_BENCH_REPLAY_MIB"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			b.Fatalf("EVENTLOG_BENCH_REPLAY_MIB=%q: want a positive number of MiB", s)
		}
		mib = n
	}
	src := b.TempDir()
	// SyncAlways: the WAL copied below must hold every event.
	opts := Options{AllowUnregistered: true, SegmentMaxBytes: 1 << 40, MaintenanceInterval: -1}
	// EVENTLOG_BENCH_REPLAY_INTEGRITY=1 keeps the Merkle tree, as the
	// server does by default: Open then also reads the leaf log.
	opts.Integrity = os.Getenv("EVENTLOG_BENCH_REPLAY_INTEGRITY") == "1"
	db, err := Open(src, opts)
	if err != nil {
		b.Fatal(err)
	}
	gen := bench.NewGenerator(bench.GeneratorConfig{Seed: 1})
	batch := make([]event.Event, 1000)
	for db.Stats().WAL.Bytes < mib<<20 {
		gen.Fill(batch)
		if _, err := db.Append(context.Background(), batch...); err != nil {
			b.Fatal(err)
		}
	}
	events := db.Stats().HeadEvents
	walBytes := db.Stats().WAL.Bytes
	// The copy is the crashed directory: WAL (and integrity data), nothing
	// sealed.
	crashed := b.TempDir()
	copyDir(b, filepath.Join(src, "wal"), filepath.Join(crashed, "wal"))
	if opts.Integrity {
		copyDir(b, filepath.Join(src, IntegrityDir), filepath.Join(crashed, IntegrityDir))
	}
	db.Close()
	b.SetBytes(walBytes)
	var cpu, qcpu time.Duration // the process's CPU time in Open and in the first query
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := filepath.Join(b.TempDir(), "d")
		copyDir(b, crashed, dir)
		b.StartTimer()
		cpu0 := cputime.Process()
		db, err := Open(dir, opts)
		if err != nil {
			b.Fatal(err)
		}
		cpu1 := cputime.Process()
		cpu += cpu1 - cpu0
		b.StopTimer()
		n, err := db.Count(context.Background(), FindRequest{Terms: []Term{{Field: "event.provider", Values: []string{"alerting"}}}})
		qcpu += cputime.Process() - cpu1
		if err != nil || n == 0 {
			b.Fatalf("count of alerting events after Open: %d, %v", n, err)
		}
		if got := db.Stats(); got.HeadEvents+got.SegmentEvents != events {
			b.Fatalf("replayed %d+%d events, want %d", got.HeadEvents, got.SegmentEvents, events)
		}
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(qcpu.Milliseconds())/float64(b.N), "query-cpu-ms/op")
	b.ReportMetric(float64(walBytes)/(1<<20), "WAL-MiB")
	b.ReportMetric(float64(events), "events")
}

func copyDir(b *testing.B, from, to string) {
	b.Helper()
	if err := os.MkdirAll(to, 0o755); err != nil {
		b.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			copyDir(b, filepath.Join(from, e.Name()), filepath.Join(to, e.Name()))
			continue
		}
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}
