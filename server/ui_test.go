package server

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"
)

// testUI is a page build in the shape web/build.mjs writes.
var testUI = fstest.MapFS{
	"index.html":              {Data: []byte(`<!doctype html><script type="module" src="/assets/app-ABCD2345.js"></script>`)},
	"assets/app-ABCD2345.js":  {Data: []byte(`console.log("page")`)},
	"assets/app-WXYZ6789.css": {Data: []byte(`body{}`)},
	"assets/logo.svg":         {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)},
}

const pageBody = `<!doctype html><script type="module" src="/assets/app-ABCD2345.js"></script>`

// get sends method path with an Accept header.
func (e *env) get(method, path, accept string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.ts.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return doRequest(e.t, req)
}

func doRequest(t *testing.T, req *http.Request) response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

// TestPageFiles checks each kind of page file's status, type and cache
// policy: hashed assets immutable, everything else revalidated.
func TestPageFiles(t *testing.T) {
	e := newEnv(t, Config{UI: testUI})
	const html = "text/html,application/xhtml+xml"
	cases := map[string]struct {
		method, path, accept string
		status               int
		contentType, cache   string
		body                 string
	}{
		"page":              {"GET", "/", html, 200, "text/html; charset=utf-8", "no-cache", pageBody},
		"page, any accept":  {"GET", "/", "*/*", 200, "text/html; charset=utf-8", "no-cache", pageBody},
		"page, HEAD":        {"HEAD", "/", html, 200, "text/html; charset=utf-8", "no-cache", ""},
		"script":            {"GET", "/assets/app-ABCD2345.js", "*/*", 200, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable", `console.log("page")`},
		"stylesheet":        {"GET", "/assets/app-WXYZ6789.css", "text/css", 200, "text/css; charset=utf-8", "public, max-age=31536000, immutable", "body{}"},
		"unhashed asset":    {"GET", "/assets/logo.svg", "*/*", 200, "image/svg+xml", "no-cache", `<svg xmlns="http://www.w3.org/2000/svg"/>`},
		"missing asset":     {"GET", "/assets/app-ZZZZ2222.js", "*/*", 404, ctJSON, "", ""},
		"asset by the page": {"GET", "/assets/app-ZZZZ2222.js", html, 404, ctJSON, "", ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got := e.get(c.method, c.path, c.accept)
			if got.status != c.status || got.header.Get("Content-Type") != c.contentType {
				t.Fatalf("%d %q %s, want %d %q", got.status, got.header.Get("Content-Type"), got.body, c.status, c.contentType)
			}
			if c.status != 200 {
				got.wantError(t, c.status, typeNotFound)
				return
			}
			if cc := got.header.Get("Cache-Control"); cc != c.cache {
				t.Errorf("Cache-Control %q, want %q", cc, c.cache)
			}
			if string(got.body) != c.body {
				t.Errorf("body %q, want %q", got.body, c.body)
			}
			if got.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("X-Content-Type-Options %q, want nosniff", got.header.Get("X-Content-Type-Options"))
			}
		})
	}
}

// TestPageCSP checks that the page's Content-Security-Policy allows
// scripts, styles and connections from its own origin only: no inline
// code, no eval, no foreign origin.
func TestPageCSP(t *testing.T) {
	e := newEnv(t, Config{UI: testUI})
	csp := e.get("GET", "/", "text/html").header.Get("Content-Security-Policy")
	directives := map[string][]string{}
	for _, d := range strings.Split(csp, ";") {
		f := strings.Fields(d)
		if len(f) > 0 {
			directives[f[0]] = f[1:]
		}
	}
	want := map[string]string{
		"default-src": "'none'", "script-src": "'self'", "style-src": "'self'", "connect-src": "'self'",
		"base-uri": "'none'", "frame-ancestors": "'none'", "form-action": "'none'",
	}
	for d, v := range want {
		if got := strings.Join(directives[d], " "); got != v {
			t.Errorf("%s is %q, want %q (CSP %q)", d, got, v, csp)
		}
	}
	for _, bad := range []string{"unsafe-inline", "unsafe-eval", "http:", "https:", "*", "//"} {
		if strings.Contains(csp, bad) {
			t.Errorf("CSP %q allows %s", csp, bad)
		}
	}
	if got := e.get("GET", "/assets/app-ABCD2345.js", "*/*").header.Get("Content-Security-Policy"); got != csp {
		t.Errorf("asset CSP %q, want the page's %q", got, csp)
	}
}

