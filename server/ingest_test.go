package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
)

// created is the answer to a successful POST /api/events.
type created struct {
	Items []struct {
		ID  string `json:"_id"`
		Seq uint64 `json:"_seq"`
	} `json:"items"`
}

func TestIngestOneEventComesBackAsSent(t *testing.T) {
	e := newEnv(t, Config{})
	doc := `{"@timestamp":"2024-05-01T16:02:12+02:00","message":"action execution failed","tags":"sso",` +
		`"event":{"action":"execute","duration":"224000000","outcome":"failure","provider":"actions"},` +
		`"kibana":{"saved_objects":[{"rel":"primary","id":"slack-ops","type":"action"}]}}`
	r := e.do("POST", "/api/events", ctJSON, doc)
	var c created
	r.decode(t, &c)
	if r.status != http.StatusCreated || len(c.Items) != 1 || c.Items[0].Seq != 1 || c.Items[0].ID != "0000000000000001" {
		t.Fatalf("got %d %s", r.status, r.body)
	}
	e.wantCount(1)

	var page struct{ Data []json.RawMessage }
	e.do("GET", "/api/events/_search", "", "").decode(t, &page)
	want := `{"_id":"0000000000000001","_seq":1,` + doc[1:]
	if len(page.Data) != 1 || string(page.Data[0]) != want {
		t.Fatalf("search returned %s\nwant %s", page.Data, want)
	}
}

func TestIngestArray(t *testing.T) {
	e := newEnv(t, Config{})
	docs := []string{
		ev{ts: tsAt(1), provider: "alerting", action: "execute", outcome: "success", refType: "alert", refID: "a"}.json(),
		ev{ts: tsAt(2), provider: "alerting", action: "execute-action", outcome: "success"}.json(),
		ev{ts: tsAt(3), provider: "actions", action: "execute", outcome: "failure"}.json(),
	}
	r := e.do("POST", "/api/events", "application/json; charset=utf-8", " [\n"+strings.Join(docs, " ,\n")+"\n] ")
	var c created
	r.decode(t, &c)
	if r.status != http.StatusCreated || len(c.Items) != 3 {
		t.Fatalf("got %d %s", r.status, r.body)
	}
	for i, it := range c.Items {
		if it.Seq != uint64(i+1) || it.ID != eventlog.IDOf(it.Seq) {
			t.Errorf("item %d: %+v", i, it)
		}
	}
	e.wantCount(3)
	if r := e.do("POST", "/api/events", ctJSON, "[]"); r.status != http.StatusCreated || string(r.body) != `{"items":[]}` {
		t.Fatalf("empty array: %d %s", r.status, r.body)
	}
}

// TestIngestArrayAllOrNothing: one bad event stores nothing, and the
// answer names every bad one by index.
func TestIngestArrayAllOrNothing(t *testing.T) {
	e := newEnv(t, Config{MaxEventBytes: 1000})
	good := ev{ts: tsAt(1), provider: "alerting", action: "execute", outcome: "success"}.json()
	body := "[" + strings.Join([]string{
		good,
		`{"event":{"provider":"alerting","action":"execute"},"kibana":{"saved_objets":[]}}`,
		`{"event":{"provider":"nobody","action":"execute"}}`,
		good,
		`{"event":{"provider":"alerting" "action":"execute"}}`,
		`{"message":"` + strings.Repeat("x", 1000) + `"}`,
		`42`,
	}, ",") + "]"
	r := e.do("POST", "/api/events", ctJSON, body)
	got := r.wantError(t, http.StatusBadRequest, typeInvalidEvent)
	want := []struct {
		index  int
		typ    string
		reason string
	}{
		{1, typeInvalidEvent, "kibana.saved_objets: unknown field"},
		{2, typeUnregistered, `provider "nobody" is not registered (registered providers: actions, alerting)`},
		{4, typeInvalidEvent, "at 32: expected ',' or '}' after object member"},
		{5, typeTooLarge, "over the limit of 1000 bytes"},
		{6, typeInvalidEvent, "at 0: expected a JSON object"},
	}
	if len(got.Items) != len(want) {
		t.Fatalf("items %+v, want %d", got.Items, len(want))
	}
	for i, w := range want {
		it := got.Items[i]
		if it.Index != w.index || it.Error.Type != w.typ || !strings.Contains(it.Error.Reason, w.reason) {
			t.Errorf("item %d: %+v, want index %d, %s, %q", i, it, w.index, w.typ, w.reason)
		}
	}
	e.wantCount(0)
}

