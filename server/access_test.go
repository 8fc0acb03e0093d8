package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/destination"
	"github.com/eventlogdb/eventlog/privacy"
)

// The expectation of the access tests, written here independently of the
// server's rule table: the role each route needs ("" for none), and the
// routes whose answers cover the whole store (refused to scoped keys).
var (
	routeNeeds = map[string]string{
		"POST /api/events":                          "writer",
		"POST /api/events/_bulk":                    "writer",
		"POST /api/events/_delete_by_query":         "admin",
		"GET /api/event_log/{type}/{id}/_find":      "reader",
		"POST /api/event_log/{type}/_find":          "reader",
		"GET /internal/event_log/{type}/{id}/_find": "reader",
		"POST /internal/event_log/{type}/_find":     "reader",
		"GET /api/events/_search":                   "reader",
		"POST /api/events/_search":                  "reader",
		"POST /api/events/_aggregate":               "reader",
		"GET /api/events/_export":                   "reader",
		"POST /api/events/_export":                  "reader",
		"GET /api/events/_tail":                     "reader",
		"GET /api/events/{id}":                      "reader",
		"POST /api/events/_mget":                    "reader",
		"GET /api/destinations":                     "admin",
		"PUT /api/destinations/{name}":              "admin",
		"GET /api/destinations/{name}":              "admin",
		"DELETE /api/destinations/{name}":           "admin",
		"POST /api/destinations/{name}/_resume":     "admin",
		"GET /api/providers":                        "reader",
		"PUT /api/providers/{provider}":             "writer",
		"GET /api/_stats":                           "reader",
		"GET /api/_privacy":                         "reader",
		"POST /api/_privacy/_reveal":                "admin",
		"POST /api/_roll":                           "admin",
		"POST /api/_compact":                        "admin",
		"POST /api/_retention":                      "admin",
		"POST /api/_compaction/_pause":              "admin",
		"POST /api/_compaction/_resume":             "admin",
		"POST /api/_backup":                         "admin",
		"POST /api/_holds":                          "admin",
		"GET /api/_holds":                           "auditor",
		"DELETE /api/_holds/{name}":                 "admin",
		"POST /api/_security/api_key":               "admin",
		"GET /api/_security/api_key":                "admin",
		"DELETE /api/_security/api_key/{id}":        "admin",
		"GET /healthz":                              "",
		"GET /{$}":                                  "", // the timeline page (ui.go)
		"GET /assets/{file}":                        "",
		"GET /api/_security/_authenticate":          "reader",
		"GET /readyz":                               "reader",
		"GET /metrics":                              "reader",
		"GET /api/_integrity/head":                  "auditor",
		"POST /api/_integrity/head":                 "admin",
		"GET /api/_integrity/heads":                 "auditor",
		"GET /api/_integrity/consistency":           "auditor",
		"GET /api/events/{id}/_proof":               "auditor",
	}
	storeWideRoutes = map[string]bool{"GET /api/_stats": true, "GET /metrics": true, "GET /api/_holds": true,
		"GET /api/_integrity/head": true, "GET /api/_integrity/heads": true,
		"GET /api/_integrity/consistency": true, "GET /api/events/{id}/_proof": true}
	// roleGrants is what each role may do.
	roleGrants = map[string][]string{
		"reader": {"reader"}, "writer": {"reader", "writer"}, "admin": {"reader", "writer", "admin", "auditor"}, "auditor": {"reader", "auditor"},
	}
)

// accessPseudonymizer pseudonymises user.email, which no event of these
// tests has, so that the re-identification route has something to do.
var accessPseudonymizer = func() *privacy.Pseudonymizer {
	p, err := privacy.New([]byte("access-test-pseudonym-key-0123456789"), []string{"user.email"})
	if err != nil {
		panic(err)
	}
	return p
}()

// sample is a request that a route answers 2xx when it is allowed.
type sample struct {
	path, body, contentType string
}

