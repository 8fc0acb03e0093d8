package bench

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/server"
)

// smallWorkload is shared by the run tests: generating is the slow part.
var smallWorkload = GeneratedWorkload(GeneratorConfig{Seed: 1})

func mustRun(t *testing.T, cfg Config) *Report {
	t.Helper()
	if cfg.Workload == nil {
		cfg.Workload = smallWorkload
	}
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestRunEmbedded(t *testing.T) {
	var progress atomic.Int64
	rep := mustRun(t, Config{
		Events: 5000, Batch: 100, Concurrency: 3, Sync: eventlog.SyncNone, QueryRate: 500,
		Progress: func(Progress) { progress.Add(1) },
	})
	if want := smallWorkload.Fill(make([]event.Event, 5000), 0); rep.Events != 5000 || rep.Append.Count != 50 || rep.JSONBytes != want {
		t.Fatalf("%d events (%d bytes of JSON, want %d) in %d appends", rep.Events, rep.JSONBytes, want, rep.Append.Count)
	}
	if rep.Throughput.EventsPerSec <= 0 || rep.Throughput.MBPerSec <= 0 || rep.Append.P50 <= 0 || rep.Append.Max < rep.Append.P999 {
		t.Fatalf("throughput %+v, latency %+v", rep.Throughput, rep.Append)
	}
	d := rep.Disk
	if d == nil || d.BytesPerEvent <= 0 || d.CompressionRatio <= 1 || d.Segments == 0 || d.SegmentBytes == 0 {
		t.Fatalf("disk %+v", d)
	}
	if rep.Process.CPUSeconds <= 0 || rep.Process.PeakRSSBytes <= 0 {
		t.Fatalf("process %+v", rep.Process)
	}
	var seriesEvents int64
	for _, s := range rep.Series {
		seriesEvents += s.Events
	}
	if seriesEvents != rep.Events || progress.Load() == 0 {
		t.Fatalf("series holds %d events, progress called %d times", seriesEvents, progress.Load())
	}
	if len(rep.Queries) != len(QueryMix()) || rep.Queries[0].Count == 0 || rep.Queries[0].Errors > 0 {
		t.Fatalf("queries %+v", rep.Queries)
	}
	if _, err := os.Stat(rep.Config.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temporary directory %s left behind: %v", rep.Config.Dir, err)
	}
}

func TestRunEmbeddedGivenDir(t *testing.T) {
	dir := t.TempDir()
	rep := mustRun(t, Config{Dir: dir, Events: 3000, Batch: 1000, Concurrency: 1})
	if rep.WAL.Fsyncs == 0 || rep.Config.Sync != "always" {
		t.Fatalf("sync %s made %d fsyncs", rep.Config.Sync, rep.WAL.Fsyncs)
	}
	db, err := eventlog.Open(dir, eventlog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if s := db.Stats(); s.SegmentEvents != 3000 || s.HeadEvents != 0 {
		t.Fatalf("directory holds %d sealed and %d head events, want 3000 sealed", s.SegmentEvents, s.HeadEvents)
	}
}

// TestRunOpenLoop checks that a Rate paces the batches and that Duration
// stops at the last batch due before it.
func TestRunOpenLoop(t *testing.T) {
	// Small batches at a modest rate, so a loaded machine keeps up.
	rep := mustRun(t, Config{Duration: 300 * time.Millisecond, Rate: 1000, Batch: 10, Sync: eventlog.SyncNone})
	if rep.Events != 300 {
		t.Fatalf("%d events, want the 30 batches due in 300ms at 1k events/s", rep.Events)
	}
	if rep.Seconds < 0.29 {
		t.Fatalf("ran %.3fs, want about 0.3s", rep.Seconds)
	}
}

// TestRunCancelled: a run cancelled once some events are acknowledged
// (not after a fixed time, which a loaded machine may spend opening the
// store) stops and still reports them, with the disk they took.
func TestRunCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const total = 1 << 40
	progress := func(p Progress) {
		if p.Events > 0 {
			cancel()
		}
	}
	rep, err := Run(ctx, Config{Workload: smallWorkload, Events: total, Rate: 5000, Batch: 50, Sync: eventlog.SyncNone, Progress: progress})
	if !errors.Is(err, context.Canceled) || rep == nil {
		t.Fatalf("Run = %v, %v; want a report and the context's error", rep, err)
	}
	if rep.Events == 0 || rep.Events >= total || rep.Disk == nil {
		t.Fatalf("interrupted run reports %d events, disk %v", rep.Events, rep.Disk)
	}
}

// newServer serves a fresh DB over HTTP through handler wrappers.
func newServer(t *testing.T, wrap func(http.Handler) http.Handler) (*httptest.Server, *eventlog.DB) {
	t.Helper()
	db, err := eventlog.Open(t.TempDir(), eventlog.Options{Sync: eventlog.SyncNone})
	if err != nil {
		t.Fatal(err)
	}
	h := server.New(db, server.Config{}, nil, nil).Handler()
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return srv, db
}

func TestRunHTTP(t *testing.T) {
	srv, db := newServer(t, nil)
	rep := mustRun(t, Config{URL: srv.URL, Events: 4000, Batch: 250, Concurrency: 2, QueryRate: 200})
	if rep.Events != 4000 || db.Stats().LastSeq != 4000 {
		t.Fatalf("reported %d events, server stored %d", rep.Events, db.Stats().LastSeq)
	}
	if rep.Disk != nil || rep.Server == nil || rep.Server.CPUSeconds <= 0 || rep.Config.Target != "http" {
		t.Fatalf("disk %v, server %+v", rep.Disk, rep.Server)
	}
	for _, q := range rep.Queries {
		if q.Errors > 0 {
			t.Errorf("query %s: %d errors, first %s", q.Kind, q.Errors, q.FirstError)
		}
	}
}

func TestRunHTTPRetriesOverload(t *testing.T) {
	var bulks atomic.Int64
	srv, db := newServer(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/_bulk") && bulks.Add(1) <= 2 {
				w.Header().Set("Retry-After", "0")
				http.Error(w, `{"status":429}`, http.StatusTooManyRequests)
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	rep := mustRun(t, Config{URL: srv.URL, Events: 1000, Batch: 100, Concurrency: 1})
	if rep.Throttled != 2 || db.Stats().LastSeq != 1000 {
		t.Fatalf("throttled %d times, stored %d events", rep.Throttled, db.Stats().LastSeq)
	}
}

func TestRunHTTPRejectionFails(t *testing.T) {
	srv, _ := newServer(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/_bulk") {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"took":1,"errors":true,"items":[{"status":400,"line":1,"error":{"reason":"bad"}}]}`))
				return
			}
			h.ServeHTTP(w, r)
		})
	})
	_, err := Run(context.Background(), Config{Workload: smallWorkload, URL: srv.URL, Events: 100, Batch: 100})
	if err == nil || !strings.Contains(err.Error(), "rejected 1 of 100 events (first: line 1: 400") {
		t.Fatalf("Run = %v, want the rejection", err)
	}
}

