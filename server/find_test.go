package server

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// findFixture stores 90 events around alert A; kind(i) says which.
//
//	i%6 == 0: primary ref to alert A, action execute (default space)
//	i%6 == 1: primary ref to alert A, action execute-action
//	i%6 == 2: primary ref to alert B, action execute
//	i%6 == 3: ref to alert A without rel primary
//	i%6 == 4: primary ref to alert A in space s1
//	i%6 == 5: primary ref to action A (another type)
func findFixture(t *testing.T) *env {
	e := newEnv(t, Config{})
	var docs []string
	for i := range 90 {
		v := ev{ts: tsAt(i), provider: "alerting", action: "execute", outcome: "success",
			refType: "alert", refID: "A", duration: int64(i*7919%1000 + 1)}
		switch i % 6 {
		case 1:
			v.action = "execute-action"
		case 2:
			v.refID = "B"
		case 3:
			v.notPrimary = true
		case 4:
			v.refSpace = "s1"
		case 5:
			v.refType = "action"
		}
		docs = append(docs, v.json())
	}
	e.bulk(docs...)
	return e
}

// findAnswer is the Kibana _find answer.
type findAnswer struct {
	Page    int   `json:"page"`
	PerPage int   `json:"per_page"`
	Total   int   `json:"total"`
	Data    []hit `json:"data"`
}

// indexes returns the fixture indexes i (from the timestamps) of hits.
func indexes(t *testing.T, hits []hit) []int {
	t.Helper()
	var out []int
	for _, h := range hits {
		for i := range 1000 {
			if tsAt(i) == h.TS {
				out = append(out, i)
				break
			}
		}
	}
	if len(out) != len(hits) {
		t.Fatalf("unknown timestamps in %+v", hits)
	}
	return out
}

func fixtureWhere(pred func(i int) bool) []int {
	var out []int
	for i := range 90 {
		if pred(i) {
			out = append(out, i)
		}
	}
	return out
}