// routeSample is the request of a route pattern (without its /s/{space}
// prefix), its events in space.
func routeSample(pattern, space, sinkURL string) (sample, bool) {
	evIn := fmt.Sprintf(`{"@timestamp":"2026-01-02T03:04:05Z","event":{"provider":"alerting","action":"execute"},"kibana":{"space_ids":[%q]}}`, space)
	samples := map[string]sample{
		"/api/events":                           {"/api/events", evIn, ctJSON},
		"/api/events/_bulk":                     {"/api/events/_bulk", evIn + "\n", ctNDJSON},
		"/api/events/_delete_by_query":          {"/api/events/_delete_by_query", `{"filter":"message:matches-nothing"}`, ctJSON},
		"/api/event_log/{type}/{id}/_find":      {"/api/event_log/alert/ref-a/_find", "", ""},
		"/api/event_log/{type}/_find":           {"/api/event_log/alert/_find", `{"ids":["ref-a"]}`, ctJSON},
		"/internal/event_log/{type}/{id}/_find": {"/internal/event_log/alert/ref-a/_find", "", ""},
		"/internal/event_log/{type}/_find":      {"/internal/event_log/alert/_find", `{"ids":["ref-a"]}`, ctJSON},
		"/api/events/_search":                   {"/api/events/_search", "", ""},
		"/api/events/_aggregate":                {"/api/events/_aggregate", `{"aggs":{"p":{"terms":{"field":"event.provider"}}}}`, ctJSON},
		"/api/events/_export":                   {"/api/events/_export", "", ""},
		"/api/events/_tail":                     {"/api/events/_tail", "", ""},
		"/api/events/{id}":                      {"/api/events/0000000000000001", "", ""},
		"/api/events/_mget":                     {"/api/events/_mget", `{"ids":["0000000000000001","x"]}`, ctJSON},
		"/api/destinations":                     {"/api/destinations", "", ""},
		"/api/destinations/{name}":              {"/api/destinations/d1", `{"url":"` + sinkURL + `"}`, ctJSON},
		"/api/destinations/{name}/_resume":      {"/api/destinations/d1/_resume", "", ""},
		"/api/providers":                        {"/api/providers", "", ""},
		"/api/providers/{provider}":             {"/api/providers/alerting", `{"actions":["execute"]}`, ctJSON},
		"/api/_stats":                           {"/api/_stats", "", ""},
		"/api/_privacy":                         {"/api/_privacy", "", ""},
		"/api/_privacy/_reveal":                 {"/api/_privacy/_reveal", fmt.Sprintf(`{"field":"user.email","pseudonym":%q,"candidates":["a@example.com"]}`, accessPseudonymizer.Value("a@example.com")), ctJSON},
		"/api/_roll":                            {"/api/_roll", "", ""},
		"/api/_compact":                         {"/api/_compact", "", ""},
		"/api/_retention":                       {"/api/_retention", "", ""},
		"/api/_compaction/_pause":               {"/api/_compaction/_pause", "", ""},
		"/api/_compaction/_resume":              {"/api/_compaction/_resume", "", ""},
		"/api/_backup":                          {"/api/_backup", `{"name":"b1"}`, ctJSON},
		"/api/_holds":                           {"/api/_holds", `{"name":"h1","filter":"message:x","reason":"access test"}`, ctJSON},
		"/api/_holds/{name}":                    {"/api/_holds/no-such-hold", "", ""},
		"/api/_security/api_key":                {"/api/_security/api_key", `{"name":"tmp","role":"reader"}`, ctJSON},
		"/api/_security/api_key/{id}":           {"/api/_security/api_key/no-such-key", "", ""},
		"/healthz":                              {"/healthz", "", ""},
		"/{$}":                                  {"/", "", ""},
		"/assets/{file}":                        {"/assets/app-ABCD2345.js", "", ""},
		"/api/_security/_authenticate":          {"/api/_security/_authenticate", "", ""},
		"/readyz":                               {"/readyz", "", ""},
		"/metrics":                              {"/metrics", "", ""},
		"/api/_integrity/head":                  {"/api/_integrity/head", "", ""},
		"/api/_integrity/heads":                 {"/api/_integrity/heads?from=0", "", ""},
		"/api/_integrity/consistency":           {"/api/_integrity/consistency?from_size=0&to_size=0", "", ""},
		"/api/events/{id}/_proof":               {"/api/events/0000000000000001/_proof", "", ""},
	}
	_, path, _ := strings.Cut(pattern, " ")
	smp, ok := samples[path]
	if !ok {
		return esRouteSample(path, space) // es_access_test.go
	}
	return smp, ok
}

