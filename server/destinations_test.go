package server

import (
	"bufio"
	"bytes"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/destination"
)

// sink is a loopback receiver that checks signatures and counts events.
type sink struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	events int
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body bytes.Buffer
	body.ReadFrom(r.Body)
	ts := r.Header.Get(destination.HeaderTimestamp)
	if s.secret != "" && r.Header.Get(destination.HeaderSignature) != destination.Sign(s.secret, ts, body.Bytes()) {
		s.t.Errorf("bad signature %q", r.Header.Get(destination.HeaderSignature))
	}
	n := 0
	for sc := bufio.NewScanner(&body); sc.Scan(); {
		n++
	}
	s.mu.Lock()
	s.events += n
	s.mu.Unlock()
}

func (s *sink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.events
}

// newDestEnv serves a store with a destination manager holding one fixed
// destination, "audit", sending to rcv.
func newDestEnv(t *testing.T, rcv string) *env {
	t.Helper()
	e := newEnv(t, Config{})
	m, err := destination.Open(e.db, filepath.Join(e.dir, "destinations"),
		[]destination.Config{{Name: "audit", URL: rcv, Secret: "fixed-secret-value"}}, destination.Options{SecretsKey: testSecretsKey})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = New(e.db, Config{Destinations: m}, NewMetrics(), testLogger(t))
	e.ts.Close()
	e.ts = httptest.NewServer(e.srv.Handler())
	t.Cleanup(func() { m.Close() }) // before the DB closes: cleanups run last first
	return e
}

// destStatus is what the API shows of a destination.
type destStatus struct {
	Name      string  `json:"name"`
	URL       string  `json:"url"`
	Filter    string  `json:"filter"`
	Secret    *string `json:"secret"`
	HasSecret bool    `json:"has_secret"`
	Fixed     bool    `json:"fixed"`
	Cursor    uint64  `json:"cursor"`
	BatchSize int     `json:"batch_size"`
	MaxDelay  string  `json:"max_delay"`
	Parked    string  `json:"parked"`
	Delivered uint64  `json:"delivered_events"`
}

