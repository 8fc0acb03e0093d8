package server

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/bench"
	"github.com/eventlogdb/eventlog/internal/cputime"
)

// BenchmarkBulkPath is the server's own work for a _bulk request — read the
// body, decode, validate, encode, digest (Options.Integrity, on as in
// eventlog serve), WAL append and fsync, head insert, answer — without the
// network and the clients: two goroutines call the handler directly with
// bodies of 10,000 realistic events made before the timer starts. The
// store's segments are large enough that nothing seals during a run of up
// to 60 requests, so cpu-µs/event is the ingest path alone (the seal is
// measured by BenchmarkBulk and bench/). One op is one request.
//
//	go test ./server -run '^$' -bench BulkPath -benchtime 40x -count 3
func BenchmarkBulkPath(b *testing.B) {
	const batch, clients = 10_000, 2
	bodies := benchBodies(benchLines(40_000), batch)
	db, err := eventlog.Open(b.TempDir(), eventlog.Options{
		Integrity: true, SegmentMaxBytes: 1 << 40, MemoryLimit: 4 << 30, MaintenanceInterval: -1,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for p, acts := range bench.ProviderActions() {
		if err := db.RegisterProviderActions(p, acts...); err != nil {
			b.Fatal(err)
		}
	}
	h := New(db, Config{}, NewMetrics(), nil).Handler()
	b.SetBytes(int64(len(bodies[0])))
	b.ReportAllocs()
	b.ResetTimer()
	start, cpu := time.Now(), cputime.Process()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
				req := httptest.NewRequest(http.MethodPost, "/api/events/_bulk", bytes.NewReader(bodies[i%int64(len(bodies))]))
				req.Header.Set("Content-Type", ctNDJSON)
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK || !bytes.Contains(w.Body.Bytes()[:min(w.Body.Len(), 64)], []byte(`"errors":false`)) {
					b.Errorf("bulk: %d %.300s", w.Code, w.Body.Bytes())
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), cputime.Process()-cpu
	b.StopTimer()
	b.ReportMetric(float64(b.N*batch)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*batch), "cpu-µs/event")
	if st := db.Stats(); st.LastSeq != uint64(b.N*batch) || st.Segments != 0 {
		b.Fatalf("stored %d events in %d segments, want %d in the head alone", st.LastSeq, st.Segments, b.N*batch)
	}
}