// accessEnv is a store with keys of every kind, served with delete,
// backups and destinations on.
type accessEnv struct {
	*env
	keys    *auth.Store
	headers map[string]string // credential name → Authorization header
	sink    *httptest.Server
	// extra is a header the next call sends besides Authorization.
	extra [2]string
}

const scopeA, scopeB = "team-a", "team-b"

func newAccessEnv(t *testing.T, cfg Config) *accessEnv {
	t.Helper()
	dir := t.TempDir()
	store, err := auth.Open(nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Keys, cfg.EnableDelete, cfg.BackupDir = store, true, t.TempDir()
	cfg.GitLab.Tokens = []GitLabToken{{Token: accessGitLabToken}}
	e := &env{t: t, dir: t.TempDir(), cfg: cfg, pseudonymizer: accessPseudonymizer}
	e.open()
	t.Cleanup(e.close)
	a := &accessEnv{env: e, keys: store, headers: map[string]string{"none": ""}}
	a.sink = httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(a.sink.Close)
	m, err := destination.Open(e.db, filepath.Join(e.dir, "destinations"), nil, destination.Options{SecretsKey: testSecretsKey})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Destinations = m
	e.srv = New(e.db, cfg, NewMetrics(), testLogger(t))
	e.ts.Close()
	e.ts = httptest.NewServer(e.srv.Handler())
	t.Cleanup(func() { m.Close() })
	now := time.Now()
	mk := func(name string, role auth.Role, spaces []string, at time.Time, ttl time.Duration) (auth.Key, string) {
		k, secret, err := store.Create(auth.Spec{Name: name, Role: role, Spaces: spaces, TTL: ttl}, at)
		if err != nil {
			t.Fatal(err)
		}
		a.headers[name] = "ApiKey " + auth.Encoded(k.ID, secret)
		return k, secret
	}
	for _, r := range auth.Roles() {
		mk(r.String(), r, nil, now, 0)
		mk(r.String()+"@"+scopeA, r, []string{scopeA}, now, 0)
	}
	k, secret := mk("wrong", auth.Admin, nil, now, 0)
	a.headers["wrong"] = "ApiKey " + auth.Encoded(k.ID, secret[1:]+"x")
	mk("expired", auth.Admin, nil, now.Add(-2*time.Hour), time.Hour)
	k, _ = mk("revoked", auth.Admin, nil, now, 0)
	if _, err := store.Revoke(k.ID, now); err != nil {
		t.Fatal(err)
	}
	return a
}

// call sends a request with the credential's header. A stream (_tail)
// is cut once its header has arrived.
func (a *accessEnv) call(method, path, contentType, body, cred string) response {
	a.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.ts.URL+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if h := a.headers[cred]; h != "" {
		req.Header.Set("Authorization", h)
	}
	if a.extra[0] != "" {
		req.Header.Set(a.extra[0], a.extra[1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	r := response{status: resp.StatusCode, header: resp.Header}
	if !strings.HasSuffix(path, "_tail") || resp.StatusCode != http.StatusOK {
		r.body, _ = io.ReadAll(resp.Body)
	}
	return r
}

// expected is the access decision the test expects: 0 (allowed), 401 or
// 403.
func expected(pattern, cred string, scoped, outOfScope bool) int {
	need := routeNeeds[pattern]
	if need == "" {
		return 0
	}
	role, _, _ := strings.Cut(cred, "@")
	grants, ok := roleGrants[role]
	if !ok {
		return http.StatusUnauthorized
	}
	allowed := false
	for _, g := range grants {
		allowed = allowed || g == need
	}
	switch {
	case !allowed:
		return http.StatusForbidden
	case scoped && storeWideRoutes[pattern]:
		return http.StatusForbidden
	case outOfScope && (pattern == "POST /api/events" || esSingleDocRoutes[pattern]):
		return http.StatusForbidden // all or nothing: the event is out of scope
	}
	return 0
}

// TestRouteAccess runs every route of the route table with every kind of
// credential, unscoped, in scope and out of scope, and checks 401, 403 or
// an allowed answer against the expectation above. A route missing from
// the expectation fails.
func TestRouteAccess(t *testing.T) {
	a := newAccessEnv(t, Config{UI: testUI})
	creds := []string{"none", "wrong", "expired", "revoked", "reader", "writer", "admin", "auditor"}
	for _, rt := range a.srv.routeTable() {
		if err := rt.rule.check(); err != nil {
			t.Errorf("route %s: %v", rt.pattern, err)
		}
		method, path, _ := strings.Cut(rt.pattern, " ")
		spaced := strings.HasPrefix(path, "/s/{space}")
		base := method + " " + strings.TrimPrefix(path, "/s/{space}")
		if _, ok := routeNeeds[base]; !ok {
			t.Errorf("route %s has no expected access in this test: add it to routeNeeds", rt.pattern)
			continue
		}
		for _, scope := range []string{"none", "in", "out"} {
			space := scopeA
			if scope == "out" {
				space = scopeB
			}
			smp, ok := routeSample(base, space, a.sink.URL)
			if !ok {
				t.Errorf("route %s has no sample request in this test", rt.pattern)
				continue
			}
			if spaced {
				smp.path = "/s/" + space + smp.path
			}
			for _, cred := range creds {
				name := cred
				if scope != "none" && strings.Contains("reader writer admin auditor", cred) {
					name = cred + "@" + scopeA
				}
				want := expected(base, name, scope != "none", scope == "out")
				if want == 0 && spaced && scope == "out" && roleGrants[cred] != nil {
					want = http.StatusForbidden // a prefix outside the key's spaces
				}
				a.extra = sampleHeaders[strings.TrimPrefix(smp.path, "/s/"+space)]
				got := a.call(method, smp.path, smp.contentType, smp.body, name)
				a.extra = [2]string{}
				label := fmt.Sprintf("%s %s as %s", method, smp.path, name)
				checkDecision(t, label, got, want)
				if want == 0 && base == "POST /api/events/_bulk" && scope == "out" {
					var res struct {
						Items []struct{ Status int } `json:"items"`
					}
					got.decode(t, &res)
					if len(res.Items) != 1 || res.Items[0].Status != http.StatusForbidden {
						t.Errorf("%s: items %+v, want the line refused 403", label, res.Items)
					}
				}
			}
		}
	}
}

// checkDecision checks one answer against the expected decision.
func checkDecision(t *testing.T, label string, got response, want int) {
	t.Helper()
	switch want {
	case 0:
		if got.status == http.StatusUnauthorized || got.status == http.StatusForbidden || got.status >= 500 {
			t.Errorf("%s: %d %s, want it allowed", label, got.status, got.body)
		}
	case http.StatusUnauthorized:
		if got.status != want || got.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %d (WWW-Authenticate %q) %s, want 401 with a challenge", label, got.status, got.header.Get("WWW-Authenticate"), got.body)
			return
		}
		got.wantError(t, want, accessErrorType(label, typeUnauthenticated))
	case http.StatusForbidden:
		if got.status != want {
			t.Errorf("%s: %d %s, want 403", label, got.status, got.body)
			return
		}
		got.wantError(t, want, accessErrorType(label, typeForbidden))
	}
}

// accessErrorType is the error type a refusal has on the request of
// label: Elasticsearch's under /es.
func accessErrorType(label, typ string) string {
	if strings.Contains(label, " /es/") || strings.Contains(label, " /s/team-a/es/") {
		return esType(typ)
	}
	return typ
}

// readTail reads a _tail stream (NDJSON) until a line holds stop, and
// returns what it read.
func (a *accessEnv) readTail(path, cred, stop string) string {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.ts.URL+path, nil)
	req.Header.Set("Accept", ctNDJSON)
	req.Header.Set("Authorization", a.headers[cred])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out strings.Builder
	for sc := bufio.NewScanner(resp.Body); sc.Scan(); {
		out.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), stop) {
			return out.String()
		}
	}
	a.t.Fatalf("tail %s ended before %q: %s", path, stop, out.String())
	return ""
}

