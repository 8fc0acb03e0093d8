package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/client"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/query"
	"github.com/eventlogdb/eventlog/server"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testServer is the real server handler over a real store, served on
// loopback, behind an optional wrapper that can answer for it, and a log
// of the requests that reached it.
type testServer struct {
	db  *eventlog.DB
	ts  *httptest.Server
	mu  sync.Mutex
	log []*http.Request // every request, in arrival order, with its time
	at  []time.Time
}

// newServer serves a store in a temporary directory (on fs, nil: the
// operating system's), with "alerting"/"execute" registered. wrap, when
// set, sees each request before the real handler.
func newServer(t *testing.T, fs vfs.FS, wrap func(w http.ResponseWriter, r *http.Request, n int) bool) *testServer {
	t.Helper()
	db, err := eventlog.Open(t.TempDir(), eventlog.Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.RegisterProviderActions("alerting", "execute"); err != nil {
		t.Fatal(err)
	}
	s := &testServer{db: db}
	h := server.New(db, server.Config{HeartbeatInterval: 50 * time.Millisecond}, nil, nil).Handler()
	s.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.record(r)
		if wrap != nil && wrap(w, r, n) {
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		s.ts.Close()
		if err := db.Close(); err != nil && fs == nil { // a failed fsync poisons a faulty one's WAL
			t.Error(err)
		}
	})
	return s
}

// record logs r and returns how many requests to its path came before.
func (s *testServer) record(r *http.Request) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, q := range s.log {
		if q.URL.Path == r.URL.Path {
			n++
		}
	}
	s.log, s.at = append(s.log, r), append(s.at, time.Now())
	return n
}

// requests returns the logged requests to path and when each came.
func (s *testServer) requests(path string) ([]*http.Request, []time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rs []*http.Request
	var at []time.Time
	for i, r := range s.log {
		if r.URL.Path == path {
			rs, at = append(rs, r), append(at, s.at[i])
		}
	}
	return rs, at
}