// TestFindKibanaClient pages through one saved object's events as a
// Kibana client does, and gets each exactly once, newest first.
func TestFindKibanaClient(t *testing.T) {
	e := findFixture(t)
	want := fixtureWhere(func(i int) bool { return i%6 == 0 })
	slices.Reverse(want)

	var got []int
	for page := 1; ; page++ {
		q := url.Values{"per_page": {"4"}, "page": {fmt.Sprint(page)}, "sort_order": {"desc"},
			"filter": {"event.action:(execute)"}}
		var a findAnswer
		r := e.do("GET", "/api/event_log/alert/A/_find?"+q.Encode(), "", "")
		r.decode(t, &a)
		if r.status != http.StatusOK || a.Page != page || a.PerPage != 4 || a.Total != len(want) {
			t.Fatalf("page %d: %d %s", page, r.status, r.body)
		}
		if len(a.Data) == 0 {
			break
		}
		got = append(got, indexes(t, a.Data)...)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

func TestFindDefaults(t *testing.T) {
	e := findFixture(t)
	var a findAnswer
	e.do("GET", "/api/event_log/alert/A/_find", "", "").decode(t, &a)
	all := fixtureWhere(func(i int) bool { return i%6 <= 1 })
	if a.Page != 1 || a.PerPage != 10 || a.Total != len(all) || !slices.Equal(indexes(t, a.Data), all[:10]) {
		t.Fatalf("got %+v, want page 1 of 10 of %v", a, all)
	}
	// per_page=0: the total alone.
	r := e.do("GET", "/api/event_log/alert/A/_find?per_page=0", "", "")
	if string(r.body) != fmt.Sprintf(`{"page":1,"per_page":0,"total":%d,"data":[]}`, len(all)) {
		t.Fatalf("per_page=0: %s", r.body)
	}
}

func TestFindSort(t *testing.T) {
	e := findFixture(t)
	durations := func(q string) []int {
		var a findAnswer
		e.do("GET", "/api/event_log/alert/A/_find?per_page=100&"+q, "", "").decode(t, &a)
		var out []int
		for _, i := range indexes(t, a.Data) {
			out = append(out, i*7919%1000+1)
		}
		return out
	}
	all := fixtureWhere(func(i int) bool { return i%6 <= 1 })
	var want []int
	for _, i := range all {
		want = append(want, i*7919%1000+1)
	}
	slices.Sort(want)
	slices.Reverse(want)
	sortJSON := url.QueryEscape(`[{"sort_field":"event.duration","sort_order":"desc"}]`)
	for _, q := range []string{"sort=" + sortJSON, "sort_field=event.duration&sort_order=desc"} {
		if got := durations(q); !slices.Equal(got, want) {
			t.Errorf("%s: durations %v\nwant %v", q, got, want)
		}
	}
}

func TestFindByIDs(t *testing.T) {
	e := findFixture(t)
	var a findAnswer
	r := e.do("POST", "/api/event_log/alert/_find?per_page=100", ctJSON, `{"ids":["A","B"]}`)
	r.decode(t, &a)
	want := fixtureWhere(func(i int) bool { return i%6 <= 2 })
	if r.status != http.StatusOK || a.Total != len(want) || !slices.Equal(indexes(t, a.Data), want) {
		t.Fatalf("got %d %s", r.status, r.body)
	}
	// The body may carry the parameters too.
	r = e.do("POST", "/api/event_log/alert/_find", ctJSON,
		`{"ids":["A","B"],"filter":"event.action:execute","per_page":5,"page":2,"sort_order":"desc"}`)
	r.decode(t, &a)
	want = fixtureWhere(func(i int) bool { return i%6 == 0 || i%6 == 2 })
	slices.Reverse(want)
	if a.Total != len(want) || a.Page != 2 || a.PerPage != 5 || !slices.Equal(indexes(t, a.Data), want[5:10]) {
		t.Fatalf("got %s", r.body)
	}
}

// TestFindKibanaRoutes: Kibana's current routes (/internal) answer as the
// older ones (/api), in a space too; a POST without ids and a start after
// the end answer an empty page, as Kibana does.
func TestFindKibanaRoutes(t *testing.T) {
	e := findFixture(t)
	for _, prefix := range []string{"", "/s/s1"} {
		var old, cur findAnswer
		e.do("GET", prefix+"/api/event_log/alert/A/_find?per_page=100", "", "").decode(t, &old)
		r := e.do("GET", prefix+"/internal/event_log/alert/A/_find?per_page=100", "", "")
		r.decode(t, &cur)
		if r.status != http.StatusOK || cur.Total == 0 || cur.Total != old.Total || !slices.Equal(indexes(t, cur.Data), indexes(t, old.Data)) {
			t.Fatalf("%s/internal GET: %d %s, /api found %d", prefix, r.status, r.body, old.Total)
		}
		e.do("POST", prefix+"/api/event_log/alert/_find?per_page=100", ctJSON, `{"ids":["A","B"]}`).decode(t, &old)
		e.do("POST", prefix+"/internal/event_log/alert/_find?per_page=100", ctJSON, `{"ids":["A","B"]}`).decode(t, &cur)
		if cur.Total == 0 || !slices.Equal(indexes(t, cur.Data), indexes(t, old.Data)) {
			t.Fatalf("%s/internal POST found %v, /api %v", prefix, indexes(t, cur.Data), indexes(t, old.Data))
		}
	}
	empty := map[string][3]string{
		"empty ids":        {"POST", "/internal/event_log/alert/_find", `{"ids":[]}`},
		"no body":          {"POST", "/internal/event_log/alert/_find", ``},
		"legacy ids empty": {"POST", "/api/event_log/alert/_find?per_page=7", `{"ids":[],"legacyIds":[]}`},
		"start after end":  {"GET", "/internal/event_log/alert/A/_find?start=2024-06-02T00:00:00Z&end=2024-06-01T00:00:00Z", ``},
		"start after end, POST": {"POST", "/api/event_log/alert/_find",
			`{"ids":["A"],"start":"2024-06-02T00:00:00Z","end":"2024-06-01T00:00:00Z"}`},
	}
	for name, c := range empty {
		ct := ""
		if c[0] == "POST" {
			ct = ctJSON
		}
		r := e.do(c[0], c[1], ct, c[2])
		var a findAnswer
		r.decode(t, &a)
		wantPer := 10
		if name == "legacy ids empty" {
			wantPer = 7
		}
		if r.status != http.StatusOK || a.Total != 0 || len(a.Data) != 0 || a.Page != 1 || a.PerPage != wantPer {
			t.Errorf("%s: %d %s, want an empty page", name, r.status, r.body)
		}
	}
}

// TestFindSpace: /s/{space} finds the refs in that space only.
func TestFindSpace(t *testing.T) {
	e := findFixture(t)
	var a findAnswer
	e.do("GET", "/s/s1/api/event_log/alert/A/_find?per_page=100", "", "").decode(t, &a)
	if want := fixtureWhere(func(i int) bool { return i%6 == 4 }); !slices.Equal(indexes(t, a.Data), want) {
		t.Fatalf("space s1: %v, want %v", indexes(t, a.Data), want)
	}
	e.do("POST", "/s/s1/api/event_log/alert/_find?per_page=100", ctJSON, `{"ids":["A","B"]}`).decode(t, &a)
	if want := fixtureWhere(func(i int) bool { return i%6 == 4 }); !slices.Equal(indexes(t, a.Data), want) {
		t.Fatalf("POST in space s1: %v, want %v", indexes(t, a.Data), want)
	}
	e.do("GET", "/s/default/api/event_log/alert/A/_find?per_page=100", "", "").decode(t, &a)
	if want := fixtureWhere(func(i int) bool { return i%6 <= 1 }); !slices.Equal(indexes(t, a.Data), want) {
		t.Fatalf("space default: %v, want %v", indexes(t, a.Data), want)
	}
}

func TestFindRejects(t *testing.T) {
	e := findFixture(t)
	cases := map[string]struct {
		method, path, contentType, body string
		status                          int
		typ, reason                     string
	}{
		"page 0":             {"GET", "/api/event_log/alert/A/_find?page=0", "", "", 400, typeInvalidRequest, "page"},
		"per_page word":      {"GET", "/api/event_log/alert/A/_find?per_page=ten", "", "", 400, typeInvalidRequest, "per_page"},
		"unknown param":      {"GET", "/api/event_log/alert/A/_find?perpage=5", "", "", 400, typeInvalidRequest, "perpage"},
		"twice":              {"GET", "/api/event_log/alert/A/_find?page=1&page=2", "", "", 400, typeInvalidRequest, "page"},
		"bad filter":         {"GET", "/api/event_log/alert/A/_find?filter=" + url.QueryEscape("event.action:(execute"), "", "", 400, typeInvalidRequest, "at 14: '(' is never closed"},
		"below a field":      {"GET", "/api/event_log/alert/A/_find?filter=event.action.x:y", "", "", 400, typeInvalidRequest, "event.action.x"},
		"bad start":          {"GET", "/api/event_log/alert/A/_find?start=yesterday", "", "", 400, typeInvalidRequest, "start"},
		"past the cap":       {"GET", "/api/event_log/alert/A/_find?page=1001&per_page=10", "", "", 400, typeInvalidRequest, "10000"},
		"bad order":          {"GET", "/api/event_log/alert/A/_find?sort_order=up", "", "", 400, typeInvalidRequest, "asc or desc"},
		"bad sort JSON":      {"GET", "/api/event_log/alert/A/_find?sort=" + url.QueryEscape(`[{"field":"x"}]`), "", "", 400, typeInvalidRequest, "sort"},
		"no ids, bad filter": {"POST", "/api/event_log/alert/_find", ctJSON, `{"ids":[],"filter":"event.action.x:y"}`, 400, typeInvalidRequest, "event.action.x"},
		"body not JSON":      {"POST", "/api/event_log/alert/_find", ctJSON, `{"ids":`, 400, typeInvalidRequest, "body"},
		"unknown member":     {"POST", "/api/event_log/alert/_find", ctJSON, `{"ids":["A"],"size":3}`, 400, typeInvalidRequest, "size"},
		"text body":          {"POST", "/api/event_log/alert/_find", "text/plain", `{"ids":["A"]}`, 415, typeUnsupportedMedia, "application/json"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got := e.do(c.method, c.path, c.contentType, c.body).wantError(t, c.status, c.typ)
			if !strings.Contains(got.Error.Reason, c.reason) {
				t.Errorf("reason %q does not mention %q", got.Error.Reason, c.reason)
			}
		})
	}
}