// TestScopedReadsHideOtherSpaces stores events in team-a, team-b, both
// and none (default), then reads them on every read route with keys of
// each kind: an out-of-scope event, a reference in an out-of-scope space
// and the store's own audit events never appear where they must not, and
// every total and count is that of the events the key may see.
func TestScopedReadsHideOtherSpaces(t *testing.T) {
	a := newAccessEnv(t, Config{})
	docs := []string{
		`{"@timestamp":"2026-01-02T03:04:01Z","message":"in-a","event":{"provider":"alerting","action":"execute"},"kibana":{"space_ids":["team-a"]}}`,
		`{"@timestamp":"2026-01-02T03:04:02Z","message":"only-b","event":{"provider":"alerting","action":"execute"},"kibana":{"space_ids":["team-b"]}}`,
		`{"@timestamp":"2026-01-02T03:04:03Z","message":"in-a-and-b","event":{"provider":"alerting","action":"execute"},"kibana":{"saved_objects":[` +
			`{"rel":"primary","type":"alert","id":"ref-a","namespace":"team-a"},{"rel":"primary","type":"alert","id":"ref-b-hidden","namespace":"team-b"}]}}`,
		`{"@timestamp":"2026-01-02T03:04:04Z","message":"in-default","event":{"provider":"alerting","action":"execute"}}`,
		`{"@timestamp":"2026-01-02T03:04:05Z","message":"end-marker","event":{"provider":"actions","action":"execute"},"kibana":{"space_ids":["team-a","team-b-hidden"]}}`,
	}
	if got := a.call("POST", "/api/events", ctJSON, "["+strings.Join(docs, ",")+"]", "writer"); got.status != http.StatusCreated {
		t.Fatalf("ingest: %d %s", got.status, got.body)
	}
	// An audit event: a key made through the API.
	if got := a.call("POST", "/api/_security/api_key", ctJSON, `{"name":"audited","role":"reader"}`, "admin"); got.status != http.StatusOK {
		t.Fatalf("create key: %d %s", got.status, got.body)
	}
	cases := []struct {
		cred, prefix string
		total        int      // matching events the key sees
		hidden       []string // text no answer may hold
		shown        []string // text the search answer must hold
	}{
		{"reader@" + scopeA, "", 3, []string{"only-b", "ref-b-hidden", "team-b-hidden", "in-default", "api-key-create"}, []string{"in-a", "ref-a", "end-marker"}},
		{"reader@" + scopeA, "/s/" + scopeA, 3, []string{"only-b", "ref-b-hidden", "in-default", "api-key-create"}, []string{"in-a", "ref-a"}},
		{"reader", "", 5, []string{"api-key-create"}, []string{"only-b", "ref-b-hidden", "in-default"}},
		{"auditor@" + scopeA, "", 3, []string{"only-b", "ref-b-hidden"}, []string{"in-a"}},
		{"admin", "", 6, nil, []string{"only-b", "api-key-create"}},
		{"auditor", "", 6, nil, []string{"api-key-create"}},
	}
	for _, c := range cases {
		p := c.prefix
		answers := map[string]response{
			"search":    a.call("GET", p+"/api/events/_search?per_page=100", "", "", c.cred),
			"search-q":  a.call("POST", p+"/api/events/_search", ctJSON, `{"per_page":100}`, c.cred),
			"aggregate": a.call("POST", p+"/api/events/_aggregate", ctJSON, `{"aggs":{"p":{"terms":{"field":"event.provider"}}}}`, c.cred),
			"export":    a.call("GET", p+"/api/events/_export", "", "", c.cred),
			"find":      a.call("GET", p+"/api/event_log/alert/ref-b-hidden/_find", "", "", c.cred),
		}
		for name, got := range answers {
			if got.status != http.StatusOK {
				t.Errorf("%s %s%s: %d %s", c.cred, p, name, got.status, got.body)
				continue
			}
			for _, h := range c.hidden {
				if strings.Contains(string(got.body), h) {
					t.Errorf("%s %s %s: the answer holds %q: %s", c.cred, p, name, h, got.body)
				}
			}
		}
		var res struct {
			Total        int
			Aggregations map[string]struct {
				Buckets []struct {
					Key   string
					Count int
				}
			}
		}
		answers["search"].decode(t, &res)
		if res.Total != c.total {
			t.Errorf("%s %s search: total %d, want %d", c.cred, p, res.Total, c.total)
		}
		for _, s := range c.shown {
			if !strings.Contains(string(answers["search"].body), s) {
				t.Errorf("%s %s search lacks %q: %s", c.cred, p, s, answers["search"].body)
			}
		}
		res.Total = -1
		answers["aggregate"].decode(t, &res)
		sum := 0
		for _, b := range res.Aggregations["p"].Buckets {
			sum += b.Count
		}
		if res.Total != c.total || sum != c.total {
			t.Errorf("%s %s aggregate: total %d, buckets sum %d, want %d: %s", c.cred, p, res.Total, sum, c.total, answers["aggregate"].body)
		}
		if n := strings.Count(string(answers["export"].body), "\n"); n != c.total {
			t.Errorf("%s %s export: %d lines, want %d", c.cred, p, n, c.total)
		}
		if c.prefix == "" {
			tail := a.readTail("/api/events/_tail", c.cred, "end-marker")
			for _, h := range c.hidden {
				if strings.Contains(tail, h) && h != "api-key-create" { // made after the marker
					t.Errorf("%s tail holds %q: %s", c.cred, h, tail)
				}
			}
		}
	}
}

