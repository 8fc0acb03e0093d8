package server

import (
	"net/http"
	"strings"
	"testing"
)

// withClientID puts "_id":id first in the JSON object doc.
func withClientID(doc, id string) string { return `{"_id":"` + id + `",` + doc[1:] }

// TestBulkClientIDs: a retried line is a 200 "noop" with the stored
// _seq; different content under a stored id is a 409 item error; lines
// without an id keep the engine id.
func TestBulkClientIDs(t *testing.T) {
	e := newEnv(t, Config{})
	a := ev{ts: tsAt(1), provider: "alerting", action: "execute", outcome: "success"}.json()
	b := ev{ts: tsAt(2), provider: "alerting", action: "execute", outcome: "failure"}.json()
	r := e.do("POST", "/api/events/_bulk", ctNDJSON, ndjson(withClientID(a, "x"), b))
	first := decodeBulk(t, r)
	if first.Errors || first.Items[0].ID != "x" || first.Items[0].Result != "created" || first.Items[1].ID != "0000000000000002" {
		t.Fatalf("first answer %s", r.body)
	}
	r = e.do("POST", "/api/events/_bulk", ctNDJSON, ndjson(withClientID(a, "x"), withClientID(b, "x")))
	again := decodeBulk(t, r)
	it, c := again.Items[0], again.Items[1]
	if !again.Errors || it.Status != 200 || it.Result != "noop" || it.Seq != 1 || it.ID != "x" {
		t.Fatalf("retry answer %s", r.body)
	}
	if c.Status != http.StatusConflict || c.Error == nil || c.Error.Type != "conflict" || !strings.Contains(c.Error.Reason, `"x"`) {
		t.Fatalf("conflict answer %s", r.body)
	}
	e.wantCount(2)
}

// TestIngestClientIDs: POST /api/events answers "created" then "noop",
// and 409 for different content under the same id.
func TestIngestClientIDs(t *testing.T) {
	e := newEnv(t, Config{})
	a := withClientID(ev{ts: tsAt(1), provider: "alerting", action: "execute"}.json(), "k-1")
	for _, want := range []string{`{"items":[{"_id":"k-1","_seq":1,"result":"created"}]}`, `{"items":[{"_id":"k-1","_seq":1,"result":"noop"}]}`} {
		r := e.do("POST", "/api/events", ctJSON, a)
		if got := strings.TrimSpace(string(r.body)); got != want {
			t.Fatalf("got %d %s, want %s", r.status, got, want)
		}
	}
	other := withClientID(ev{ts: tsAt(2), provider: "alerting", action: "execute"}.json(), "k-1")
	r := e.do("POST", "/api/events", ctJSON, other)
	got := r.wantError(t, http.StatusConflict, "conflict")
	if len(got.Items) != 1 || got.Items[0].Status != http.StatusConflict || !strings.Contains(got.Error.Reason, "_seq 1") {
		t.Fatalf("conflict answer %s", r.body)
	}
	e.wantCount(1)
}

type bulkResult struct {
	Errors bool `json:"errors"`
	Items  []struct {
		Status int    `json:"status"`
		ID     string `json:"_id"`
		Seq    uint64 `json:"_seq"`
		Result string `json:"result"`
		Error  *struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"error"`
	} `json:"items"`
}

func decodeBulk(t *testing.T, r response) bulkResult {
	t.Helper()
	var got bulkResult
	r.decode(t, &got)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	return got
}
