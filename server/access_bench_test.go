package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/auth"
)

// authorizeFixture is a server with one writer key (scoped or not, rate
// limited or not) and an ingest request carrying it.
func authorizeFixture(tb testing.TB, scoped, limited bool) (*Server, *route, *http.Request) {
	tb.Helper()
	store, err := auth.Open(nil, tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	spec := auth.Spec{Name: "shipper", Role: auth.Writer}
	if scoped {
		spec.Spaces = []string{"team-a", "team-b"}
	}
	k, secret, err := store.Create(spec, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	var limits auth.Limits
	if limited {
		limits.ByRole = map[auth.Role]auth.Limit{auth.Writer: {Requests: 1e12, Bytes: 1e15}}
	}
	db, err := eventlog.Open(tb.TempDir(), eventlog.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	s := New(db, Config{Keys: store, RateLimits: limits}, nil, nil)
	var rt *route
	for _, r := range s.routeTable() {
		if r.pattern == "POST /api/events" {
			rt = &r
		}
	}
	req := httptest.NewRequest(http.MethodPost, "/api/events", strings.NewReader("{}"))
	req.Header.Set("Authorization", "ApiKey "+auth.Encoded(k.ID, secret))
	return s, rt, req
}

// BenchmarkAuthorizeIngest measures what access control adds to an
// ingest request: parsing the Authorization header, checking the key's
// secret (SHA-256, constant-time compare), its role and, when limited,
// its rate.
//
//	go test ./server -run '^$' -bench AuthorizeIngest -benchtime 2s -count 3
func BenchmarkAuthorizeIngest(b *testing.B) {
	for _, c := range []struct {
		name            string
		scoped, limited bool
	}{{"plain", false, false}, {"scoped", true, false}, {"rate-limited", false, true}} {
		b.Run(c.name, func(b *testing.B) {
			s, rt, req := authorizeFixture(b, c.scoped, c.limited)
			w := &recorder{ResponseWriter: httptest.NewRecorder()}
			b.ReportAllocs()
			for b.Loop() {
				if k, err := s.authorize(w, req, rt); err != nil || k == nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestAuthorizeAllocatesNothing: an allowed request costs no allocation,
// with or without a rate limit.
func TestAuthorizeAllocatesNothing(t *testing.T) {
	for _, limited := range []bool{false, true} {
		s, rt, req := authorizeFixture(t, true, limited)
		w := &recorder{ResponseWriter: httptest.NewRecorder()}
		s.authorize(w, req, rt) // the rate limiter makes the key's buckets once
		if n := testing.AllocsPerRun(100, func() {
			if _, err := s.authorize(w, req, rt); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("limited=%v: %v allocations per authorized request, want 0", limited, n)
		}
	}
}