func (s *testServer) client(t *testing.T, opts *client.Options) *client.Client {
	t.Helper()
	c, err := client.New(s.ts.URL, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// events returns n valid events, the i-th (from 0) i seconds after a fixed
// instant, outcome "failure" for every third.
func events(t *testing.T, from, n int) []event.Event {
	t.Helper()
	evs := make([]event.Event, n)
	base := time.Date(2024, 5, 1, 14, 0, 0, 0, time.UTC)
	for i := range evs {
		outcome := "success"
		if (from+i)%3 == 0 {
			outcome = "failure"
		}
		doc := fmt.Sprintf(`{"@timestamp":%q,"event":{"provider":"alerting","action":"execute","outcome":%q},"message":"event %d"}`,
			base.Add(time.Duration(from+i)*time.Second).Format(time.RFC3339Nano), outcome, from+i)
		ev, err := event.Decode([]byte(doc), event.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		evs[i] = ev
	}
	return evs
}

// stored returns the number of events the store holds.
func (s *testServer) stored(t *testing.T) int {
	t.Helper()
	res, err := s.db.Query(context.Background(), query.Request{PerPage: 1})
	if err != nil {
		t.Fatal(err)
	}
	return res.Total
}

// overloaded answers a _bulk request 429 with retryAfter, as the server's
// admission control does, the first times times.
func overloaded(times int, retryAfter func() string) func(http.ResponseWriter, *http.Request, int) bool {
	return func(w http.ResponseWriter, r *http.Request, n int) bool {
		if r.URL.Path != "/api/events/_bulk" || n >= times {
			return false
		}
		w.Header().Set("Retry-After", retryAfter())
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"status":429,"error":{"type":"overloaded","reason":"all 4 write slots stayed busy for 1s; retry later"}}`)
		return true
	}
}

func TestIngestRetriesOn429WithRetryAfterSeconds(t *testing.T) {
	s := newServer(t, nil, overloaded(2, func() string { return "1" }))
	c := s.client(t, &client.Options{MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	items, err := c.Ingest(context.Background(), events(t, 0, 5))
	if err != nil {
		t.Fatal(err)
	}
	for i, it := range items {
		if it.Status != http.StatusCreated || it.Seq != uint64(i+1) || it.Line != i+1 {
			t.Fatalf("item %d: %+v, want 201 with _seq %d", i, it, i+1)
		}
	}
	reqs, at := s.requests("/api/events/_bulk")
	if len(reqs) != 3 {
		t.Fatalf("%d _bulk requests, want 3 (two answered 429)", len(reqs))
	}
	for i := 1; i < 3; i++ {
		if gap := at[i].Sub(at[i-1]); gap < time.Second {
			t.Fatalf("attempt %d came %v after the one answered Retry-After: 1, want at least 1s", i+1, gap)
		}
	}
	if n := s.stored(t); n != 5 {
		t.Fatalf("store holds %d events, want 5 (each once)", n)
	}
}

func TestIngestRetriesOn429WithRetryAfterDate(t *testing.T) {
	var until time.Time
	s := newServer(t, nil, overloaded(1, func() string {
		until = time.Now().Add(2 * time.Second).Truncate(time.Second)
		return until.UTC().Format(http.TimeFormat)
	}))
	c := s.client(t, &client.Options{MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	if _, err := c.Ingest(context.Background(), events(t, 0, 2)); err != nil {
		t.Fatal(err)
	}
	reqs, at := s.requests("/api/events/_bulk")
	if len(reqs) != 2 {
		t.Fatalf("%d _bulk requests, want 2", len(reqs))
	}
	if at[1].Before(until) {
		t.Fatalf("retry at %v, before the Retry-After date %v", at[1], until)
	}
	if n := s.stored(t); n != 2 {
		t.Fatalf("store holds %d events, want 2", n)
	}
}

func TestIngestGivesUpAfterMaxAttempts(t *testing.T) {
	s := newServer(t, nil, overloaded(100, func() string { return "0" }))
	c := s.client(t, &client.Options{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	_, err := c.Ingest(context.Background(), events(t, 0, 1))
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusTooManyRequests || ae.Type != "overloaded" {
		t.Fatalf("err = %v, want the 429 overloaded answer", err)
	}
	if reqs, _ := s.requests("/api/events/_bulk"); len(reqs) != 3 {
		t.Fatalf("%d attempts, want MaxAttempts 3", len(reqs))
	}
}

// TestUnknownOutcomeIsNotRetried fails the WAL's fsync: the server answers
// 503 with outcome unknown, and the client neither retries nor hides it.
// The WAL is then poisoned: its next answer is 503 not_stored, which is
// retried up to MaxAttempts.
func TestUnknownOutcomeIsNotRetried(t *testing.T) {
	faulty := vfs.NewFaulty(vfs.OS{})
	s := newServer(t, faulty, nil)
	c := s.client(t, &client.Options{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	if _, err := c.Ingest(context.Background(), events(t, 0, 1)); err != nil {
		t.Fatal(err)
	}
	faulty.Fail(vfs.OpSync, syscall.EIO)
	_, err := c.Ingest(context.Background(), events(t, 1, 1))
	var ae *client.APIError
	if !errors.Is(err, client.ErrOutcomeUnknown) || !errors.As(err, &ae) ||
		ae.Status != http.StatusServiceUnavailable || ae.Type != "storage_failed" || ae.Outcome != client.OutcomeUnknown {
		t.Fatalf("err = %v, want a 503 storage_failed APIError with outcome unknown", err)
	}
	if reqs, _ := s.requests("/api/events/_bulk"); len(reqs) != 2 {
		t.Fatalf("%d attempts at a write of unknown outcome, want 1", len(reqs)-1)
	}
	faulty.Heal(vfs.OpSync)
	_, err = c.Ingest(context.Background(), events(t, 2, 1))
	if !errors.As(err, &ae) || ae.Outcome != client.OutcomeNotStored || errors.Is(err, client.ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want outcome not_stored", err)
	}
	if reqs, _ := s.requests("/api/events/_bulk"); len(reqs) != 2+3 {
		t.Fatalf("%d attempts at a write not stored, want MaxAttempts 3", len(reqs)-2)
	}
}

// TestDroppedWriteIsNotRetried cuts the connection of a _bulk request after
// the server took its body: the events may be stored, so the error says
// the outcome is unknown and nothing is sent again.
func TestDroppedWriteIsNotRetried(t *testing.T) {
	s := newServer(t, nil, func(w http.ResponseWriter, r *http.Request, n int) bool {
		if r.URL.Path != "/api/events/_bulk" {
			return false
		}
		io.Copy(io.Discard, r.Body)
		panic(http.ErrAbortHandler) // the connection drops without an answer
	})
	c := s.client(t, &client.Options{MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	_, err := c.Ingest(context.Background(), events(t, 0, 1))
	if !errors.Is(err, client.ErrOutcomeUnknown) {
		t.Fatalf("err = %v, want ErrOutcomeUnknown", err)
	}
	if reqs, _ := s.requests("/api/events/_bulk"); len(reqs) != 1 {
		t.Fatalf("%d attempts, want 1", len(reqs))
	}
}

// TestRefusedConnectionIsRetried: a write whose connection was never made
// stored nothing, so it is retried, and its error is not ErrOutcomeUnknown.
func TestRefusedConnectionIsRetried(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	url := ts.URL
	ts.Close()
	var retries int
	c, err := client.New(url, &client.Options{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond,
		OnRetry: func(error, time.Duration) { retries++ }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Bulk(context.Background(), []byte(`{"event":{"provider":"alerting","action":"execute"}}`+"\n"))
	if err == nil || errors.Is(err, client.ErrOutcomeUnknown) || retries != 2 {
		t.Fatalf("err = %v after %d retries, want a connection error after 2 retries", err, retries)
	}
}

func TestBulkReportsRefusedLines(t *testing.T) {
	s := newServer(t, nil, nil)
	c := s.client(t, nil)
	items, err := c.Bulk(context.Background(), []byte(`{"event":{"provider":"alerting","action":"execute"}}`+"\n"+
		`{"event":{"provider":"nobody","action":"execute"}}`+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || items[0].Status != 201 || items[0].Seq != 1 || items[0].ID != "0000000000000001" ||
		items[1].Status != 400 || items[1].Error == nil || items[1].Error.Type != "unregistered" || items[1].Line != 2 {
		t.Fatalf("items = %+v, want line 1 stored as 1 and line 2 refused as unregistered", items)
	}
}

func TestBulkFailuresAnswersOnlyRefusedLines(t *testing.T) {
	s := newServer(t, nil, nil)
	c := s.client(t, nil)
	ok := `{"event":{"provider":"alerting","action":"execute"}}` + "\n"
	items, err := c.BulkFailures(context.Background(), []byte(ok+`{"event":{"provider":"nobody","action":"execute"}}`+"\n"+ok))
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].Status != 400 || items[0].Error == nil || items[0].Error.Type != "unregistered" || items[0].Line != 2 {
		t.Fatalf("items = %+v, want only line 2, refused as unregistered", items)
	}
	if items, err = c.BulkFailures(context.Background(), []byte(ok)); err != nil || len(items) != 0 {
		t.Fatalf("all stored: items = %+v, err = %v, want none", items, err)
	}
	if p, err := c.Search(context.Background(), query.Request{}); err != nil || p.Total != 3 {
		t.Fatalf("search: %+v, %v; want the 3 lines stored", p, err)
	}
}

// TestQueryIteratesPastTheWindow reads 10,500 events page by page through
// the cursors: each once, in order, beyond the 10,000-event page window.
func TestQueryIteratesPastTheWindow(t *testing.T) {
	const n = 10_500
	s := newServer(t, nil, nil)
	c := s.client(t, nil)
	if _, err := c.Ingest(context.Background(), events(t, 0, n)); err != nil {
		t.Fatal(err)
	}
	if reqs, _ := s.requests("/api/events/_bulk"); len(reqs) != 11 {
		t.Fatalf("%d _bulk requests for %d events, want 11 batches of at most 1000", len(reqs), n)
	}
	want := uint64(1)
	req := query.Request{PerPage: 1000, Sort: []query.SortField{{Field: "@timestamp", Order: "asc"}}}
	for h, err := range c.Query(context.Background(), req) {
		if err != nil {
			t.Fatal(err)
		}
		if h.Seq != want || h.Event.Message != fmt.Sprintf("event %d", want-1) {
			t.Fatalf("hit %d: seq %d %q", want, h.Seq, h.Event.Message)
		}
		want++
	}
	if want != n+1 {
		t.Fatalf("iterated %d events, want %d", want-1, n)
	}
	if reqs, _ := s.requests("/api/events/_search"); len(reqs) != n/1000+1 {
		t.Fatalf("%d _search requests, want %d pages", len(reqs), n/1000+1)
	}
}

func TestSearchAggregateAndExport(t *testing.T) {
	s := newServer(t, nil, nil)
	c := s.client(t, nil)
	ctx := context.Background()
	if _, err := c.Ingest(ctx, events(t, 0, 30)); err != nil {
		t.Fatal(err)
	}
	failures := query.Request{Filter: "event.outcome:failure"}
	page, err := c.Search(ctx, query.Request{Filter: failures.Filter, PerPage: 4})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 10 || len(page.Hits) != 4 || page.Next == "" {
		t.Fatalf("page: total %d, %d hits, next %q; want 10, 4 and a cursor", page.Total, len(page.Hits), page.Next)
	}
	agg, err := c.Aggregate(ctx, query.Request{Aggs: map[string]query.Agg{"outcomes": {Terms: &query.TermsAgg{Field: "event.outcome"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if agg.Total != 30 || string(agg.Aggregations["outcomes"]) !=
		`{"buckets":[{"key":"success","count":20},{"key":"failure","count":10}],"other_count":0}` {
		t.Fatalf("aggregate: %d %s", agg.Total, agg.Aggregations["outcomes"])
	}
	var seqs []uint64
	for h, err := range c.Export(ctx, failures) {
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, h.Seq)
	}
	if fmt.Sprint(seqs) != "[1 4 7 10 13 16 19 22 25 28]" {
		t.Fatalf("exported %v, want every third event", seqs)
	}
}

func TestSearchErrorIsTyped(t *testing.T) {
	s := newServer(t, nil, nil)
	_, err := s.client(t, nil).Search(context.Background(), query.Request{Filter: "event.outcome:"})
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Type != "invalid_request" || ae.Reason == "" {
		t.Fatalf("err = %v, want a 400 invalid_request APIError", err)
	}
	if _, err := s.client(t, nil).Search(context.Background(), query.Request{Page: 200, PerPage: 100}); !errors.As(err, &ae) || ae.Status != 400 {
		t.Fatalf("page past the window: err = %v, want 400", err)
	}
}

// TestExportEndsWithTheServersError: an export whose last line is an
// error object, and whose trailer names it, fails with that error after
// the events before it.
func TestExportEndsWithTheServersError(t *testing.T) {
	s := newServer(t, nil, func(w http.ResponseWriter, r *http.Request, _ int) bool {
		if r.URL.Path != "/api/events/_export" {
			return false
		}
		w.Header().Set("Trailer", "X-Eventlog-Error")
		io.WriteString(w, `{"_id":"0000000000000001","_seq":1,"event":{"provider":"alerting","action":"execute"}}`+"\n")
		io.WriteString(w, `{"status":500,"error":{"type":"corruption","reason":"segment 3 block 2: checksum mismatch"}}`+"\n")
		w.Header().Set("X-Eventlog-Error", "corruption: segment 3 block 2: checksum mismatch")
		return true
	})
	var n int
	var last error
	for _, err := range s.client(t, nil).Export(context.Background(), query.Request{}) {
		if err != nil {
			last = err
			break
		}
		n++
	}
	var ae *client.APIError
	if n != 1 || !errors.As(last, &ae) || ae.Type != "corruption" || ae.Status != 500 {
		t.Fatalf("%d events then %v; want 1 event then the corruption error", n, last)
	}
}

// TestTailResumesAfterDrop drops every connection in the middle of a tail;
// the tail reconnects with Last-Event-ID and yields every event once, in
// order, including those stored while it was away.
func TestTailResumesAfterDrop(t *testing.T) {
	s := newServer(t, nil, nil)
	var mu sync.Mutex
	var lastBeforeRetry []uint64
	var last uint64
	c := s.client(t, &client.Options{MinBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond,
		OnRetry: func(error, time.Duration) {
			mu.Lock()
			lastBeforeRetry = append(lastBeforeRetry, last)
			mu.Unlock()
		}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := c.Ingest(ctx, events(t, 0, 5)); err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for h, err := range c.Tail(ctx, client.TailRequest{Filter: "event.provider:alerting"}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, h.Seq)
		mu.Lock()
		last = h.Seq
		mu.Unlock()
		switch len(got) {
		case 3:
			s.ts.CloseClientConnections()
			if _, err := s.db.Append(ctx, events(t, 5, 5)...); err != nil {
				t.Fatal(err)
			}
		case 10:
			cancel()
		}
	}
	if fmt.Sprint(got) != "[1 2 3 4 5 6 7 8 9 10]" {
		t.Fatalf("tail yielded %v, want 1 to 10 once each", got)
	}
	reqs, _ := s.requests("/api/events/_tail")
	mu.Lock()
	defer mu.Unlock()
	if len(reqs) < 2 || len(lastBeforeRetry) != len(reqs)-1 {
		t.Fatalf("%d _tail requests, %d retries; want a reconnection after the drop", len(reqs), len(lastBeforeRetry))
	}
	if reqs[0].Header.Get("Last-Event-ID") != "" || reqs[0].URL.Query().Get("from") != "beginning" {
		t.Fatalf("first _tail: Last-Event-ID %q from %q", reqs[0].Header.Get("Last-Event-ID"), reqs[0].URL.Query().Get("from"))
	}
	if got, want := reqs[1].Header.Get("Last-Event-ID"), strconv.FormatUint(lastBeforeRetry[0], 10); got != want {
		t.Fatalf("reconnection's Last-Event-ID %q, want %s, the last event yielded", got, want)
	}
}

func TestTailRefusedFilterIsAnError(t *testing.T) {
	s := newServer(t, nil, nil)
	var n int
	var last error
	for _, err := range s.client(t, nil).Tail(context.Background(), client.TailRequest{Filter: "event.outcome:"}) {
		n++
		last = err
	}
	var ae *client.APIError
	if n != 1 || !errors.As(last, &ae) || ae.Status != http.StatusBadRequest {
		t.Fatalf("%d values, last %v; want one 400 error", n, last)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 7, 3, 0, 0, 0, time.UTC)
	for h, want := range map[string]time.Duration{
		"0":                             0,
		"7":                             7 * time.Second,
		" 120 ":                         2 * time.Minute,
		"Mon, 07 Dec 2026 03:00:30 GMT": 30 * time.Second,
		"Mon, 07 Dec 2026 02:59:00 GMT": 0, // past: no wait
	} {
		if got, ok := client.ParseRetryAfter(h, now); !ok || got != want {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v", h, got, ok, want)
		}
	}
	for _, h := range []string{"", "-1", "soon", "1.5"} {
		if _, ok := client.ParseRetryAfter(h, now); ok {
			t.Errorf("ParseRetryAfter(%q) ok, want not", h)
		}
	}
}

func TestNewRefusesBadURLs(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:9700", "ftp://host", "http://", "http://h:1/?a=b"} {
		if _, err := client.New(u, nil); err == nil {
			t.Errorf("New(%q) took it", u)
		}
	}
}

// TestNewBackOffStaysBounded: the waits grow from min, stay positive and
// never pass max by more than the jitter, however many tries.
func TestNewBackOffStaysBounded(t *testing.T) {
	const lo, hi = 20 * time.Second, time.Hour
	b := client.NewBackOff(lo, hi)
	if d := b.NextBackOff(); d < lo/2 || d > lo*3/2 {
		t.Fatalf("first wait %v, want within ±50%% of %v", d, lo)
	}
	for try := range 1000 {
		if d := b.NextBackOff(); d <= 0 || d > hi*3/2 {
			t.Fatalf("wait %d: %v, want in (0, 1.5 × %v]", try+2, d, hi)
		}
	}
}
