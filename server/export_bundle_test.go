package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/integrity"
)

// TestExportBundle: _export?bundle=true answers a tar that verify-bundle's
// check accepts with the store's key, holding exactly the events the
// filter selects, for store-wide admin and auditor keys only (a head shows
// the tree's size, which a reader or a scoped key never learns); an event
// past the latest head is a clean 409, never a cut tar.
func TestExportBundle(t *testing.T) {
	a := newAccessEnv(t, Config{})
	for i := range 6 {
		var e eventlog.Event
		e.Timestamp = event.DateOf(time.Date(2026, 1, 2, 3, 4, i, 0, time.UTC))
		e.Event.Provider, e.Event.Action = "alerting", "execute"
		e.Message = fmt.Sprintf("step %d", i)
		if _, err := a.db.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	if r := a.call("POST", "/api/_integrity/head", "", "", "admin"); r.status != http.StatusOK {
		t.Fatalf("sign: %d %s", r.status, r.body)
	}
	l, _ := a.db.Integrity()
	path := "/api/events/_export?bundle=true&filter=" + url.QueryEscape(`message:"step 2" or message:"step 4"`)
	for _, cred := range []string{"admin", "auditor"} {
		r := a.call("GET", path, "", "", cred)
		if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/x-tar" {
			t.Fatalf("%s: %d %s", cred, r.status, r.body)
		}
		rep, err := integrity.VerifyBundle(bytes.NewReader(r.body), l.PublicKey())
		if err != nil || rep.Events != 2 || len(rep.Problems) != 0 || rep.Head.Size != 6 {
			t.Fatalf("%s: bundle report %+v, %v; want 2 events proven in the tree of 6", cred, rep, err)
		}
		for _, msg := range []string{`step 2`, `step 4`} {
			if !bytes.Contains(r.body, []byte(msg)) {
				t.Fatalf("%s: the bundle lacks %q", cred, msg)
			}
		}
		if bytes.Contains(r.body, []byte("step 3")) {
			t.Fatalf("%s: the bundle holds an event the filter does not select", cred)
		}
	}
	for _, cred := range []string{"reader", "writer", "reader@" + scopeA, "auditor@" + scopeA, "admin@" + scopeA} {
		if r := a.call("GET", path, "", "", cred); r.status != http.StatusForbidden && r.status != http.StatusUnauthorized {
			t.Fatalf("%s: %d %s; want a refusal", cred, r.status, r.body)
		} else if bytes.Contains(r.body, []byte("tree_size")) {
			t.Fatalf("%s: the refusal shows the tree's size: %s", cred, r.body)
		}
	}
	if r := a.call("GET", "/api/events/_export?bundle=maybe", "", "", "admin"); r.status != http.StatusBadRequest {
		t.Fatalf("bundle=maybe: %d %s", r.status, r.body)
	}
	var late eventlog.Event
	late.Event.Provider, late.Event.Action, late.Message = "alerting", "execute", "late"
	if _, err := a.db.Append(context.Background(), late); err != nil {
		t.Fatal(err)
	}
	if r := a.call("GET", "/api/events/_export?bundle=true", "", "", "admin"); r.status != http.StatusConflict {
		t.Fatalf("an event past the head: %d %s; want 409", r.status, r.body)
	}
}
