package main

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/bench"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/server"
)

// benchCLI runs eventlog bench ARGS... in-process.
func benchCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(append([]string{"bench"}, args...), strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// flagWorkload returns the first n events of the workload the flags make.
func flagWorkload(t *testing.T, n int, args ...string) []event.Event {
	t.Helper()
	f, err := parseBenchFlags(args, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := f.config()
	if err != nil {
		t.Fatal(err)
	}
	evs := make([]event.Event, n)
	cfg.Workload.Fill(evs, 0)
	return evs
}

// TestBenchFlagsShapeTheWorkload checks that the generator flags give the
// distributions they name and that the seed alone decides the events.
func TestBenchFlagsShapeTheWorkload(t *testing.T) {
	const n = 40_000
	args := []string{"--seed", "7", "--late", "0.2", "--max-lateness", "2s",
		"--objects", "1000", "--skew", "2", "--event-rate", "50"}
	evs := flagWorkload(t, n, args...)
	late, high := 0, int64(math.MinInt64)
	outcomes := map[string]int{}
	objects := map[string]int{}
	for i := range evs {
		ts := evs[i].Timestamp.UnixNano()
		if ts < high {
			late++
			if high-ts > 2e9+1e9/50 { // behind its predecessor by at most --max-lateness
				t.Fatalf("event %d is %v late, more than --max-lateness", i, high-ts)
			}
		}
		high = max(high, ts)
		outcomes[evs[i].Event.Outcome]++
		for _, r := range evs[i].Kibana.SavedObjects {
			objects[r.ID]++
		}
	}
	near := func(what string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol {
			t.Errorf("%s = %.4g, want %.4g ± %.2g", what, got, want, tol)
		}
	}
	near("late share (--late 0.2)", float64(late)/n, 0.2, 0.015)
	span := float64(high-bench.DefaultStart.UnixNano()) / 1e9
	near("mean gap in s (--event-rate 50)", span/n, 1.0/50, 0.001)
	near("failure share", float64(outcomes["failure"])/n, 0.06, 0.006)
	if len(objects) > 1000 {
		t.Errorf("%d distinct saved objects, want at most --objects 1000", len(objects))
	}
	if !reflect.DeepEqual(evs, flagWorkload(t, n, args...)) {
		t.Error("the same flags gave different events")
	}
	args[1] = "8"
	if reflect.DeepEqual(evs[:100], flagWorkload(t, 100, args...)) {
		t.Error("--seed 8 gave the events of --seed 7")
	}
	if lateNone := flagWorkload(t, 5000, "--late", "0"); lateNone[0].Timestamp.IsZero() {
		t.Error("no timestamps")
	} else {
		for i := 1; i < len(lateNone); i++ {
			if lateNone[i].Timestamp.UnixNano() < lateNone[i-1].Timestamp.UnixNano() {
				t.Fatalf("--late 0: event %d is out of order", i)
			}
		}
	}
}

func TestBenchEmbeddedJSONAndHTML(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	code, out, errs := benchCLI(t, "--events", "3000", "--batch", "500", "--sync", "none", "--json", "--out", page,
		"--segment-max-bytes", "1MiB", "--queries", "20")
	if code != 0 {
		t.Fatalf("bench: %d %s", code, errs)
	}
	if errs != "" {
		t.Errorf("progress on a non-terminal stderr: %q", errs)
	}
	rep, err := bench.ReadReport(strings.NewReader(out))
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if rep.Events != 3000 || rep.Config.Batch != 500 || rep.Config.SegmentMaxBytes != 1<<20 || rep.Config.Sync != "none" || rep.Disk == nil {
		t.Fatalf("report %+v", rep)
	}
	if b, err := os.ReadFile(page); err != nil || !bytes.Contains(b, []byte(`data-series="events_per_sec"`)) {
		t.Fatalf("HTML report: %v", err)
	}

	// compare a report with itself: nothing flagged.
	a := filepath.Join(dir, "a.json")
	if err := os.WriteFile(a, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	code, cmp, errs := benchCLI(t, "compare", a, a)
	if code != 0 || !strings.Contains(cmp, "events/s") || !strings.Contains(cmp, "0 worse, 0 better") {
		t.Fatalf("compare: %d %q %q", code, cmp, errs)
	}
}

func TestBenchInputFile(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "events.ndjson")
	if err := os.WriteFile(input, []byte(twoBenchEvents), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := benchCLI(t, "--input", input, "--sync", "none")
	if code != 0 || !strings.Contains(out, "throughput") || !strings.Contains(out, "(2 events,") {
		t.Fatalf("bench --input: %d %q %q", code, out, errs)
	}
	code, out, _ = benchCLI(t, "--input", input, "--events", "10", "--batch", "3", "--sync", "none", "--json")
	var rep struct{ Events int }
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Events != 10 {
		t.Fatalf("bench --input --events 10: %d %q", code, out)
	}
}

const twoBenchEvents = `{"@timestamp":"2024-05-01T14:02:11.125Z","event":{"provider":"myapp","action":"login","outcome":"success"}}
{"@timestamp":"2024-05-01T14:02:12Z","event":{"provider":"myapp","action":"logout"},"message":"bye"}
`

func TestBenchThroughServer(t *testing.T) {
	db, err := eventlog.Open(t.TempDir(), eventlog.Options{Sync: eventlog.SyncNone})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(server.New(db, server.Config{}, nil, nil).Handler())
	defer func() {
		srv.Close()
		db.Close()
	}()
	code, out, errs := benchCLI(t, "--url", srv.URL, "--events", "2000", "--batch", "400")
	if code != 0 || !strings.Contains(out, "server "+srv.URL) || !strings.Contains(out, "server process") {
		t.Fatalf("bench --url: %d %q %q", code, out, errs)
	}
	if n := db.Stats().LastSeq; n != 2000 {
		t.Fatalf("server stored %d events, want 2000", n)
	}
}

func TestBenchUsageErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"url and sync":       {"--url", "http://localhost:1", "--sync", "none"},
		"url and data":       {"--url", "http://localhost:1", "--data", "x"},
		"input and seed":     {"--input", "x.ndjson", "--seed", "2"},
		"batch 0":            {"--batch", "0"},
		"bad sync":           {"--sync", "sometimes"},
		"bad size":           {"--segment-max-bytes", "lots"},
		"late over 1":        {"--late", "1.5"},
		"pool is gone":       {"--pool", "5000"},
		"prepare embedded":   {"--prepare"},
		"prepare endless":    {"--url", "http://localhost:1", "--prepare", "--duration", "1s"},
		"argument":           {"extra"},
		"compare one report": {"compare", "a.json"},
	} {
		if code, _, errs := benchCLI(t, args...); code != 2 {
			t.Errorf("%s: exit %d, want 2 (%s)", name, code, errs)
		}
	}
	if code, _, errs := benchCLI(t, "compare", "/nonexistent/a.json", "/nonexistent/b.json"); code != 1 || !strings.Contains(errs, "a.json") {
		t.Errorf("compare of missing files: exit %d %q", code, errs)
	}
}