// TestDestinationsAPI: create, list, get, replace, resume and delete a
// destination; the config file's cannot be changed; a secret is never
// shown; mistakes are named.
func TestDestinationsAPI(t *testing.T) {
	rcv := &sink{t: t, secret: "s3cr3t-api"}
	ts := httptest.NewServer(rcv)
	defer ts.Close()
	e := newDestEnv(t, ts.URL)
	noSecret := func(r response) response {
		t.Helper()
		if bytes.Contains(r.body, []byte("s3cr3t")) || bytes.Contains(r.body, []byte("fixed-secret-value")) || bytes.Contains(r.body, []byte(`"secret"`)) {
			t.Fatalf("a secret in an answer: %s", r.body)
		}
		return r
	}

	r := noSecret(e.do("PUT", "/api/destinations/siem", ctJSON,
		`{"url":"`+ts.URL+`","secret":"s3cr3t-api","filter":"event.provider:alerting","batch_size":10,"max_delay":"20ms","start":"beginning"}`))
	var st destStatus
	r.decode(t, &st)
	if r.status != http.StatusOK || st.Name != "siem" || !st.HasSecret || st.Fixed || st.BatchSize != 10 || st.MaxDelay != "20ms" || st.Secret != nil {
		t.Fatalf("PUT: %d %s", r.status, r.body)
	}
	e.bulk(ev{ts: tsAt(1), provider: "alerting", action: "execute", outcome: "success"}.json(),
		ev{ts: tsAt(2), provider: "actions", action: "execute", outcome: "success"}.json(),
		ev{ts: tsAt(3), provider: "alerting", action: "execute", outcome: "failure"}.json())
	waitFor(t, "the deliveries", func() bool {
		var st destStatus
		e.do("GET", "/api/destinations/siem", "", "").decode(t, &st)
		return st.Cursor == 3 && st.Delivered == 2
	})
	var list struct{ Destinations []destStatus }
	noSecret(e.do("GET", "/api/destinations", "", "")).decode(t, &list)
	if len(list.Destinations) != 2 || list.Destinations[0].Name != "audit" || !list.Destinations[0].Fixed ||
		!list.Destinations[0].HasSecret || list.Destinations[1].Name != "siem" {
		t.Fatalf("list: %+v", list)
	}

	// Replace: the cursor stays.
	r = noSecret(e.do("PUT", "/api/destinations/siem", ctJSON, `{"name":"siem","url":"`+ts.URL+`"}`))
	st = destStatus{}
	r.decode(t, &st)
	if r.status != http.StatusOK || st.Cursor != 3 || st.HasSecret || st.Filter != "" {
		t.Fatalf("replace: %d %s", r.status, r.body)
	}
	if r := noSecret(e.do("POST", "/api/destinations/siem/_resume", "", "")); r.status != http.StatusOK {
		t.Fatalf("resume: %d %s", r.status, r.body)
	}

	for _, c := range []struct {
		method, path, body string
		status             int
		typ, reason        string
	}{
		{"PUT", "/api/destinations/audit", `{"url":"http://127.0.0.1:1"}`, 409, typeFixed, "config file"},
		{"DELETE", "/api/destinations/audit", "", 409, typeFixed, "config file"},
		{"GET", "/api/destinations/nope", "", 404, typeNotFound, "nope"},
		{"DELETE", "/api/destinations/nope", "", 404, typeNotFound, "nope"},
		{"POST", "/api/destinations/nope/_resume", "", 404, typeNotFound, "nope"},
		{"PUT", "/api/destinations/x", `{"name":"y","url":"http://a"}`, 400, typeInvalidRequest, `names destination "y"`},
		{"PUT", "/api/destinations/x", `{"url":"ftp://a"}`, 400, typeInvalidRequest, "url"},
		{"PUT", "/api/destinations/x", `{"url":"http://a","filter":"a:("}`, 400, typeInvalidRequest, "filter"},
		{"PUT", "/api/destinations/x", `{"url":"http://a","batchsize":3}`, 400, typeInvalidRequest, "batchsize"},
		{"PUT", "/api/destinations/x", `{"url":"http://a","max_delay":"soon"}`, 400, typeInvalidRequest, "soon"},
		{"PUT", "/api/destinations/x%20y", `{"url":"http://a"}`, 400, typeInvalidRequest, "name"},
	} {
		ct := ""
		if c.body != "" {
			ct = ctJSON
		}
		r := e.do(c.method, c.path, ct, c.body)
		if e := r.wantError(t, c.status, c.typ); !strings.Contains(e.Error.Reason, c.reason) {
			t.Errorf("%s %s: reason %q, want it to mention %q", c.method, c.path, e.Error.Reason, c.reason)
		}
	}
	if r := e.do("PUT", "/api/destinations/x", "text/plain", `{"url":"http://a"}`); r.status != http.StatusUnsupportedMediaType {
		t.Fatalf("text/plain: %d %s", r.status, r.body)
	}

	if r := e.do("DELETE", "/api/destinations/siem", "", ""); r.status != http.StatusOK || string(r.body) != `{"deleted":"siem"}` {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	e.do("GET", "/api/destinations/siem", "", "").wantError(t, 404, typeNotFound)
}

// TestDestinationMetrics: each destination's progress is on /metrics.
func TestDestinationMetrics(t *testing.T) {
	rcv := &sink{t: t, secret: "fixed-secret-value"}
	ts := httptest.NewServer(rcv)
	defer ts.Close()
	e := newDestEnv(t, ts.URL)
	e.bulk(ev{ts: tsAt(1), provider: "alerting", action: "execute", outcome: "success"}.json())
	waitFor(t, "the delivery", func() bool { return rcv.count() == 1 })
	time.Sleep(10 * time.Millisecond) // the cursor is saved after the receiver answers
	waitFor(t, "the cursor", func() bool { return scrapeSample(t, e, `eventlog_destination_cursor{name="audit"}`) == "1" })
	for sample, want := range map[string]string{
		`eventlog_destination_lag_events{name="audit"}`:             "0",
		`eventlog_destination_deliveries_total{name="audit"}`:       "1",
		`eventlog_destination_delivered_events_total{name="audit"}`: "1",
		`eventlog_destination_retries_total{name="audit"}`:          "0",
		`eventlog_destination_failures_total{name="audit"}`:         "0",
		`eventlog_destination_parked{name="audit"}`:                 "0",
		`eventlog_destination_lag_seconds{name="audit"}`:            "0",
	} {
		if got := scrapeSample(t, e, sample); got != want {
			t.Errorf("%s = %s, want %s", sample, got, want)
		}
	}
}

// TestDestinationsDisabled: without a manager the routes answer 404,
// saying why.
func TestDestinationsDisabled(t *testing.T) {
	e := newEnv(t, Config{})
	for _, c := range [][2]string{{"GET", "/api/destinations"}, {"GET", "/api/destinations/a"},
		{"DELETE", "/api/destinations/a"}, {"POST", "/api/destinations/a/_resume"}} {
		r := e.do(c[0], c[1], "", "")
		if e := r.wantError(t, 404, typeNotFound); !strings.Contains(e.Error.Reason, "not enabled") {
			t.Fatalf("%v: %s", c, r.body)
		}
	}
	if r := e.do("PUT", "/api/destinations/a", ctJSON, `{"url":"http://a"}`); r.status != 404 {
		t.Fatalf("PUT: %d %s", r.status, r.body)
	}
}

// testSecretsKey seals the destination secrets of the server's tests.
var testSecretsKey = []byte("0123456789abcdef0123456789abcdef")
