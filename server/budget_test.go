package server

import (
	"math"
	"net/http"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
)

// TestIngestUnderMemoryPressure: while the store's memory budget is taken
// (here by a consumer of the test's own, as a cache would), an ingest
// request waits WriteQueueTimeout for room, then gets 429 with Retry-After
// naming the memory limit, and stores nothing; once memory frees, it
// succeeds.
func TestIngestUnderMemoryPressure(t *testing.T) {
	// As if GOMEMLIMIT were set: the store then leaves the runtime's limit
	// alone, and the test binary keeps its own.
	prev := debug.SetMemoryLimit(math.MaxInt64 - 1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	const limit = 8 << 20
	e := &env{t: t, dir: t.TempDir(), cfg: Config{WriteQueueTimeout: 20 * time.Millisecond}, memoryLimit: limit}
	e.open()
	t.Cleanup(e.close)
	cache := e.db.Memory().Account("cache")
	cache.Charge(limit)
	good := ev{ts: tsAt(1), provider: "alerting", action: "execute", outcome: "success"}.json()
	for _, path := range []string{"/api/events", "/api/events/_bulk"} {
		r := e.do("POST", path, ctJSON, good)
		r.wantError(t, http.StatusTooManyRequests, typeOverloaded)
		if r.header.Get("Retry-After") != "1" || !strings.Contains(string(r.body), "memory limit of 8388608 bytes") || !strings.Contains(string(r.body), "cache 8388608") {
			t.Errorf("%s: Retry-After %q, body %s", path, r.header.Get("Retry-After"), r.body)
		}
	}
	if n := e.db.Memory().Account(AccountBodies).Used(); n != 0 {
		t.Fatalf("refused bodies left %d bytes charged", n)
	}
	cache.Release(limit) // before counting: a count is a query, which needs memory too
	e.wantCount(0)
	if r := e.do("POST", "/api/events", ctJSON, good); r.status != http.StatusCreated {
		t.Fatalf("after memory freed: %d %s", r.status, r.body)
	}
	e.wantCount(1)
	if n := e.db.Memory().Account(AccountBodies).Used(); n != 0 {
		t.Fatalf("an answered request left %d bytes of its body charged", n)
	}
}

// TestQueriesUnderMemoryPressure: while the store's memory budget is taken,
// each read endpoint waits the store's QueryMemoryWait, then answers 429
// with Retry-After naming the memory limit and what holds it, and changes
// nothing; once memory frees, each answers as before.
func TestQueriesUnderMemoryPressure(t *testing.T) {
	prev := debug.SetMemoryLimit(math.MaxInt64 - 1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	const limit = 64 << 20
	e := &env{t: t, dir: t.TempDir(), memoryLimit: limit, queryMemoryWait: time.Millisecond}
	e.open()
	t.Cleanup(e.close)
	for i := range 3 {
		if r := e.do("POST", "/api/events", ctJSON, ev{ts: tsAt(i), provider: "alerting", action: "execute", outcome: "success", refType: "alert", refID: "1"}.json()); r.status != http.StatusCreated {
			t.Fatalf("ingest: %d %s", r.status, r.body)
		}
	}
	reads := []struct{ method, path, body string }{
		{"POST", "/api/events/_search", `{"per_page":2}`},
		{"POST", "/api/events/_aggregate", `{"aggs":{"a":{"terms":{"field":"event.action"}}}}`},
		{"GET", "/api/events/_export", ""},
		{"GET", "/api/event_log/alert/1/_find", ""},
	}
	before := make([]string, len(reads))
	for i, rd := range reads {
		r := e.do(rd.method, rd.path, ctJSON, rd.body)
		if r.status != http.StatusOK {
			t.Fatalf("%s %s with memory free: %d %s", rd.method, rd.path, r.status, r.body)
		}
		before[i] = string(r.body)
	}
	cache := e.db.Memory().Account("cache")
	cache.Charge(limit)
	for _, rd := range reads {
		r := e.do(rd.method, rd.path, ctJSON, rd.body)
		r.wantError(t, http.StatusTooManyRequests, typeOverloaded)
		if r.header.Get("Retry-After") != "1" || !strings.Contains(string(r.body), "memory limit of 67108864 bytes") || !strings.Contains(string(r.body), "cache 67108864") {
			t.Errorf("%s %s: Retry-After %q, body %s", rd.method, rd.path, r.header.Get("Retry-After"), r.body)
		}
	}
	var stats struct {
		Memory eventlog.MemoryStats `json:"memory"`
	}
	e.do("GET", "/api/_stats", "", "").decode(t, &stats)
	if q, ok := stats.Memory.Consumers[eventlog.AccountQueries]; !ok || q != 0 || stats.Memory.Waiting != 0 {
		t.Fatalf("after refused queries /api/_stats has memory %+v, want a queries account holding 0 and nobody waiting", stats.Memory)
	}
	cache.Release(limit)
	e.wantCount(3)
	for i, rd := range reads {
		r := e.do(rd.method, rd.path, ctJSON, rd.body)
		if r.status != http.StatusOK || string(r.body) != before[i] {
			t.Fatalf("%s %s after memory freed: %d %s, before %s", rd.method, rd.path, r.status, r.body, before[i])
		}
	}
}
