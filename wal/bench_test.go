package wal

import (
	"crypto/rand"
	"fmt"
	"hash/crc32"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/internal/cputime"
)

// BenchmarkAppend measures Append throughput per payload size and sync
// policy; "parallel" runs GOMAXPROCS appenders to show group commit.
func BenchmarkAppend(b *testing.B) {
	for _, size := range []int{1 << 10, 400 << 10} {
		for _, p := range []SyncPolicy{SyncAlways, SyncInterval, SyncNone} {
			for _, parallel := range []bool{false, true} {
				if parallel && p != SyncAlways {
					continue
				}
				name := fmt.Sprintf("%dKB/%s", size>>10, p)
				if parallel {
					name += "/parallel"
				}
				b.Run(name, func(b *testing.B) { benchAppend(b, size, p, parallel) })
			}
		}
	}
}

func benchAppend(b *testing.B, size int, p SyncPolicy, parallel bool) {
	w, err := Open(Options{Dir: b.TempDir(), Sync: p}, 0, nil)
	if err != nil {
		b.Fatal(err)
	}
	payload := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	if parallel {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := w.Append(1, payload, nil); err != nil {
					b.Error(err)
					return
				}
			}
		})
	} else {
		for b.Loop() {
			if _, err := w.Append(1, payload, nil); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkAppendBulk appends records the size of a _bulk request of
// 10,000 realistic events (4.5 MB) from two goroutines under SyncAlways,
// with a commit that works the CPU for about as long as the store's head
// insert does, as the server's two _bulk clients make it. It reports the
// mean fsync time (a goroutine in fsync holds its P), and the process CPU
// per record. One op is one record.
//
//	go test ./wal -run '^$' -bench AppendBulk -benchtime 100x
func BenchmarkAppendBulk(b *testing.B) {
	var fsyncs, fsyncNanos atomic.Int64
	w, err := Open(Options{Dir: b.TempDir(), ObserveFsync: func(d time.Duration) {
		fsyncs.Add(1)
		fsyncNanos.Add(int64(d))
	}}, 0, nil)
	if err != nil {
		b.Fatal(err)
	}
	const size = 4_500_000
	recs := [2][]byte{make([]byte, HeaderRoom+size), make([]byte, HeaderRoom+size)}
	work := make([]byte, 4<<20) // commit's CPU: checksumming it takes about a millisecond
	b.SetBytes(size)
	cpu := cputime.Process()
	var next atomic.Int64
	var wg sync.WaitGroup
	for g := range 2 {
		wg.Go(func() {
			for next.Add(1) <= int64(b.N) {
				rand.Read(recs[g][HeaderRoom : HeaderRoom+4096])
				if _, err := w.AppendFramed(1, recs[g], func(uint64) { crc32.Checksum(work, castagnoli) }); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	cpu = cputime.Process() - cpu
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/record")
	if n := fsyncs.Load(); n > 0 {
		b.ReportMetric(float64(fsyncNanos.Load())/1e6/float64(n), "ms/fsync")
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}
