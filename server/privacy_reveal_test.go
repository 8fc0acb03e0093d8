package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestRevealIsAudited: POST /api/_privacy/_reveal confirms the right
// candidate, refuses bad requests with a clear error, and records every
// call — with the pseudonym and the count of candidates, never a
// candidate — as an audit event only admins and auditors read.
func TestRevealIsAudited(t *testing.T) {
	a := newAccessEnv(t, Config{})
	pseudonym := accessPseudonymizer.Value("carol@example.com")
	reveal := func(body string) response {
		return a.call("POST", "/api/_privacy/_reveal", ctJSON, body, "admin")
	}
	var ans RevealAnswer
	r := reveal(fmt.Sprintf(`{"field":"user.email","pseudonym":%q,"candidates":["dave@example.com","carol@example.com"]}`, pseudonym))
	r.decode(t, &ans)
	if r.status != http.StatusOK || !ans.Matched || ans.Match != "carol@example.com" {
		t.Fatalf("reveal: %d %s", r.status, r.body)
	}
	r = reveal(fmt.Sprintf(`{"field":"user.email","pseudonym":%q,"candidates":["dave@example.com"]}`, pseudonym))
	ans = RevealAnswer{}
	r.decode(t, &ans)
	if r.status != http.StatusOK || ans.Matched || ans.Match != "" {
		t.Fatalf("reveal of a wrong guess: %d %s", r.status, r.body)
	}
	many := `"x"` + strings.Repeat(`,"x"`, 100)
	for body, want := range map[string]string{
		`{"field":"user.email","pseudonym":"alice","candidates":["a"]}`:                         "is not a pseudonym",
		fmt.Sprintf(`{"field":"no.such","pseudonym":%q,"candidates":["a"]}`, pseudonym):         "no field",
		fmt.Sprintf(`{"field":"user.email","pseudonym":%q,"candidates":[]}`, pseudonym):         "no candidate",
		fmt.Sprintf(`{"field":"user.email","pseudonym":%q,"candidates":[%s]}`, pseudonym, many): "at most 100",
		`{"field":"user.email","candidate":"a"}`:                                                "unknown field",
	} {
		if r := reveal(body); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), want) {
			t.Errorf("%s: %d %s, want 400 saying %q", body, r.status, r.body, want)
		}
	}
	if r := a.call("POST", "/api/_privacy/_reveal", ctJSON, `{}`, "reader"); r.status != http.StatusForbidden {
		t.Errorf("a reader's reveal: %d %s", r.status, r.body)
	}

	res := a.call("GET", "/api/events/_search?per_page=100&filter=event.action:pseudonym-reveal", "", "", "auditor")
	var page struct {
		Data []struct {
			Event   struct{ Outcome string }
			User    struct{ Name string }
			Labels  map[string]string
			Message string
		}
	}
	res.decode(t, &page)
	outcomes := map[string]int{}
	for _, ev := range page.Data {
		outcomes[ev.Event.Outcome+"/"+ev.Labels["matched"]]++
		if ev.User.Name != "admin" {
			t.Errorf("reveal event by %q, want admin", ev.User.Name)
		}
		if strings.Contains(ev.Message+fmt.Sprint(ev.Labels), "@example.com") {
			t.Errorf("an audit event holds a candidate: %+v", ev)
		}
	}
	// Two that worked (one match, one not), five refused; the reader's
	// 403 never reached the handler.
	if want := map[string]int{"success/true": 1, "success/false": 1, "failure/false": 4}; fmt.Sprint(outcomes) != fmt.Sprint(want) {
		t.Errorf("audit events by outcome/matched: %v, want %v", outcomes, want)
	}
	if r := a.call("GET", "/api/events/_search?filter=event.action:pseudonym-reveal", "", "", "reader"); strings.Contains(string(r.body), "pseudonym-reveal") {
		t.Errorf("a reader sees the reveal events: %s", r.body)
	}
}
