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
	"github.com/eventlogdb/eventlog/event"
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
	db := openBenchDB(b, eventlog.Options{
		Integrity: true, SegmentMaxBytes: 1 << 40, MemoryLimit: 4 << 30, MaintenanceInterval: -1,
	})
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

// BenchmarkDecodePart is one _bulk worker's work per document, on one
// goroutine: decode a realistic event (event.Decoder, sharing the body),
// check it and encode it into a part of a Batch (eventlog.BatchPart:
// binary form, integrity digest, posting keys), chunk after chunk, then
// join the part to the Batch as the request's goroutine does. One op is
// one event; no WAL, no head. It isolates the CPU the parallel decode
// workers spend per event:
//
//	go test ./server -run '^$' -bench DecodePart -benchtime 200000x -count 5
func BenchmarkDecodePart(b *testing.B) {
	lines := benchLines(bulkChunk * 8)
	db := openBenchDB(b, eventlog.Options{Integrity: true, MaintenanceInterval: -1})
	s := New(db, Config{}, NewMetrics(), nil)
	opts := event.DecodeOptions{Limits: s.limits(), Shared: true}
	x, p := event.NewDecoder(opts), new(eventlog.BatchPart)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cputime.Process()
	for done := 0; done < b.N; {
		bt := db.NewBatch(bulkChunk)
		bt.StartPart(p, opts.Limits)
		x.Reuse()
		for i := 0; i < bulkChunk && done < b.N; i, done = i+1, done+1 {
			if err := s.decodePart(x, p, nil, lines[done%len(lines)]); err != nil {
				b.Fatal(err)
			}
		}
		if bad := bt.AddPart(p); bad != nil {
			b.Fatal(bad)
		}
		bt.Release()
	}
	b.ReportMetric(float64((cputime.Process()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/event")
}
