package wal

import (
	"fmt"
	"testing"
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
