package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/privacy"
	"github.com/eventlogdb/eventlog/query"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// env is a DB in a temporary directory served over a real loopback
// listener.
type env struct {
	t   *testing.T
	dir string
	cfg Config
	fs  vfs.FS // nil: the operating system's
	// memoryLimit is the store's Options.MemoryLimit, queryMemoryWait
	// its Options.QueryMemoryWait.
	memoryLimit     int64
	queryMemoryWait time.Duration
	// pseudonymizer is the store's Options.Pseudonymizer.
	pseudonymizer *privacy.Pseudonymizer
	db            *eventlog.DB
	srv           *Server
	ts            *httptest.Server
}

// newEnv opens a strict DB (alerting: execute, execute-action; actions:
// execute) and serves it.
func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), cfg: cfg}
	e.open()
	t.Cleanup(e.close)
	return e
}

// newFaultyEnv is newEnv over a file system that fails on demand.
func newFaultyEnv(t *testing.T, cfg Config) (*env, *vfs.Faulty) {
	t.Helper()
	faulty := vfs.NewFaulty(vfs.OS{})
	e := &env{t: t, dir: t.TempDir(), cfg: cfg, fs: faulty}
	e.open()
	t.Cleanup(e.close)
	return e, faulty
}

func (e *env) open() {
	e.t.Helper()
	m := NewMetrics()
	db, err := eventlog.Open(e.dir, eventlog.Options{ObserveFsync: m.ObserveFsync, FS: e.fs, MemoryLimit: e.memoryLimit, QueryMemoryWait: e.queryMemoryWait, Pseudonymizer: e.pseudonymizer, Integrity: true})
	if err != nil {
		e.t.Fatal(err)
	}
	for p, acts := range map[string][]string{"alerting": {"execute", "execute-action"}, "actions": {"execute"}} {
		if err := db.RegisterProviderActions(p, acts...); err != nil {
			e.t.Fatal(err)
		}
	}
	e.db = db
	e.srv = New(db, e.cfg, m, testLogger(e.t))
	e.ts = httptest.NewServer(e.srv.Handler())
}

// close stops the server and closes the DB (idempotent).
func (e *env) close() {
	if e.ts != nil {
		e.ts.Close()
		e.ts = nil
	}
	if err := e.db.Close(); err != nil {
		e.t.Error(err)
	}
}

// reopen closes everything and opens the same directory again.
func (e *env) reopen() {
	e.close()
	e.open()
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   []byte
}

const ctJSON, ctNDJSON = "application/json", "application/x-ndjson"

// do sends a request with a body (none when body is "") and reads the
// whole answer.
func (e *env) do(method, path, contentType, body string) response {
	e.t.Helper()
	return doReq(e.t, method, e.ts.URL+path, contentType, strings.NewReader(body), body == "")
}

func doReq(t *testing.T, method, url, contentType string, body io.Reader, empty bool) response {
	t.Helper()
	if empty {
		body = nil
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return doRequest(t, req)
}

// decode decodes the answer's JSON body into v, failing the test if it is
// not JSON.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != ctJSON {
		t.Fatalf("Content-Type %q, want %s; body %s", ct, ctJSON, r.body)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("answer is not JSON: %v: %s", err, r.body)
	}
}

// apiErr is an error answer.
type apiErr struct {
	Status  int    `json:"status"`
	Outcome string `json:"outcome"`
	Error   struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
	Items []struct {
		Index  int `json:"index"`
		Status int `json:"status"`
		Error  struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"error"`
	} `json:"items"`
}

// wantError checks an error answer's status and type, and returns it.
func (r response) wantError(t *testing.T, status int, typ string) apiErr {
	t.Helper()
	var e apiErr
	r.decode(t, &e)
	if r.status != status || e.Status != status || e.Error.Type != typ || e.Error.Reason == "" {
		t.Fatalf("got %d %s, want %d with type %s", r.status, r.body, status, typ)
	}
	return e
}

// count returns how many events the store holds.
func (e *env) count() int {
	e.t.Helper()
	res, err := e.db.Query(context.Background(), query.Request{PerPage: 1})
	if err != nil {
		e.t.Fatal(err)
	}
	return res.Total
}

func (e *env) wantCount(want int) {
	e.t.Helper()
	if n := e.count(); n != want {
		e.t.Fatalf("store holds %d events, want %d", n, want)
	}
}

// ev is a fixture event: one primary ref, in canonical key order (so that
// it comes back byte for byte).
type ev struct {
	ts, provider, action, outcome string
	refType, refID, refSpace      string
	notPrimary                    bool // the ref has no rel
	duration                      int64
	spaceIDs                      string // a JSON array, or ""
}

func (v ev) json() string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"@timestamp":%q,"message":"%s %s","event":{"action":%q`, v.ts, v.provider, v.action, v.action)
	if v.duration != 0 {
		fmt.Fprintf(&b, `,"duration":%d`, v.duration)
	}
	fmt.Fprintf(&b, `,"outcome":%q,"provider":%q}`, v.outcome, v.provider)
	if v.refID != "" || v.spaceIDs != "" {
		b.WriteString(`,"kibana":{`)
		if v.spaceIDs != "" {
			fmt.Fprintf(&b, `"space_ids":%s`, v.spaceIDs)
			if v.refID != "" {
				b.WriteByte(',')
			}
		}
		if v.refID != "" {
			b.WriteString(`"saved_objects":[{`)
			if !v.notPrimary {
				b.WriteString(`"rel":"primary",`)
			}
			if v.refSpace != "" {
				fmt.Fprintf(&b, `"namespace":%q,`, v.refSpace)
			}
			fmt.Fprintf(&b, `"id":%q,"type":%q}]`, v.refID, v.refType)
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
	return b.String()
}

// tsAt returns distinct, increasing timestamps.
func tsAt(i int) string {
	return time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second).Format("2006-01-02T15:04:05.000Z")
}

// ndjson joins event documents into a bulk body.
func ndjson(docs ...string) string { return strings.Join(docs, "\n") + "\n" }

// bulk posts docs to _bulk and checks that all were stored.
func (e *env) bulk(docs ...string) {
	e.t.Helper()
	r := e.do("POST", "/api/events/_bulk", ctNDJSON, ndjson(docs...))
	var out struct{ Errors bool }
	r.decode(e.t, &out)
	if r.status != http.StatusOK || out.Errors {
		e.t.Fatalf("bulk: %d %s", r.status, r.body)
	}
}

// hit is an event as the API returns it: the engine fields and the rest.
type hit struct {
	ID  string `json:"_id"`
	Seq uint64 `json:"_seq"`
	TS  string `json:"@timestamp"`
}

// newTestServer serves srv on a loopback listener until the test ends.
func newTestServer(t *testing.T, srv *Server) *httptest.Server {
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}
