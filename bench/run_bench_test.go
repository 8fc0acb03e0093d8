package bench

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/server"
)

// runBenchWorkload is the default workload of `eventlog bench`, made once.
var runBenchWorkload = sync.OnceValue(func() *Workload {
	return GeneratedWorkload(GeneratorConfig{Seed: 1, Rate: SpreadRate(DefaultEvents)})
})

// BenchmarkRun measures what `eventlog bench` measures, through the same
// code: Run appending b.N batches of 1000 generated events with two
// writers under SyncAlways, to the embedded engine and to a server over
// loopback HTTP (httptest, _bulk). One op is one batch; ns/op includes the
// final seal and, for the embedded engine, removing the directory. The
// events/s, p99-ms and B/event metrics are the report's.
func BenchmarkRun(b *testing.B) {
	b.Run("embedded", func(b *testing.B) { benchRun(b, Config{}) })
	b.Run("http", func(b *testing.B) {
		db, err := eventlog.Open(b.TempDir(), eventlog.Options{})
		if err != nil {
			b.Fatal(err)
		}
		srv := httptest.NewServer(server.New(db, server.Config{}, nil, nil).Handler())
		defer func() {
			srv.Close()
			if err := db.Close(); err != nil {
				b.Error(err)
			}
		}()
		benchRun(b, Config{URL: srv.URL})
	})
}

func benchRun(b *testing.B, cfg Config) {
	cfg.Workload = runBenchWorkload()
	cfg.Batch, cfg.Concurrency = 1000, 2
	cfg.Events = int64(b.N) * int64(cfg.Batch)
	b.SetBytes(int64(cfg.Workload.AvgJSON() * float64(cfg.Batch)))
	b.ResetTimer()
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(rep.Throughput.EventsPerSec, "events/s")
	b.ReportMetric(rep.Append.P99, "p99-ms")
	if rep.Disk != nil {
		b.ReportMetric(rep.Disk.BytesPerEvent, "B/event")
	}
}
