package server

import (
	"math"
	"net/http"
	"runtime/debug"
	"strings"
	"testing"
	"time"
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
	e.wantCount(0)
	if n := e.db.Memory().Account(AccountBodies).Used(); n != 0 {
		t.Fatalf("refused bodies left %d bytes charged", n)
	}
	cache.Release(limit)
	if r := e.do("POST", "/api/events", ctJSON, good); r.status != http.StatusCreated {
		t.Fatalf("after memory freed: %d %s", r.status, r.body)
	}
	e.wantCount(1)
	if n := e.db.Memory().Account(AccountBodies).Used(); n != 0 {
		t.Fatalf("an answered request left %d bytes of its body charged", n)
	}
}
