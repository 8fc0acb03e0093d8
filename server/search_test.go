package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// searchAnswer is the answer of _search.
type searchAnswer struct {
	Total        int                        `json:"total"`
	Data         []json.RawMessage          `json:"data"`
	Next         *string                    `json:"next"`
	Aggregations map[string]json.RawMessage `json:"aggregations"`
}

func (a searchAnswer) hits(t *testing.T) []hit {
	t.Helper()
	out := make([]hit, len(a.Data))
	for i, d := range a.Data {
		if err := json.Unmarshal(d, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func duration(i int) int { return i*7919%1000 + 1 }

// searchAll follows the cursors of a search from its first page.
func (e *env) searchAll(path string, q url.Values) (raw []json.RawMessage, total int) {
	e.t.Helper()
	for pages := 0; ; pages++ {
		var a searchAnswer
		r := e.do("GET", path+"?"+q.Encode(), "", "")
		r.decode(e.t, &a)
		if r.status != http.StatusOK || pages > 1000 {
			e.t.Fatalf("%d %s", r.status, r.body)
		}
		raw, total = append(raw, a.Data...), a.Total
		if a.Next == nil {
			return raw, total
		}
		q.Set("search_after", *a.Next)
	}
}

func TestSearchCursor(t *testing.T) {
	e := findFixture(t)
	raw, total := e.searchAll("/api/events/_search", url.Values{
		"filter": {"event.action:execute"}, "sort": {"event.duration:desc,@timestamp"}, "size": {"7"}})
	want := fixtureWhere(func(i int) bool { return i%6 != 1 })
	slices.SortFunc(want, func(a, b int) int { return duration(b) - duration(a) })
	got := indexes(t, searchAnswer{Data: raw}.hits(t))
	if total != len(want) || !slices.Equal(got, want) {
		t.Fatalf("total %d, order %v\nwant %d, %v", total, got, len(want), want)
	}
}

func TestSearchPost(t *testing.T) {
	e := findFixture(t)
	var a searchAnswer
	r := e.do("POST", "/api/events/_search", ctJSON,
		`{"filter":"event.action:execute-action","sort":[{"sort_field":"@timestamp","sort_order":"desc"}],"per_page":3,"page":2}`)
	r.decode(t, &a)
	want := fixtureWhere(func(i int) bool { return i%6 == 1 })
	slices.Reverse(want)
	if r.status != http.StatusOK || a.Total != len(want) || !slices.Equal(indexes(t, a.hits(t)), want[3:6]) || a.Next == nil {
		t.Fatalf("got %d %s", r.status, r.body)
	}
	// Query parameters and body combine; the body wins.
	e.do("POST", "/api/events/_search?size=2&filter=nothing", ctJSON, `{"filter":"event.action:execute-action"}`).decode(t, &a)
	if a.Total != len(want) || len(a.Data) != 2 {
		t.Fatalf("params and body: total %d, %d hits", a.Total, len(a.Data))
	}
	// size=0: the total alone.
	r = e.do("GET", "/api/events/_search?size=0&filter=event.action:execute-action", "", "")
	if string(r.body) != fmt.Sprintf(`{"total":%d,"data":[],"next":null}`, len(want)) {
		t.Fatalf("size=0: %s", r.body)
	}
	// Kibana's sort_field/sort_order and page/per_page work here too.
	e.do("GET", "/api/events/_search?sort_field=event.duration&sort_order=asc&per_page=5&page=3", "", "").decode(t, &a)
	all := fixtureWhere(func(int) bool { return true })
	slices.SortFunc(all, func(a, b int) int { return duration(a) - duration(b) })
	if got := indexes(t, a.hits(t)); !slices.Equal(got, all[10:15]) {
		t.Fatalf("page 3 by duration: %v, want %v", got, all[10:15])
	}
	// Aggregations ride along when asked for.
	e.do("POST", "/api/events/_search", ctJSON, `{"per_page":1,"aggs":{"a":{"terms":{"field":"event.action"}}}}`).decode(t, &a)
	if len(a.Data) != 1 || a.Aggregations["a"] == nil {
		t.Fatalf("search with aggs: %+v", a)
	}
}

// spaceFixture adds events listing spaces in kibana.space_ids to the find
// fixture (whose refs are in the default space, or s1 for i%6 == 4).
func spaceFixture(t *testing.T) *env {
	e := findFixture(t)
	e.bulk(ev{ts: tsAt(100), provider: "actions", action: "execute", outcome: "success", spaceIDs: `["s1","s2"]`}.json(),
		ev{ts: tsAt(101), provider: "actions", action: "execute", outcome: "success", spaceIDs: `"s2"`}.json())
	return e
}

func TestSearchSpace(t *testing.T) {
	e := spaceFixture(t)
	cases := map[string][]int{
		"/s/s1":      append(fixtureWhere(func(i int) bool { return i%6 == 4 }), 100),
		"/s/s2":      {100, 101},
		"/s/default": fixtureWhere(func(i int) bool { return i%6 != 4 }),
		"":           append(fixtureWhere(func(int) bool { return true }), 100, 101),
	}
	for prefix, want := range cases {
		raw, total := e.searchAll(prefix+"/api/events/_search", url.Values{"size": {"50"}})
		if got := indexes(t, searchAnswer{Data: raw}.hits(t)); total != len(want) || !slices.Equal(got, want) {
			t.Errorf("%q: total %d, %v\nwant %v", prefix, total, got, want)
		}
	}
}

func TestAggregate(t *testing.T) {
	e := spaceFixture(t)
	r := e.do("POST", "/api/events/_aggregate", ctJSON,
		`{"filter":"event.provider:alerting","aggs":{"actions":{"terms":{"field":"event.action"}},"dur":{"stats":{"field":"event.duration"}}}}`)
	var a struct {
		Total        int `json:"total"`
		Aggregations struct {
			Actions struct {
				Buckets []struct {
					Key   string `json:"key"`
					Count int    `json:"count"`
				} `json:"buckets"`
			} `json:"actions"`
			Dur struct {
				Count    int `json:"count"`
				Min, Max int
			} `json:"dur"`
		} `json:"aggregations"`
	}
	r.decode(t, &a)
	minD, maxD := 1000, 0
	for i := range 90 {
		minD, maxD = min(minD, duration(i)), max(maxD, duration(i))
	}
	b := a.Aggregations.Actions.Buckets
	if r.status != http.StatusOK || a.Total != 90 || len(b) != 2 || b[0].Key != "execute" || b[0].Count != 75 ||
		b[1].Key != "execute-action" || b[1].Count != 15 ||
		a.Aggregations.Dur.Count != 90 || a.Aggregations.Dur.Min != minD || a.Aggregations.Dur.Max != maxD {
		t.Fatalf("got %d %s", r.status, r.body)
	}
	r = e.do("POST", "/s/s1/api/events/_aggregate", ctJSON, `{}`)
	if r.status != http.StatusOK || string(r.body) != `{"total":16,"aggregations":{}}` {
		t.Fatalf("space s1: %d %s", r.status, r.body)
	}
	r = e.do("POST", "/api/events/_aggregate?filter=event.action:execute-action", "", "")
	if string(r.body) != `{"total":15,"aggregations":{}}` {
		t.Fatalf("filter parameter: %d %s", r.status, r.body)
	}
	e.do("POST", "/api/events/_aggregate", ctJSON, `{"aggs":{"x":{"terms":{"field":"nope"}}}}`).
		wantError(t, http.StatusBadRequest, typeInvalidRequest)
}

// TestExport: the export streams exactly the events of the search, in the
// same order and the same bytes, across several flushes.
func TestExport(t *testing.T) {
	e := newEnv(t, Config{})
	var docs []string
	for i := range 2500 {
		docs = append(docs, ev{ts: tsAt(i), provider: "alerting", action: []string{"execute", "execute-action"}[i%2],
			outcome: "success", refType: "alert", refID: fmt.Sprint(i % 7), refSpace: []string{"", "s1"}[i%3/2],
			duration: int64(duration(i))}.json())
	}
	for chunk := range slices.Chunk(docs, 1000) {
		e.bulk(chunk...)
	}
	cases := []struct {
		name, method, path, contentType, body string
		search                                url.Values
		searchPath                            string
	}{
		{"all", "GET", "/api/events/_export", "", "", url.Values{}, "/api/events/_search"},
		{"sorted filtered", "GET", "/api/events/_export?sort=event.duration:desc&filter=event.action:execute", "", "",
			url.Values{"sort": {"event.duration:desc"}, "filter": {"event.action:execute"}}, "/api/events/_search"},
		{"POST body", "POST", "/api/events/_export", ctJSON, `{"filter":"event.action:execute-action","sort":[{"sort_field":"@timestamp","sort_order":"desc"}]}`,
			url.Values{"filter": {"event.action:execute-action"}, "sort": {"@timestamp:desc"}}, "/api/events/_search"},
		{"space", "GET", "/s/s1/api/events/_export", "", "", url.Values{}, "/s/s1/api/events/_search"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(c.method, c.path, c.contentType, c.body)
			if r.status != http.StatusOK || r.header.Get("Content-Type") != ctNDJSON {
				t.Fatalf("%d %s %.300s", r.status, r.header.Get("Content-Type"), r.body)
			}
			var lines [][]byte
			sc := bufio.NewScanner(bytes.NewReader(r.body))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				lines = append(lines, slices.Clone(sc.Bytes()))
			}
			c.search.Set("size", "1000")
			want, total := e.searchAll(c.searchPath, c.search)
			if len(lines) != total || len(want) != total || total < 300 {
				t.Fatalf("export %d lines, search %d of %d", len(lines), len(want), total)
			}
			for i := range want {
				if !bytes.Equal(lines[i], want[i]) {
					t.Fatalf("line %d: %s\nsearch: %s", i+1, lines[i], want[i])
				}
			}
		})
	}
	e.do("GET", "/api/events/_export?filter="+url.QueryEscape("event.action:"), "", "").
		wantError(t, http.StatusBadRequest, typeInvalidRequest)
	e.do("GET", "/api/events/_export?page=2", "", "").wantError(t, http.StatusBadRequest, typeInvalidRequest)
	got := e.do("POST", "/api/events/_export", ctJSON, `{"per_page":5}`).wantError(t, http.StatusBadRequest, typeInvalidRequest)
	if !strings.Contains(got.Error.Reason, "per_page") {
		t.Errorf("reason %q", got.Error.Reason)
	}
}

func TestSearchRejects(t *testing.T) {
	e := findFixture(t)
	cases := map[string]struct {
		method, path, contentType, body string
		reason                          string
	}{
		"bad filter":         {"GET", "/api/events/_search?filter=" + url.QueryEscape("event.outcome:failure and"), "", "", "at 26: expected an expression after 'and'"},
		"bad end":            {"GET", "/api/events/_search?end=tomorrow", "", "", "end"},
		"start after end":    {"GET", "/api/events/_search?start=2024-05-02T00:00:00Z&end=2024-05-01T00:00:00Z", "", "", "after"},
		"past the cap":       {"GET", "/api/events/_search?page=2&size=10000", "", "", "search_after"},
		"bad cursor":         {"GET", "/api/events/_search?search_after=xyz", "", "", "search_after"},
		"size and per_page":  {"GET", "/api/events/_search?size=1&per_page=1", "", "", "size"},
		"unsortable":         {"GET", "/api/events/_search?sort=labels", "", "", "cannot sort"},
		"empty sort key":     {"GET", "/api/events/_search?sort=,@timestamp", "", "", "empty field"},
		"unknown body field": {"POST", "/api/events/_search", ctJSON, `{"fliter":"x"}`, "fliter"},
		"trailing data":      {"POST", "/api/events/_search", ctJSON, `{} {}`, "after"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			got := e.do(c.method, c.path, c.contentType, c.body).wantError(t, http.StatusBadRequest, typeInvalidRequest)
			if !strings.Contains(got.Error.Reason, c.reason) {
				t.Errorf("reason %q does not mention %q", got.Error.Reason, c.reason)
			}
		})
	}
	e.do("POST", "/api/events/_search", "text/plain", `{}`).wantError(t, http.StatusUnsupportedMediaType, typeUnsupportedMedia)
}