// TestRunHTTPPrepared: a prepared run sends, batch for batch, the bodies
// an unprepared one makes while sending (both routes), and Prepare needs a
// server and a number of events.
func TestRunHTTPPrepared(t *testing.T) {
	for _, es := range []bool{false, true} {
		var bodies [2][]string
		var jsonBytes [2]int64
		for i, prepare := range []bool{false, true} {
			var mu sync.Mutex
			srv, db := newServer(t, func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if strings.HasSuffix(r.URL.Path, "/_bulk") {
						b, err := io.ReadAll(r.Body)
						if err != nil {
							t.Error(err)
						}
						mu.Lock()
						bodies[i] = append(bodies[i], string(b))
						mu.Unlock()
						r.Body = io.NopCloser(bytes.NewReader(b))
					}
					h.ServeHTTP(w, r)
				})
			})
			rep := mustRun(t, Config{URL: srv.URL, Events: 1050, Batch: 100, Concurrency: 1, ES: es, Prepare: prepare})
			if rep.Events != 1050 || db.Stats().LastSeq != 1050 || rep.Config.Prepared != prepare || rep.JSONBytes <= 0 {
				t.Fatalf("es %v prepare %v: reported %d events (%d JSON bytes, prepared %v), server stored %d",
					es, prepare, rep.Events, rep.JSONBytes, rep.Config.Prepared, db.Stats().LastSeq)
			}
			jsonBytes[i] = rep.JSONBytes
		}
		if jsonBytes[0] != jsonBytes[1] {
			t.Errorf("es %v: %d JSON bytes reported generating, %d prepared", es, jsonBytes[0], jsonBytes[1])
		}
		if len(bodies[0]) != 11 || !slices.Equal(bodies[0], bodies[1]) {
			t.Fatalf("es %v: %d bodies sent while generating, %d prepared, or they differ", es, len(bodies[0]), len(bodies[1]))
		}
	}
	for _, cfg := range []Config{{Prepare: true, Events: 10}, {Prepare: true, URL: "http://127.0.0.1:1", Duration: time.Second}} {
		if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "Prepare needs a server URL and a number of events") {
			t.Errorf("Run(%+v) = %v, want Prepare refused", cfg, err)
		}
	}
}
