package server

import (
	"strings"
	"testing"

	"github.com/eventlogdb/eventlog/tiering"
)

// TestHealthObjectStore: a catching-up uploader leaves the server ok, a
// failing one makes it degraded, a fenced one failed with the reason; a
// worse store state is never hidden.
func TestHealthObjectStore(t *testing.T) {
	cases := map[string]struct {
		base   health
		st     tiering.Status
		status string
		reason string
	}{
		"backlog without errors":    {health{Status: healthOK}, tiering.Status{BacklogSegments: 3, Unpublished: true}, healthOK, ""},
		"uploads failing":           {health{Status: healthOK}, tiering.Status{BacklogSegments: 1, LastError: "put: 503 SlowDown"}, healthDegraded, ""},
		"fenced":                    {health{Status: healthOK}, tiering.Status{Fenced: "manifest 7 was created by someone else"}, healthFailed, "manifest 7 was created by someone else"},
		"failing on a failed store": {health{Status: healthFailed, Reason: reasonPoisoned}, tiering.Status{LastError: "x"}, healthFailed, reasonPoisoned},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			h := withObjectStore(c.base, func() tiering.Status { return c.st })
			if h.Status != c.status || !strings.Contains(h.Reason, c.reason) || h.ObjectStore == nil || h.ObjectStore.BacklogSegments != c.st.BacklogSegments {
				t.Fatalf("health = %+v (object store %+v), want status %s, reason containing %q", h, h.ObjectStore, c.status, c.reason)
			}
		})
	}
	if h := withObjectStore(health{Status: healthOK}, nil); h.ObjectStore != nil || h.Status != healthOK {
		t.Fatalf("without an object store: %+v", h)
	}
}

// TestObjectStoreInPrivacyNoticeAndHealth: a tiered server's /healthz
// carries the uploader's state, and its privacy notice says how long the
// bucket keeps what the store erased.
func TestObjectStoreInPrivacyNoticeAndHealth(t *testing.T) {
	st := tiering.Status{Store: "s3://audit/prod at s3.example.com", DeleteGraceSeconds: 3600, BacklogSegments: 2}
	e := newEnv(t, Config{ObjectStore: func() tiering.Status { return st }})
	var n struct {
		Retention struct {
			Copies string `json:"copies"`
		} `json:"retention"`
	}
	e.do("GET", "/api/_privacy", "", "").decode(t, &n)
	for _, want := range []string{"s3://audit/prod", "delete grace (1h0m0s)", "noncurrent versions"} {
		if !strings.Contains(n.Retention.Copies, want) {
			t.Errorf("privacy notice copies = %q, want it to say %q", n.Retention.Copies, want)
		}
	}
	var h health
	e.do("GET", "/healthz", "", "").decode(t, &h)
	if h.ObjectStore == nil || h.ObjectStore.BacklogSegments != 2 || h.Status != healthOK {
		t.Errorf("/healthz = %+v", h)
	}
}
