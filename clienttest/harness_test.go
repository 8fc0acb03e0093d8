package clienttest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"testing"

	"go.uber.org/goleak"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/server"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// store is an eventlog store served over a loopback listener, with its
// /es routes at esURL.
type store struct {
	t     *testing.T
	db    *eventlog.DB
	ts    *httptest.Server
	esURL string
}

// newStore opens a store in a temporary directory and serves it with cfg.
func newStore(t *testing.T, cfg server.Config) *store {
	t.Helper()
	db, err := eventlog.Open(t.TempDir(), eventlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(db, cfg, nil, nil)
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return &store{t: t, db: db, ts: ts, esURL: ts.URL + "/es"}
}

// search returns the events matching filter, read through the native
// search API page by page.
func (s *store) search(filter string) []json.RawMessage {
	s.t.Helper()
	var all []json.RawMessage
	q := url.Values{"filter": {filter}, "size": {"1000"}}
	for {
		resp, err := http.Get(s.ts.URL + "/api/events/_search?" + q.Encode())
		if err != nil {
			s.t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			s.t.Fatalf("search %s: %d %s", filter, resp.StatusCode, body)
		}
		var page struct {
			Data []json.RawMessage `json:"data"`
			Next *string           `json:"next"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			s.t.Fatalf("search answer: %v: %s", err, body)
		}
		all = append(all, page.Data...)
		if page.Next == nil {
			return all
		}
		q.Set("search_after", *page.Next)
	}
}

// messages returns how many times each message of the events matching
// filter is stored.
func (s *store) messages(filter string) map[string]int {
	s.t.Helper()
	got := map[string]int{}
	for _, raw := range s.search(filter) {
		var d struct{ Message string }
		if err := json.Unmarshal(raw, &d); err != nil {
			s.t.Fatal(err)
		}
		got[d.Message]++
	}
	return got
}

// wantEachOnce checks that the events matching filter are exactly the
// messages want, each stored once.
func (s *store) wantEachOnce(filter string, want []string) {
	s.t.Helper()
	got := s.messages(filter)
	total := 0
	for _, n := range got {
		total += n
	}
	for _, m := range want {
		if got[m] != 1 {
			s.t.Errorf("message %q stored %d times, want once", m, got[m])
		}
	}
	if total != len(want) {
		s.t.Errorf("%d events match %s, want %d", total, filter, len(want))
	}
}

// needProgram returns the path of an external program the test needs.
// Missing, it fails the test, naming the Debian package to install.
func needProgram(t *testing.T, name, pkg string, candidates ...string) string {
	t.Helper()
	for _, c := range append(candidates, name) {
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	// Never a skip: this module exists to run the real clients, and
	// .ci/run installs them.
	t.Fatalf("%s is missing: apt-get install %s (.ci/run does)", name, pkg)
	return ""
}