// TestScopedAggregationsNameNothingOutOfScope: a scoped key may not have
// the terms of space ids, whose buckets would name spaces outside its
// scope (other terms are counted over its events only: see
// TestScopedReadsHideOtherSpaces).
func TestScopedAggregationsNameNothingOutOfScope(t *testing.T) {
	a := newAccessEnv(t, Config{})
	for _, field := range []string{"kibana.space_ids"} {
		body := `{"aggs":{"outer":{"terms":{"field":"event.action"},"aggs":{"inner":{"terms":{"field":"` + field + `"}}}}}}`
		got := a.call("POST", "/api/events/_aggregate", ctJSON, body, "reader@"+scopeA)
		got.wantError(t, http.StatusForbidden, typeForbidden)
		if got := a.call("POST", "/api/events/_aggregate", ctJSON, body, "reader"); got.status != http.StatusOK {
			t.Errorf("unscoped terms of %s: %d %s", field, got.status, got.body)
		}
	}
}

// TestScopedWriterNothingPartial checks that a scoped writer's batch
// with one event out of scope stores nothing, and names the event.
func TestScopedWriterNothingPartial(t *testing.T) {
	a := newAccessEnv(t, Config{})
	in := `{"@timestamp":"2026-01-02T03:04:01Z","event":{"provider":"alerting","action":"execute"},"kibana":{"space_ids":["team-a"]}}`
	out := `{"@timestamp":"2026-01-02T03:04:02Z","event":{"provider":"alerting","action":"execute"}}`
	got := a.call("POST", "/api/events", ctJSON, "["+in+","+out+"]", "writer@"+scopeA)
	ae := got.wantError(t, http.StatusForbidden, typeForbidden)
	if !strings.Contains(ae.Error.Reason, "event 1") || !strings.Contains(ae.Error.Reason, "default") {
		t.Errorf("reason %q does not name event 1 and its space", ae.Error.Reason)
	}
	if n := a.count(); n != 0 {
		t.Fatalf("%d events stored by a refused batch", n)
	}
}

