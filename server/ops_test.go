package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/internal/buildinfo"

	"github.com/eventlogdb/eventlog"
)

func TestProviders(t *testing.T) {
	e := newEnv(t, Config{})
	r := e.do("GET", "/api/providers", "", "")
	if r.status != http.StatusOK || string(r.body) != `{"ingest_routes":{"es":{"default_action":"log","default_provider":"the index name","unregistered_policy":"register"},`+
		`"gitlab":{"default_action":"log","default_provider":"gitlab","unregistered_policy":"register"}},`+
		`"providers":{"actions":["execute"],"alerting":["execute","execute-action"]}}` {
		t.Fatalf("got %d %s", r.status, r.body)
	}
	doc := `{"event":{"provider":"security","action":"login"}}`
	e.do("POST", "/api/events", ctJSON, doc).wantError(t, http.StatusBadRequest, typeUnregistered)
	for range 2 { // idempotent
		r = e.do("PUT", "/api/providers/security", ctJSON, `{"actions":["login","logout"]}`)
		if r.status != http.StatusOK || string(r.body) != `{"actions":["login","logout"],"provider":"security"}` {
			t.Fatalf("register: %d %s", r.status, r.body)
		}
	}
	r = e.do("PUT", "/api/providers/alerting", ctJSON, `{"actions":["new-instance"]}`)
	if string(r.body) != `{"actions":["execute","execute-action","new-instance"],"provider":"alerting"}` {
		t.Fatalf("adding to a provider: %s", r.body)
	}
	if r := e.do("POST", "/api/events", ctJSON, doc); r.status != http.StatusCreated {
		t.Fatalf("after registering: %d %s", r.status, r.body)
	}
	e.do("PUT", "/api/providers/x", ctJSON, `{"actions":[]}`).wantError(t, http.StatusBadRequest, typeInvalidRequest)
	e.do("PUT", "/api/providers/x", ctJSON, `{"actions":["a",""]}`).wantError(t, http.StatusBadRequest, typeInvalidRequest)
	e.do("PUT", "/api/providers/x", ctJSON, `{"action":["a"]}`).wantError(t, http.StatusBadRequest, typeInvalidRequest)
	e.do("PUT", "/api/providers/x", "text/plain", `{"actions":["a"]}`).wantError(t, http.StatusUnsupportedMediaType, typeUnsupportedMedia)
	if e.db.IsRegistered("x", "a") {
		t.Fatal("a rejected registration was stored")
	}
}

func TestUnknownRoutes(t *testing.T) {
	e := newEnv(t, Config{})
	cases := []struct {
		method, path string
		status       int
		typ, allow   string
	}{
		{"GET", "/nope", 404, typeNotFound, ""},
		{"GET", "/api/events/_nope", 404, typeNotFound, ""},
		{"GET", "/s/s1/api/providers", 404, typeNotFound, ""},
		{"GET", "/api/events", 405, typeMethodNotAllowed, "POST"},
		{"DELETE", "/api/events/_search", 405, typeMethodNotAllowed, "GET, HEAD, POST"},
		{"POST", "/healthz", 405, typeMethodNotAllowed, "GET, HEAD"},
		{"GET", "/api/providers/alerting", 405, typeMethodNotAllowed, "PUT"},
		{"GET", "/api/event_log/alert/_find", 405, typeMethodNotAllowed, "POST"},
		{"PUT", "/s/s1/api/events/_aggregate", 405, typeMethodNotAllowed, "POST"},
	}
	for _, c := range cases {
		r := e.do(c.method, c.path, "", "")
		r.wantError(t, c.status, c.typ)
		if got := r.header.Get("Allow"); got != c.allow {
			t.Errorf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
		}
	}
}