// TestPageFallback checks which unmatched requests get the page: only a
// GET or HEAD accepting text/html outside the API's paths. API clients
// keep their JSON 404 and 405.
func TestPageFallback(t *testing.T) {
	const html = "text/html,application/xhtml+xml,*/*;q=0.8"
	cases := []struct {
		method, path, accept string
		ui                   bool
		status               int // 200: the page
	}{
		{"GET", "/incident/2026-12-07", html, true, 200},
		{"HEAD", "/incident", html, true, 200},
		{"GET", "/s/team-a", html, true, 200},
		{"GET", "/s/team-a/timeline", html, true, 200},
		{"GET", "/apis", html, true, 200}, // not under /api
		{"GET", "/incident", "application/json", true, 404},
		{"GET", "/incident", "", true, 404},
		{"POST", "/incident", html, true, 404},
		{"DELETE", "/incident", html, true, 404},
		{"GET", "/api", html, true, 404},
		{"GET", "/api/nothing", html, true, 404},
		{"GET", "/es/_search", html, true, 404},
		{"GET", "/internal/event_log", html, true, 404},
		{"GET", "/metrics/x", html, true, 404},
		{"GET", "/s/team-a/api/nothing", html, true, 404},
		{"GET", "/s/team-a/api", html, true, 404},
		{"GET", "/api/events", html, true, 405}, // a POST route
		{"GET", "/", html, false, 404},
		{"GET", "/incident", html, false, 404},
	}
	withUI, without := newEnv(t, Config{UI: testUI}), newEnv(t, Config{})
	for _, c := range cases {
		e := without
		if c.ui {
			e = withUI
		}
		got := e.get(c.method, c.path, c.accept)
		label := c.method + " " + c.path + " Accept " + c.accept
		switch {
		case c.status == 200:
			if got.status != 200 || got.header.Get("Content-Type") != "text/html; charset=utf-8" ||
				got.header.Get("Cache-Control") != "no-cache" || (c.method == "GET" && string(got.body) != pageBody) {
				t.Errorf("%s: %d %q %s, want the page", label, got.status, got.header.Get("Content-Type"), got.body)
			}
		case c.method == "HEAD":
			if got.status != c.status {
				t.Errorf("%s: %d, want %d", label, got.status, c.status)
			}
		default:
			typ := typeNotFound
			if c.status == 405 {
				typ = typeMethodNotAllowed
			}
			if got.status != c.status || got.header.Get("Content-Type") != ctJSON {
				t.Errorf("%s: %d %q %s, want a JSON %d", label, got.status, got.header.Get("Content-Type"), got.body, c.status)
				continue
			}
			if strings.HasPrefix(c.path, "/es/") { // Elasticsearch's error shape, for its clients
				var e struct{ Error struct{ Type string } }
				if json.Unmarshal(got.body, &e) != nil || e.Error.Type != esType(typ) {
					t.Errorf("%s: %s, want an Elasticsearch %s", label, got.body, esType(typ))
				}
				continue
			}
			got.wantError(t, c.status, typ)
		}
	}
}

// TestPagePublicAPIAuthenticated checks that with keys the page's files
// need none, its API calls do, and _authenticate tells a key what it
// grants.
func TestPagePublicAPIAuthenticated(t *testing.T) {
	a := newAccessEnv(t, Config{UI: testUI})
	for _, p := range []string{"/", "/assets/app-ABCD2345.js", "/incident"} {
		req, _ := http.NewRequest("GET", a.ts.URL+p, nil)
		req.Header.Set("Accept", "text/html")
		if got := doRequest(t, req); got.status != 200 {
			t.Errorf("GET %s without a key: %d %s, want 200", p, got.status, got.body)
		}
	}
	got := a.call("GET", "/api/_security/_authenticate", "", "", "none")
	got.wantError(t, http.StatusUnauthorized, typeUnauthenticated)
	var who struct {
		Authenticated bool     `json:"authenticated"`
		Name          string   `json:"name"`
		Role          string   `json:"role"`
		Spaces        []string `json:"spaces"`
	}
	a.call("GET", "/api/_security/_authenticate", "", "", "auditor@"+scopeA).decode(t, &who)
	if !who.Authenticated || who.Name != "auditor@"+scopeA || who.Role != "auditor" || len(who.Spaces) != 1 || who.Spaces[0] != scopeA {
		t.Errorf("_authenticate as auditor@%s: %+v", scopeA, who)
	}
	var keyless map[string]any
	newEnv(t, Config{}).do("GET", "/api/_security/_authenticate", "", "").decode(t, &keyless)
	if len(keyless) != 1 || keyless["authenticated"] != false {
		t.Errorf("_authenticate without keys: %v, want only authenticated false", keyless)
	}
}