// TestRevokedKeyEndsStreams opens a _tail with a key, revokes the key
// through the API and checks the stream ends with an error record, and the
// next request with the key is refused.
func TestRevokedKeyEndsStreams(t *testing.T) {
	a := newAccessEnv(t, Config{KeyCheckInterval: 20 * time.Millisecond})
	id := ""
	for _, k := range a.keys.List() {
		if k.Name == "reader" {
			id = k.ID
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.ts.URL+"/api/events/_tail", nil)
	req.Header.Set("Accept", ctNDJSON)
	req.Header.Set("Authorization", a.headers["reader"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("tail: %v %v", resp, err)
	}
	defer resp.Body.Close()
	if got := a.call("DELETE", "/api/_security/api_key/"+id, "", "", "admin"); got.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", got.status, got.body)
	}
	body, _ := io.ReadAll(resp.Body) // ends when the server ends the stream
	if !strings.Contains(string(body), "revoked") {
		t.Errorf("the stream ended with %q, want an error record saying the key was revoked", body)
	}
	checkDecision(t, "search after revocation", a.call("GET", "/api/events/_search", "", "", "reader"), http.StatusUnauthorized)
}

// TestAuditEvents checks the audit trail: key creation and revocation name
// who and from where; refused credentials are counted per key id and
// address into one event per flush.
func TestAuditEvents(t *testing.T) {
	a := newAccessEnv(t, Config{})
	got := a.call("POST", "/api/_security/api_key", ctJSON, `{"name":"ci","role":"writer","spaces":["team-a"],"expiration":"30d"}`, "admin")
	var created KeyCreated
	got.decode(t, &created)
	a.call("DELETE", "/api/_security/api_key/"+created.ID, "", "", "admin")
	if got := a.call("POST", "/api/_backup", ctJSON, `{"name":"nightly"}`, "admin"); got.status != http.StatusOK {
		t.Fatalf("backup: %d %s", got.status, got.body)
	}
	a.call("POST", "/api/events/_delete_by_query", ctJSON, `{"filter":"message:none"}`, "admin")
	for range 5 {
		a.call("GET", "/api/events/_search", "", "", "wrong")
	}
	a.srv.flushFailures(context.Background(), time.Now())
	res := a.call("GET", "/api/events/_search?per_page=100&filter=event.provider:eventlog", "", "", "auditor")
	var page struct {
		Data []struct {
			Event   struct{ Action, Outcome string }
			User    struct{ ID, Name string }
			Source  struct{ IP string }
			Labels  map[string]string
			Message string
		}
	}
	res.decode(t, &page)
	actions := map[string]int{}
	for _, ev := range page.Data {
		actions[ev.Event.Action]++
		if ev.Event.Action == eventlog.ActionDeleteByQuery {
			continue // the engine's own record of the delete, not a server's audit event
		}
		if ev.Source.IP != "127.0.0.1" {
			t.Errorf("%s: source.ip %q, want 127.0.0.1", ev.Event.Action, ev.Source.IP)
		}
		switch ev.Event.Action {
		case ActionKeyCreate, ActionKeyRevoke:
			if ev.User.Name != "admin" || ev.Labels["key_id"] != created.ID {
				t.Errorf("%s by %q of %q, want by admin of %s", ev.Event.Action, ev.User.Name, ev.Labels["key_id"], created.ID)
			}
		case actionBackup, actionDeleteRequest:
			if ev.User.Name != "admin" || ev.Event.Outcome != "success" {
				t.Errorf("%s by %q, outcome %q; want by admin, success", ev.Event.Action, ev.User.Name, ev.Event.Outcome)
			}
		case actionAuthFailure:
			if ev.Labels["count"] != "5" || ev.Labels["reasons"] != "wrong_secret:5" || ev.User.Name != "wrong" {
				t.Errorf("failure event %+v, want 5 wrong secrets of key \"wrong\"", ev)
			}
		}
	}
	want := map[string]int{ActionKeyCreate: 1, ActionKeyRevoke: 1, actionAuthFailure: 1, actionBackup: 1, actionDeleteRequest: 1}
	for k, n := range want {
		if actions[k] != n {
			t.Errorf("%d %s events, want %d (all: %v)", actions[k], k, n, actions)
		}
	}
}

// TestRateLimit checks the 429 with Retry-After of a key over its
// request rate, and that another key is not affected.
func TestRateLimit(t *testing.T) {
	var limits auth.Limits
	if err := limits.ParseLimit("reader=1/s"); err != nil {
		t.Fatal(err)
	}
	a := newAccessEnv(t, Config{RateLimits: limits})
	if got := a.call("GET", "/api/providers", "", "", "reader"); got.status != http.StatusOK {
		t.Fatalf("first request: %d %s", got.status, got.body)
	}
	got := a.call("GET", "/api/providers", "", "", "reader")
	got.wantError(t, http.StatusTooManyRequests, typeRateLimited)
	if got.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After %q, want 1", got.header.Get("Retry-After"))
	}
	if got := a.call("GET", "/api/providers", "", "", "writer"); got.status != http.StatusOK {
		t.Errorf("a writer (no limit) was refused: %d", got.status)
	}
	m := a.call("GET", "/metrics", "", "", "admin")
	if !strings.Contains(string(m.body), `eventlog_rate_limited_total{key_id="`) {
		t.Error("/metrics lacks eventlog_rate_limited_total")
	}
}