func TestHealth(t *testing.T) {
	e := newEnv(t, Config{})
	r := e.do("GET", "/healthz", "", "")
	if r.status != http.StatusOK || string(r.body) != `{"status":"ok"}` {
		t.Fatalf("got %d %s", r.status, r.body)
	}

	// A damaged segment is set aside at open: degraded, naming it.
	var docs []string
	for i := range 100 {
		docs = append(docs, ev{ts: tsAt(i), provider: "actions", action: "execute", outcome: "success"}.json())
	}
	e.bulk(docs...)
	if err := e.db.Roll(context.Background()); err != nil {
		t.Fatal(err)
	}
	segs := e.db.Segments()
	if len(segs) != 1 {
		t.Fatalf("segments %+v", segs)
	}
	e.close()
	path := filepath.Join(e.dir, "segments", segs[0].Name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	clear(data[len(data)-120:]) // the footer
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	e.open()
	r = e.do("GET", "/healthz", "", "")
	want := fmt.Sprintf(`{"status":"degraded","quarantined":[%q]}`, segs[0].Name)
	if r.status != http.StatusOK || string(r.body) != want {
		t.Fatalf("got %d %s, want %s", r.status, r.body, want)
	}
}

func TestStats(t *testing.T) {
	e := newEnv(t, Config{})
	e.bulk(ev{ts: tsAt(1), provider: "actions", action: "execute", outcome: "success"}.json())
	if err := e.db.Roll(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.bulk(ev{ts: tsAt(2), provider: "actions", action: "execute", outcome: "success"}.json())
	var st struct {
		HeadEvents   int                    `json:"head_events"`
		SegmentCount int                    `json:"segment_count"`
		LastSeq      uint64                 `json:"last_seq"`
		Quarantined  []string               `json:"quarantined"`
		Segments     []eventlog.SegmentInfo `json:"segments"`
		WAL          struct{ Fsyncs int }   `json:"wal"`
	}
	r := e.do("GET", "/api/_stats", "", "")
	r.decode(t, &st)
	if r.status != http.StatusOK || st.HeadEvents != 1 || st.SegmentCount != 1 || st.LastSeq != 2 || st.Quarantined == nil ||
		len(st.Segments) != 1 || st.Segments[0].Events != 1 || st.Segments[0].MinSeq != 1 || st.WAL.Fsyncs == 0 {
		t.Fatalf("got %d %s", r.status, r.body)
	}
}

// TestMetrics: the text format names every metric, with counts that
// follow what the requests did.
func TestMetrics(t *testing.T) {
	e := newEnv(t, Config{})
	body := ndjson(ev{ts: tsAt(1), provider: "actions", action: "execute", outcome: "success"}.json(),
		ev{ts: tsAt(2), provider: "actions", action: "execute", outcome: "success"}.json(),
		`{"evnt":1}`, `{"event":{"provider":"nobody"}}`, `{`)
	e.do("POST", "/api/events/_bulk", ctNDJSON, body)
	e.do("GET", "/api/events/_search", "", "")
	e.do("GET", "/api/event_log/alert/x/_find", "", "")
	e.do("POST", "/api/events/_aggregate", ctJSON, "{}")
	e.do("GET", "/api/events/_export", "", "")
	e.do("GET", "/nope", "", "")
	r := e.do("GET", "/metrics", "", "")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Fatalf("got %d %s", r.status, r.header)
	}
	text := string(r.body)
	value := func(series string) float64 {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("no series %s in\n%s", series, text)
		}
		v, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	exact := map[string]float64{
		`eventlog_events_ingested_total`:                                               2,
		`eventlog_events_rejected_total{reason="invalid"}`:                             1,
		`eventlog_events_rejected_total{reason="unregistered"}`:                        1,
		`eventlog_events_rejected_total{reason="malformed"}`:                           1,
		`eventlog_events_rejected_total{reason="too_large"}`:                           0,
		`eventlog_ingest_request_bytes_total`:                                          float64(len(body)),
		`eventlog_head_events`:                                                         2,
		`eventlog_segments`:                                                            0,
		`eventlog_segment_bytes`:                                                       0,
		`eventlog_last_seq`:                                                            2,
		`eventlog_query_duration_seconds_count{endpoint="search"}`:                     1,
		`eventlog_query_duration_seconds_count{endpoint="find"}`:                       1,
		`eventlog_query_duration_seconds_count{endpoint="aggregate"}`:                  1,
		`eventlog_query_duration_seconds_count{endpoint="export"}`:                     1,
		`eventlog_http_requests_total{code="200",route="POST /api/events/_bulk"}`:      1,
		`eventlog_http_requests_total{code="200",route="GET /api/events/_search"}`:     1,
		`eventlog_http_requests_total{code="404",route="unmatched"}`:                   1,
		`eventlog_http_requests_total{code="200",route="GET /api/events/_export"}`:     1,
		`eventlog_http_requests_total{code="200",route="POST /api/events/_aggregate"}`: 1,
	}
	for series, want := range exact {
		if got := value(series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	for _, series := range []string{"eventlog_wal_fsyncs_total", "eventlog_wal_fsync_duration_seconds_count",
		"eventlog_head_bytes", "eventlog_wal_bytes", "go_goroutines", "process_open_fds",
		`eventlog_memory_charged_bytes{consumer="heads"}`, "eventlog_memory_go_heap_bytes", "eventlog_memory_go_total_bytes"} {
		if value(series) <= 0 {
			t.Errorf("%s is not positive", series)
		}
	}
}

// TestRestart: a new server over the reopened directory finds everything.
func TestRestart(t *testing.T) {
	e := newEnv(t, Config{})
	var docs []string
	for i := range 30 {
		docs = append(docs, ev{ts: tsAt(i), provider: "alerting", action: "execute", outcome: "success",
			refType: "alert", refID: fmt.Sprint(i % 2)}.json())
	}
	e.bulk(docs[:20]...)
	if err := e.db.Roll(context.Background()); err != nil { // some in a segment, some in the WAL
		t.Fatal(err)
	}
	e.bulk(docs[20:]...)
	before := e.do("GET", "/api/event_log/alert/1/_find?per_page=100", "", "").body
	e.reopen()
	e.wantCount(30)
	after := e.do("GET", "/api/event_log/alert/1/_find?per_page=100", "", "").body
	if string(before) != string(after) || !strings.Contains(string(after), `"total":15`) {
		t.Fatalf("before: %s\nafter:  %s", before, after)
	}
	raw, _ := e.searchAll("/api/events/_search", url.Values{"size": {"7"}})
	if got := indexes(t, searchAnswer{Data: raw}.hits(t)); !slices.Equal(got, fixtureWhere(func(i int) bool { return i < 30 })) {
		t.Fatalf("after restart: %v", got)
	}
}

// TestRunShutdown: once Run's context is done, /healthz answers 503 while
// an in-flight request still completes; then Run returns nil.
func TestRunShutdown(t *testing.T) {
	e := newEnv(t, Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- e.srv.Run(ctx, ln) }()
	base := "http://" + ln.Addr().String()
	if r := doReq(t, "GET", base+"/healthz", "", nil, true); r.status != http.StatusOK {
		t.Fatalf("healthz: %d %s", r.status, r.body)
	}

	pr, pw := io.Pipe()
	done := make(chan response, 1)
	go func() { done <- doReq(t, "POST", base+"/api/events/_bulk", ctNDJSON, pr, false) }()
	waitFor(t, "the request to be in flight", func() bool { return e.srv.bodies.inUse() > 0 })
	cancel()
	waitFor(t, "shutting down", func() bool { return e.srv.shuttingDown.Load() })
	// The listener is closed; the same handler still answers elsewhere.
	r := doReq(t, "GET", e.ts.URL+"/healthz", "", nil, true)
	if r.status != http.StatusServiceUnavailable || string(r.body) != `{"status":"shutting_down"}` {
		t.Fatalf("healthz while shutting down: %d %s", r.status, r.body)
	}
	r = doReq(t, "GET", e.ts.URL+"/readyz", "", nil, true)
	if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), `"type":"shutting_down"`) {
		t.Fatalf("readyz while shutting down: %d %s", r.status, r.body)
	}
	select {
	case err := <-ran:
		t.Fatalf("Run returned %v with a request in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	fmt.Fprintln(pw, ev{ts: tsAt(1), provider: "actions", action: "execute", outcome: "success"}.json())
	pw.Close()
	if r := <-done; r.status != http.StatusOK || !strings.Contains(string(r.body), `"status":201`) {
		t.Fatalf("in-flight request: %d %s", r.status, r.body)
	}
	if err := <-ran; err != nil {
		t.Fatalf("Run: %v", err)
	}
	e.wantCount(1)
}

// TestRunShutdownTimeout: a request that outlives ShutdownTimeout is cut
// and Run says so.
func TestRunShutdownTimeout(t *testing.T) {
	e := newEnv(t, Config{ShutdownTimeout: 50 * time.Millisecond})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- e.srv.Run(ctx, ln) }()
	pr, pw := io.Pipe()
	defer pw.Close()
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("POST", "http://"+ln.Addr().String()+"/api/events/_bulk", pr)
		req.Header.Set("Content-Type", ctNDJSON)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	waitFor(t, "the request to be in flight", func() bool { return e.srv.bodies.inUse() > 0 })
	cancel()
	if err := <-ran; err == nil || !strings.Contains(err.Error(), "shutdown") {
		t.Fatalf("Run: %v", err)
	}
	pw.CloseWithError(errors.New("test over")) // the client waits for its body writer
	if err := <-done; err == nil {
		t.Fatal("the cut request succeeded")
	}
	waitFor(t, "the handler to give up its body's budget", func() bool { return e.srv.bodies.inUse() == 0 })
	e.wantCount(0)
}

// TestBuildInfoMetric: /metrics says which build serves, as the version
// command does (a test binary records no module version or commit).
func TestBuildInfoMetric(t *testing.T) {
	e := newEnv(t, Config{})
	in := buildinfo.Read()
	series := fmt.Sprintf(`eventlog_build_info{goversion=%q,revision=%q,version=%q}`, in.GoVersion, in.Revision, in.Version)
	if v := scrapeSample(t, e, series); v != "1" {
		t.Fatalf("%s = %s, want 1", series, v)
	}
}