func TestIngestRejects(t *testing.T) {
	e := newEnv(t, Config{MaxEventBytes: 2000, MaxBulkBytes: 8000})
	good := ev{ts: tsAt(1), provider: "alerting", action: "execute", outcome: "success"}.json()
	big := `{"message":"` + strings.Repeat("x", 2000) + `"}`
	many := "[" + strings.TrimSuffix(strings.Repeat(good+",", 8000/len(good)+1), ",") + "]"
	cases := map[string]struct {
		contentType, body string
		status            int
		typ               string
	}{
		"text/plain":           {"text/plain", good, http.StatusUnsupportedMediaType, typeUnsupportedMedia},
		"no content type":      {"", good, http.StatusUnsupportedMediaType, typeUnsupportedMedia},
		"ndjson":               {ctNDJSON, good, http.StatusUnsupportedMediaType, typeUnsupportedMedia},
		"empty":                {ctJSON, "  \n", http.StatusBadRequest, typeInvalidRequest},
		"array not closed":     {ctJSON, "[" + good + "," + good, http.StatusBadRequest, typeInvalidRequest},
		"garbage after array":  {ctJSON, "[" + good + "] x", http.StatusBadRequest, typeInvalidRequest},
		"missing comma":        {ctJSON, "[" + good + good + "]", http.StatusBadRequest, typeInvalidRequest},
		"malformed object":     {ctJSON, `{"event":{"provider":`, http.StatusBadRequest, typeInvalidEvent},
		"unknown field":        {ctJSON, `{"evnt":{}}`, http.StatusBadRequest, typeInvalidEvent},
		"bad date":             {ctJSON, `{"@timestamp":"yesterday"}`, http.StatusBadRequest, typeInvalidEvent},
		"unregistered":         {ctJSON, `{"event":{"provider":"alerting","action":"fly"}}`, http.StatusBadRequest, typeUnregistered},
		"event over the limit": {ctJSON, big, http.StatusRequestEntityTooLarge, typeTooLarge},
		"body over the limit":  {ctJSON, many, http.StatusRequestEntityTooLarge, typeTooLarge},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			r := e.do("POST", "/api/events", c.contentType, c.body)
			got := r.wantError(t, c.status, c.typ)
			if c.typ == typeUnregistered && !strings.Contains(got.Error.Reason, "registered actions: execute, execute-action") {
				t.Errorf("reason %q does not name the registered actions", got.Error.Reason)
			}
			e.wantCount(0)
		})
	}
}

// TestIngestOverloaded: with every write slot taken by requests that are
// appending, an ingest request waits WriteQueueTimeout, then gets 429 with
// Retry-After and stores nothing.
func TestIngestOverloaded(t *testing.T) {
	e := newEnv(t, Config{MaxConcurrentWrites: 1, WriteQueueTimeout: 50 * time.Millisecond})
	good := ev{ts: tsAt(1), provider: "alerting", action: "execute", outcome: "success"}.json()
	e.srv.writeSlots <- struct{}{} // an append in progress holds the only slot
	for _, path := range []string{"/api/events", "/api/events/_bulk"} {
		start := time.Now()
		r := e.do("POST", path, ctJSON, good)
		r.wantError(t, http.StatusTooManyRequests, typeOverloaded)
		if r.header.Get("Retry-After") != "1" {
			t.Errorf("%s: Retry-After %q", path, r.header.Get("Retry-After"))
		}
		if d := time.Since(start); d < 50*time.Millisecond {
			t.Errorf("%s: answered after %v, before the queue timeout", path, d)
		}
	}
	e.wantCount(0)
	<-e.srv.writeSlots
	if r := e.do("POST", "/api/events", ctJSON, good); r.status != http.StatusCreated {
		t.Fatalf("after the slot freed: %d %s", r.status, r.body)
	}
	e.wantCount(1)
}

// TestIngestHeldSlots fills the slots from inside the package.
func TestIngestHeldSlots(t *testing.T) {
	e := newEnv(t, Config{MaxConcurrentWrites: 2, WriteQueueTimeout: 10 * time.Millisecond})
	e.srv.writeSlots <- struct{}{}
	e.srv.writeSlots <- struct{}{}
	good := ev{ts: tsAt(1), provider: "alerting", action: "execute", outcome: "success"}.json()
	e.do("POST", "/api/events", ctJSON, good).wantError(t, http.StatusTooManyRequests, typeOverloaded)
	<-e.srv.writeSlots
	if r := e.do("POST", "/api/events", ctJSON, good); r.status != http.StatusCreated {
		t.Fatalf("with a free slot: %d %s", r.status, r.body)
	}
	e.wantCount(1)
}

func TestIngestReadOnly(t *testing.T) {
	e := newEnv(t, Config{})
	e.bulk(ev{ts: tsAt(1), provider: "alerting", action: "execute", outcome: "success"}.json())
	ro, err := eventlog.Open(e.dir, eventlog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	srv := New(ro, Config{}, nil, nil)
	ts := newTestServer(t, srv)
	good := ev{ts: tsAt(2), provider: "alerting", action: "execute", outcome: "success"}.json()
	doReq(t, "POST", ts.URL+"/api/events", ctJSON, strings.NewReader(good), false).
		wantError(t, http.StatusForbidden, typeReadOnly)
	doReq(t, "POST", ts.URL+"/api/events/_bulk", ctNDJSON, strings.NewReader(good), false).
		wantError(t, http.StatusForbidden, typeReadOnly)
	doReq(t, "PUT", ts.URL+"/api/providers/x", ctJSON, strings.NewReader(`{"actions":["y"]}`), false).
		wantError(t, http.StatusForbidden, typeReadOnly)
	e.wantCount(1)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
