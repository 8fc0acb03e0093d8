package tiering_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/objstore/objstoretest"
	"github.com/eventlogdb/eventlog/tiering"
)

// BenchmarkWALSyncAck measures what --sync-to-object-store costs an
// append against versitygw on loopback: 16 goroutines append batches of
// 10 events (b.N batches in all) to a tiered store, with the local fsync
// alone (local) and waiting for the WAL chunk upload too (sync). It
// reports events/s and the p50 and p99 acknowledgement latency.
//
//	go test -run '^$' -bench BenchmarkWALSyncAck -benchtime 3000x ./tiering
func BenchmarkWALSyncAck(b *testing.B) {
	srv := objstoretest.Start(b)
	var buckets atomic.Int64 // each run of a sub-benchmark makes its own
	for _, mode := range []string{"local", "sync"} {
		b.Run(mode, func(b *testing.B) {
			s := srv.Store(fmt.Sprintf("bench-%s-%d", mode, buckets.Add(1)), "p")
			up, err := tiering.New(context.Background(), tiering.Config{Store: s, Dir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			defer up.Close()
			opts := eventlog.Options{AllowUnregistered: true, MaintenanceInterval: -1, ManifestObserver: up}
			if mode == "sync" {
				ws, err := up.SyncWAL(context.Background(), tiering.WALSyncConfig{})
				if err != nil {
					b.Fatal(err)
				}
				ws.Start()
				defer ws.Close()
				opts.WALShipper = ws
			}
			db, err := eventlog.Open(b.TempDir(), opts)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			up.Start(db.ManifestCommit())
			batches := make([][]eventlog.Event, 16)
			for g := range batches {
				batches[g] = batchOf(b, g*10, 10)
			}
			lat := make([]time.Duration, b.N)
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for g := range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
						t0 := time.Now()
						if _, err := db.Append(context.Background(), batches[g]...); err != nil {
							b.Error(err)
							return
						}
						lat[i] = time.Since(t0)
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(b.N*10)/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
