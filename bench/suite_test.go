package bench

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/server"
)

// TestSuite runs the end-to-end suite against an in-process server: every
// query answers what the generator expects (RunSuite checks each answer
// document by document), and the counts it reports are the expectation's.
func TestSuite(t *testing.T) {
	const n = 6000
	srv, db := newServer(t, nil)
	var phases []string
	rep, err := RunSuite(context.Background(), SuiteConfig{URL: srv.URL, Events: n, Batch: 1000, Runs: 2, Settle: true,
		Phase: func(p string) {
			if p == "queries" && db.Stats().HeadEvents != 0 {
				t.Errorf("settled, yet the heads hold %d events as the queries start", db.Stats().HeadEvents)
			}
			phases = append(phases, p)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if got := db.Stats().LastSeq; got != n || rep.Ingest.Events != n || rep.EventsPerSec <= 0 {
		t.Fatalf("stored %d events, reported %d at %.0f/s; want %d", got, rep.Ingest.Events, rep.EventsPerSec, n)
	}
	if s := db.Stats(); rep.SettleSeconds <= 0 || s.SegmentEvents != n || strings.Join(phases, ",") != "ingest,queries" {
		t.Fatalf("settle took %v s, segments hold %d of %d events, phases %q", rep.SettleSeconds, s.SegmentEvents, n, phases)
	}
	x := expectSuite(GeneratedWorkload(GeneratorConfig{Seed: 0, Rate: SpreadRate(n)}), n)
	want := map[string]int{
		"rare-object": len(x.Rare.Docs), "mid-object": len(x.Mid.Docs), "frequent-object-all": len(x.Frequent.Docs),
		"frequent-object-newest-100": 100, "failures-in-space-newest-100": min(100, len(x.Failures)),
		"count-by-action-day": int(sum(x.Actions)), "rare-object-by-id": len(x.RareByID),
	}
	if len(rep.Queries) != len(want) {
		t.Fatalf("%d queries, want %d", len(rep.Queries), len(want))
	}
	for _, q := range rep.Queries {
		if q.Events != want[q.Name] || q.Latency.Count != 2 || q.BodyBytes == 0 || q.FirstMS <= 0 {
			t.Errorf("%s: %d events, %d runs, %d bytes, first run %.3f ms; want %d events, 2 runs", q.Name, q.Events, q.Latency.Count, q.BodyBytes, q.FirstMS, want[q.Name])
		}
	}
	if len(x.Rare.Docs) != suiteRareTarget || len(x.Frequent.Docs) <= len(x.Mid.Docs) || len(x.Mid.Docs) <= len(x.Rare.Docs) {
		t.Errorf("rare %d, mid %d, frequent %d events", len(x.Rare.Docs), len(x.Mid.Docs), len(x.Frequent.Docs))
	}
}

func sum(m map[string]int64) int64 {
	var n int64
	for _, v := range m {
		n += v
	}
	return n
}

// TestSuiteCatchesWrongAnswers: a server whose _search answers move one
// document's @timestamp by a year fails the suite, naming the query.
func TestSuiteCatchesWrongAnswers(t *testing.T) {
	srv, _ := newServer(t, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasSuffix(r.URL.Path, "/_search") {
				h.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			w.WriteHeader(rec.Code)
			w.Write(bytes.Replace(rec.Body.Bytes(), []byte(`"@timestamp":"2026-`), []byte(`"@timestamp":"2027-`), 1))
		})
	})
	_, err := RunSuite(context.Background(), SuiteConfig{URL: srv.URL, Events: 2000, Batch: 1000, Runs: 1})
	if err == nil || !strings.Contains(err.Error(), "rare-object: wrong answer") {
		t.Fatalf("RunSuite = %v, want a wrong answer to the first query", err)
	}
}

// TestPickObject: the closest count wins, ties go to the smallest key, and
// a negative target picks the most counted.
func TestPickObject(t *testing.T) {
	counts := map[objKey]int{
		{"alert", "b", "default"}: 2, {"alert", "a", "default"}: 2, {"action", "z", "s1"}: 3,
		{"alert", "c", "default"}: 991, {"alert", "d", "default"}: 990, {"case", "e", "default"}: 5000,
	}
	for target, want := range map[int]string{2: "a", 3: "z", 991: "c", 989: "d", -1: "e", 100000: "e"} {
		if got := pickObject(counts, target); got.ID != want {
			t.Errorf("target %d: picked %s, want %s", target, got.ID, want)
		}
	}
}

// TestWaitAtRest: over a server whose store holds two overlapping
// segments, WaitAtRest returns once the background compactor has merged
// them, with nothing pending; with no time to wait it reports the merge
// still pending.
func TestWaitAtRest(t *testing.T) {
	db, err := eventlog.Open(t.TempDir(), eventlog.Options{Sync: eventlog.SyncNone, MaintenanceInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(db, server.Config{}, nil, nil).Handler())
	t.Cleanup(func() {
		srv.Close()
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	if err := db.RegisterProviderActions("alerting", "execute"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db.PauseCompaction()
	at := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	for range 2 { // the same minute twice: two overlapping segments
		var evs []event.Event
		for i := range 50 {
			evs = append(evs, event.Event{Timestamp: event.DateOf(at.Add(time.Duration(i) * time.Second)),
				Event: event.EventFields{Provider: "alerting", Action: "execute"}})
		}
		if _, err := db.Append(ctx, evs...); err != nil {
			t.Fatal(err)
		}
		if err := db.Roll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(db.Segments()); n != 2 {
		t.Fatalf("%d segments, want 2", n)
	}
	if _, pending, err := WaitAtRest(ctx, nil, srv.URL, 0); err != nil || pending != 1 {
		t.Fatalf("paused: %d pending, %v; want the one merge", pending, err)
	}
	db.ResumeCompaction()
	took, pending, err := WaitAtRest(ctx, nil, srv.URL, time.Minute)
	if err != nil || pending != 0 || len(db.Segments()) != 1 {
		t.Fatalf("after %v: %d pending, %d segments, %v; want one merged segment", took, pending, len(db.Segments()), err)
	}
}
