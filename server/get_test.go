package server

import (
	"net/http"
	"strings"
	"testing"
)

// TestGetEventByID: a client id is found first, then an engine id; a
// deleted event and an unknown id are 404.
func TestGetEventByID(t *testing.T) {
	e := newEnv(t, Config{EnableDelete: true})
	a := ev{ts: tsAt(1), provider: "alerting", action: "execute", outcome: "success"}.json()
	b := ev{ts: tsAt(2), provider: "alerting", action: "execute", outcome: "failure"}.json()
	// Event 2's client id is event 1's engine id: the client id wins.
	e.bulk(withClientID(a, "c-1"), withClientID(b, "0000000000000001"))
	for id, want := range map[string]string{
		"c-1":              `{"_id":"c-1","_seq":1,` + a[1:],
		"0000000000000001": `{"_id":"0000000000000001","_seq":2,` + b[1:],
		"0000000000000002": `{"_id":"0000000000000001","_seq":2,` + b[1:],
	} {
		r := e.do("GET", "/api/events/"+id, "", "")
		if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != want {
			t.Errorf("GET %s: %d %s, want %s", id, r.status, r.body, want)
		}
	}
	e.do("GET", "/api/events/nope", "", "").wantError(t, http.StatusNotFound, typeNotFound)
	// A route's name is not looked up as an id: GET of it stays a 405.
	if r := e.do("GET", "/api/events/_bulk", "", ""); r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "POST" {
		t.Fatalf("GET /api/events/_bulk: %d %v %s", r.status, r.header, r.body)
	}
	r := e.do("POST", "/api/events/_delete_by_query", ctJSON, `{"filter":"event.outcome:failure"}`)
	if r.status != http.StatusOK {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	e.do("GET", "/api/events/0000000000000002", "", "").wantError(t, http.StatusNotFound, typeNotFound)

	r = e.do("POST", "/api/events/_mget", ctJSON, `{"ids":["c-1","gone","0000000000000002"]}`)
	want := `{"docs":[{"found":true,"_id":"c-1","_seq":1,` + a[1:] + `,{"_id":"gone","found":false},{"_id":"0000000000000002","found":false}]}`
	if r.status != http.StatusOK || strings.TrimSpace(string(r.body)) != want {
		t.Fatalf("_mget: %d %s\nwant %s", r.status, r.body, want)
	}
}

// TestGetEventOutOfScope: a reader scoped to team-a gets, for an event of
// team-b, exactly the answer of a missing id.
func TestGetEventOutOfScope(t *testing.T) {
	a := newAccessEnv(t, Config{})
	in := withClientID(ev{ts: tsAt(1), provider: "alerting", action: "execute", spaceIDs: `["` + scopeA + `"]`}.json(), "in")
	out := withClientID(ev{ts: tsAt(2), provider: "alerting", action: "execute", spaceIDs: `["` + scopeB + `"]`}.json(), "out")
	if r := a.call("POST", "/api/events/_bulk", ctNDJSON, ndjson(in, out), "admin"); r.status != http.StatusOK {
		t.Fatalf("bulk: %d %s", r.status, r.body)
	}
	cred := "reader@" + scopeA
	if r := a.call("GET", "/api/events/in", "", "", cred); r.status != http.StatusOK {
		t.Fatalf("in scope: %d %s", r.status, r.body)
	}
	hidden := a.call("GET", "/api/events/out", "", "", cred)
	missing := a.call("GET", "/api/events/tuo", "", "", cred)
	if hidden.status != http.StatusNotFound || strings.ReplaceAll(string(hidden.body), "out", "tuo") != string(missing.body) {
		t.Fatalf("out of scope: %d %s; missing: %d %s", hidden.status, hidden.body, missing.status, missing.body)
	}
	r := a.call("POST", "/api/events/_mget", ctJSON, `{"ids":["out"]}`, cred)
	if strings.TrimSpace(string(r.body)) != `{"docs":[{"_id":"out","found":false}]}` {
		t.Fatalf("_mget out of scope: %s", r.body)
	}
}