// TestByteRateLimit: a key over its ingested bytes per second gets 429
// with Retry-After, and nothing of the refused body is stored.
func TestByteRateLimit(t *testing.T) {
	var limits auth.Limits
	if err := limits.ParseLimit("writer=,100B/s"); err != nil {
		t.Fatal(err)
	}
	// The bucket holds the largest body (1 KiB), then refills at 100 B/s.
	a := newAccessEnv(t, Config{RateLimits: limits, MaxBulkBytes: 1024, MaxEventBytes: 1024})
	line := `{"event":{"provider":"alerting","action":"execute"},"message":"` + strings.Repeat("x", 600) + `"}` + "\n"
	if got := a.call("POST", "/api/events/_bulk", ctNDJSON, line, "writer"); got.status != http.StatusOK {
		t.Fatalf("first body: %d %s", got.status, got.body)
	}
	got := a.call("POST", "/api/events/_bulk", ctNDJSON, line, "writer")
	got.wantError(t, http.StatusTooManyRequests, typeRateLimited)
	if ra := got.header.Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After %q", ra)
	}
	if n := a.count(); n != 1 {
		t.Errorf("%d events stored, want 1", n)
	}
}

// TestNoKeysNoAuthentication: a key store without keys authenticates
// nothing (eventlog serve allows that on loopback only), and the first key
// turns authentication on.
func TestNoKeysNoAuthentication(t *testing.T) {
	store, err := auth.Open(nil, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, Config{Keys: store})
	if got := e.do("GET", "/api/_stats", "", ""); got.status != http.StatusOK {
		t.Fatalf("no keys: %d", got.status)
	}
	got := e.do("POST", "/api/_security/api_key", ctJSON, `{"name":"first","role":"admin"}`)
	var created KeyCreated
	got.decode(t, &created)
	if len(created.APIKey) != 43 || created.Encoded != auth.Encoded(created.ID, created.APIKey) {
		t.Fatalf("created %+v", created)
	}
	e.do("GET", "/api/_stats", "", "").wantError(t, http.StatusUnauthorized, typeUnauthenticated)
	if got := e.do("GET", "/healthz", "", ""); got.status != http.StatusOK {
		t.Errorf("/healthz with keys and no credentials: %d", got.status)
	}
	req, _ := http.NewRequest("GET", e.ts.URL+"/api/_stats", nil)
	req.SetBasicAuth(created.ID, created.APIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("Basic auth with id and secret: %d", resp.StatusCode)
	}
}

