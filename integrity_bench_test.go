package eventlog

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// benchBatch makes a batch of n alerting-like events.
func benchBatch(n, from int) []Event {
	evs := make([]Event, n)
	for i := range evs {
		e := ev("alerting", "execute", "2026-12-01T10:00:00Z")
		e.Message = fmt.Sprintf("rule %d executed: cpu above threshold on host-%d", from+i, (from+i)%97)
		e.Labels = map[string]string{"rule": fmt.Sprintf("r-%d", (from+i)%31)}
		evs[i] = e
	}
	return evs
}

// BenchmarkAppendIntegrity measures ingest with and without the Merkle
// tree in the same run, 1000-event batches, under each sync policy.
func BenchmarkAppendIntegrity(b *testing.B) {
	for _, sync := range []SyncPolicy{SyncAlways, SyncNone} {
		for _, tree := range []bool{false, true} {
			b.Run(fmt.Sprintf("sync=%s/tree=%v", sync, tree), func(b *testing.B) {
				dir := b.TempDir()
				db, err := Open(dir, Options{Integrity: tree, Sync: sync, AllowUnregistered: true, MaintenanceInterval: -1})
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				batch := benchBatch(1000, 0)
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if _, err := db.Append(ctx, batch...); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "events/s")
				if tree {
					b.ReportMetric(float64(dirBytes(b, filepath.Join(dir, IntegrityDir, "leaves")))/float64(b.N*len(batch)), "leaf-log-B/event")
				}
			})
		}
	}
}

// BenchmarkProveEvent measures an inclusion proof's latency in a tree of
// 100,000 leaves (its lower levels read from the leaf log): the event
// read back with its proof (what the API answers), and the tree's part
// alone.
func BenchmarkProveEvent(b *testing.B) {
	db, n := benchSignedStore(b, 100_000)
	b.Run("event+proof", func(b *testing.B) {
		for i := range b.N {
			if _, err := db.ProveEvent(IDOf(uint64(1+i*7919%n)), 0); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("proof", func(b *testing.B) {
		for i := range b.N {
			if _, err := db.integrity.Inclusion(uint64(1+i*7919%n), 0); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerifyChain measures verify --chain's throughput, in events per
// second, over 100,000 events (EVENTLOG_VERIFY_EVENTS sets another count).
// After the timed runs, one more run samples the live heap (a forced GC
// every 20 ms) to report what the store holds once opened read-only
// (open-live-MiB) and the peak while verifying (peak-live-MiB): the
// verifier streams, so the difference stays bounded as the store grows.
func BenchmarkVerifyChain(b *testing.B) {
	n := 100_000
	if s := os.Getenv("EVENTLOG_VERIFY_EVENTS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1000 {
			b.Fatalf("EVENTLOG_VERIFY_EVENTS=%q: want a whole number of at least 1000", s)
		}
		n = v
	}
	db, n := benchSignedStore(b, n)
	dir := db.dir
	db.Close()
	b.ResetTimer()
	for range b.N {
		r, err := VerifyChain(dir, Options{AllowUnregistered: true}, nil)
		if err != nil || len(r.Problems) > 0 || r.Leaves != uint64(n) {
			b.Fatal(err, r.Problems, r.Leaves)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")

	open, peak, after := liveHeapOfVerify(b, dir)
	b.ReportMetric(float64(open)/(1<<20), "open-live-MiB")
	b.ReportMetric(float64(peak)/(1<<20), "peak-live-MiB")
	b.ReportMetric(float64(after)/(1<<20), "after-live-MiB")
}

// liveHeapOfVerify verifies dir once and returns the live heap once the
// store is open read-only, the peak live heap while it verifies, and the
// live heap after, the store still open (what its reads loaded and keep,
// such as segment indexes, as opposed to the verifier's own state).
func liveHeapOfVerify(b *testing.B, dir string) (open, peak, after uint64) {
	live := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	db, err := Open(dir, Options{AllowUnregistered: true, ReadOnly: true, Integrity: true})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	open = live()
	stop, done := make(chan struct{}), make(chan uint64)
	go func() { // stopped below, before liveHeapOfVerify returns
		var p uint64
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			p = max(p, live())
			select {
			case <-stop:
				done <- p
				return
			case <-t.C:
			}
		}
	}()
	_, err = db.verifyChain(ChainOptions{})
	close(stop)
	peak = <-done
	if err != nil {
		b.Fatal(err)
	}
	return open, peak, live()
}

func benchSignedStore(b *testing.B, n int) (*DB, int) {
	b.Helper()
	db, err := Open(b.TempDir(), Options{Integrity: true, Sync: SyncNone, AllowUnregistered: true, MaintenanceInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	for i := 0; i < n; i += 1000 {
		if _, err := db.Append(ctx, benchBatch(1000, i)...); err != nil {
			b.Fatal(err)
		}
	}
	if err := db.Roll(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := db.SignHead(); err != nil {
		b.Fatal(err)
	}
	return db, n
}

// dirBytes is the size of the files in dir.
func dirBytes(b *testing.B, dir string) int64 {
	var n int64
	es, _ := os.ReadDir(dir)
	for _, e := range es {
		if fi, err := e.Info(); err == nil {
			n += fi.Size()
		}
	}
	return n
}
