package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/eventlogdb/eventlog/internal/eventgen"
)

// keptDoc is a registered event with fields outside the schema at the top
// level and inside known objects; keptBack is how it comes back.
const (
	keptDoc  = `{"process":{"pid":4242,"args":["-v",1.50]},"@timestamp":"2024-05-01T10:00:00.000Z","host":{"architecture":"x86_64","name":"h1"},"event":{"provider":"alerting","action":"execute","module_v":null},"syslog":{"facility":"local0"}}`
	keptBack = `{"@timestamp":"2024-05-01T10:00:00.000Z","event":{"action":"execute","provider":"alerting","module_v":null},"host":{"name":"h1","architecture":"x86_64"},"process":{"pid":4242,"args":["-v",1.50]},"syslog":{"facility":"local0"}}`
)

// storedDocs returns the stored documents, oldest first, without the
// engine's _id and _seq.
func (e *env) storedDocs() []string {
	e.t.Helper()
	r := e.do("GET", "/api/events/_search?sort_order=asc", "", "")
	page, err := eventgen.Parse(r.body)
	if err != nil || r.status != http.StatusOK {
		e.t.Fatalf("search: %d %s (%v)", r.status, r.body, err)
	}
	var docs []string
	for _, d := range page.Get("data").Arr {
		kept := d.Obj[:0]
		for _, m := range d.Obj {
			if m.Key != "_id" && m.Key != "_seq" {
				kept = append(kept, m)
			}
		}
		d.Obj = kept
		docs = append(docs, d.Render())
	}
	return docs
}

// TestBulkKeepUnknown: with ?unknown_fields=keep, _bulk stores documents
// with fields outside the schema and returns them in place; a wrong-typed
// known field still fails only its line; without the parameter the server
// setting decides, and a bad value is refused.
func TestBulkKeepUnknown(t *testing.T) {
	e := newEnv(t, Config{})
	wrongType := `{"@timestamp":"2024-05-01T10:00:01.000Z","event":{"provider":"alerting","action":"execute","severity":"high"},"syslog":{"facility":"local0"}}`
	r := e.do("POST", "/api/events/_bulk?unknown_fields=keep", ctNDJSON, ndjson(keptDoc, wrongType))
	var got bulkAnswer
	r.decode(t, &got)
	if r.status != http.StatusOK || len(got.Items) != 2 || got.Items[0].Status != 201 ||
		got.Items[1].Status != 400 || got.Items[1].Line != 2 || !strings.Contains(got.Items[1].Error.Reason, "event.severity") {
		t.Fatalf("got %d %s", r.status, r.body)
	}
	if docs := e.storedDocs(); len(docs) != 1 || docs[0] != keptBack {
		t.Fatalf("stored %q, want %s", docs, keptBack)
	}

	r = e.do("POST", "/api/events/_bulk", ctNDJSON, ndjson(keptDoc))
	r.decode(t, &got)
	if len(got.Items) != 1 || got.Items[0].Status != 400 || !strings.Contains(got.Items[0].Error.Reason, "unknown field") {
		t.Fatalf("strict by default: %s", r.body)
	}
	e.do("POST", "/api/events/_bulk?unknown_fields=maybe", ctNDJSON, ndjson(keptDoc)).wantError(t, http.StatusBadRequest, typeInvalidRequest)
	e.wantCount(1)
}

// TestIngestKeepSetting: Config.KeepUnknownFields keeps by default on
// POST /api/events, and ?unknown_fields=reject refuses the whole batch.
func TestIngestKeepSetting(t *testing.T) {
	e := newEnv(t, Config{KeepUnknownFields: true})
	e.do("POST", "/api/events?unknown_fields=reject", ctJSON, keptDoc).wantError(t, http.StatusBadRequest, typeInvalidEvent)
	e.wantCount(0)
	if r := e.do("POST", "/api/events", ctJSON, keptDoc); r.status != http.StatusCreated {
		t.Fatalf("keep by setting: %d %s", r.status, r.body)
	}
	if docs := e.storedDocs(); len(docs) != 1 || docs[0] != keptBack {
		t.Fatalf("stored %q, want %s", docs, keptBack)
	}
}