// TestMetricsPublic: /metrics needs no key with Config.MetricsPublic.
func TestMetricsPublic(t *testing.T) {
	a := newAccessEnv(t, Config{MetricsPublic: true})
	if got := a.call("GET", "/metrics", "", "", "none"); got.status != http.StatusOK {
		t.Errorf("/metrics: %d", got.status)
	}
	checkDecision(t, "stats", a.call("GET", "/api/_stats", "", "", "none"), http.StatusUnauthorized)
}

// TestPrivacyNoticeNamesWhoMayRead: with keys, the notice says
// authentication is on and lists each active key's role and spaces, and
// none that is expired or revoked.
func TestPrivacyNoticeNamesWhoMayRead(t *testing.T) {
	a := newAccessEnv(t, Config{})
	r := a.call("GET", "/api/_privacy", "", "", "admin")
	var n privacy.Notice
	if err := json.Unmarshal([]byte(r.body), &n); err != nil || r.status != http.StatusOK {
		t.Fatalf("%d %s: %v", r.status, r.body, err)
	}
	if !n.Access.Authentication || n.Access.Readers != privacy.ReadersWithKeys {
		t.Fatalf("access %+v", n.Access)
	}
	got := map[string]privacy.KeyAccess{}
	for _, k := range n.Access.Keys {
		got[k.Name] = k
	}
	if k := got["reader@"+scopeA]; k.Role != "reader" || !slices.Equal(k.Spaces, []string{scopeA}) {
		t.Errorf("scoped reader: %+v", k)
	}
	if k := got["admin"]; k.Role != "admin" || len(k.Spaces) != 0 {
		t.Errorf("admin: %+v", k)
	}
	for _, gone := range []string{"expired", "revoked"} {
		if _, ok := got[gone]; ok {
			t.Errorf("the %s key is listed", gone)
		}
	}
}
