package server

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/eventlogdb/eventlog"
)

// bulkAnswer is the answer of _bulk.
type bulkAnswer struct {
	Took   *int64 `json:"took"`
	Errors bool   `json:"errors"`
	Items  []struct {
		Status int    `json:"status"`
		ID     string `json:"_id"`
		Seq    uint64 `json:"_seq"`
		Line   int    `json:"line"`
		Error  *struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"error"`
	} `json:"items"`
}

// TestBulkMixed: valid lines are stored, invalid ones reported with their
// physical line number, blank lines skipped but counted.
func TestBulkMixed(t *testing.T) {
	e := newEnv(t, Config{MaxEventBytes: 1000})
	good := func(i int) string {
		return ev{ts: tsAt(i), provider: "alerting", action: "execute", outcome: "success"}.json()
	}
	body := strings.Join([]string{
		good(1), // line 1
		"",      // 2
		`{"event":{"provider":"alerting","action":"execute"},"kibana":{"saved_objets":[]}}`, // 3
		"   \t", // 4
		`{"event":{"provider":"alerting","action":"sleep"}}`, // 5
		good(2) + "\r",                     // 6: CRLF line ending
		`{"event":{"provider":"alerting",`, // 7
		"\r",                               // 8
		`{"message":"` + strings.Repeat("x", 1000) + `"}`, // 9
		good(3), // 10, no final newline
	}, "\n")
	r := e.do("POST", "/api/events/_bulk", ctNDJSON, body)
	var got bulkAnswer
	r.decode(t, &got)
	if r.status != http.StatusOK || !got.Errors || got.Took == nil {
		t.Fatalf("got %d %s", r.status, r.body)
	}
	type item struct {
		status int
		line   int
		typ    string
		reason string
	}
	want := []item{
		{201, 1, "", ""},
		{400, 3, typeInvalidEvent, "kibana.saved_objets: unknown field"},
		{400, 5, typeUnregistered, `provider "alerting" has no action "sleep"`},
		{201, 6, "", ""},
		{400, 7, typeInvalidEvent, "at 32: expected '\"' to start an object key"},
		{413, 9, typeTooLarge, "over the limit of 1000 bytes"},
		{201, 10, "", ""},
	}
	if len(got.Items) != len(want) {
		t.Fatalf("%d items, want %d: %s", len(got.Items), len(want), r.body)
	}
	var seqs []uint64
	for i, w := range want {
		it := got.Items[i]
		if it.Status != w.status {
			t.Errorf("item %d: status %d, want %d", i, it.Status, w.status)
			continue
		}
		if w.status == 201 {
			if it.Error != nil || it.Line != 0 || it.ID != eventlog.IDOf(it.Seq) {
				t.Errorf("item %d: %+v", i, it)
			}
			seqs = append(seqs, it.Seq)
			continue
		}
		if it.Line != w.line || it.Error == nil || it.Error.Type != w.typ || !strings.Contains(it.Error.Reason, w.reason) {
			t.Errorf("item %d: line %d, error %+v; want line %d, %s, %q", i, it.Line, it.Error, w.line, w.typ, w.reason)
		}
	}
	if len(seqs) != 3 || seqs[0] >= seqs[1] || seqs[1] >= seqs[2] {
		t.Errorf("stored seqs %v", seqs)
	}
	e.wantCount(3)

	// The stored ones are lines 1, 6 and 10, in order.
	var page struct{ Data []hit }
	e.do("GET", "/api/events/_search", "", "").decode(t, &page)
	if len(page.Data) != 3 || page.Data[0].TS != tsAt(1) || page.Data[1].TS != tsAt(2) || page.Data[2].TS != tsAt(3) {
		t.Errorf("stored %+v", page.Data)
	}
}

func TestBulkAllValid(t *testing.T) {
	e := newEnv(t, Config{})
	var docs []string
	for i := range 50 {
		docs = append(docs, ev{ts: tsAt(i), provider: "actions", action: "execute", outcome: "success"}.json())
	}
	r := e.do("POST", "/api/events/_bulk", ctJSON, ndjson(docs...)) // application/json is accepted too
	var got bulkAnswer
	r.decode(t, &got)
	if r.status != http.StatusOK || got.Errors || len(got.Items) != 50 {
		t.Fatalf("got %d %s", r.status, r.body)
	}
	for i, it := range got.Items {
		if it.Status != 201 || it.Seq != uint64(i+1) || it.ID != eventlog.IDOf(it.Seq) {
			t.Fatalf("item %d: %+v", i, it)
		}
	}
	e.wantCount(50)

	r = e.do("POST", "/api/events/_bulk", ctNDJSON, "\n \n")
	if r.status != http.StatusOK || !strings.HasSuffix(string(r.body), `"errors":false,"items":[]}`) {
		t.Fatalf("blank body: %d %s", r.status, r.body)
	}
}

func TestBulkRejects(t *testing.T) {
	e := newEnv(t, Config{MaxBulkBytes: 4000})
	good := ev{ts: tsAt(1), provider: "alerting", action: "execute", outcome: "success"}.json()
	over := ndjson(strings.Split(strings.Repeat(good+"\n", 4000/len(good)+1), "\n")...)

	// Over the limit with a Content-Length: refused before reading.
	e.do("POST", "/api/events/_bulk", ctNDJSON, over).wantError(t, http.StatusRequestEntityTooLarge, typeTooLarge)
	// Without one (chunked): refused once the limit is crossed, nothing
	// stored although the first lines were valid.
	chunked := io.MultiReader(strings.NewReader(over)) // hides the length
	doReq(t, "POST", e.ts.URL+"/api/events/_bulk", ctNDJSON, chunked, false).
		wantError(t, http.StatusRequestEntityTooLarge, typeTooLarge)
	e.do("POST", "/api/events/_bulk", "text/plain", good).wantError(t, http.StatusUnsupportedMediaType, typeUnsupportedMedia)
	e.do("POST", "/api/events/_bulk", "", good).wantError(t, http.StatusUnsupportedMediaType, typeUnsupportedMedia)
	e.wantCount(0)
}

// TestBulkItemsFailed: ?items=failed answers exactly the refused items of
// the full answer (the same body sent to a twin server without it),
// stores the same events, and an unknown value is refused before anything
// is stored.
func TestBulkItemsFailed(t *testing.T) {
	var lines []string
	for i := range 40 {
		switch i % 7 {
		case 2:
			lines = append(lines, `{"event":{"provider":"alerting","action":"sleep"}}`)
		case 5:
			lines = append(lines, `{"event":{"provider":"alerting",`)
		case 6:
			lines = append(lines, "")
		default:
			lines = append(lines, ev{ts: tsAt(i), provider: "alerting", action: "execute", outcome: "success"}.json())
		}
	}
	body := strings.Join(lines, "\n")
	full, failed := newEnv(t, Config{}), newEnv(t, Config{})
	var all, only bulkAnswer
	full.do("POST", "/api/events/_bulk", ctNDJSON, body).decode(t, &all)
	r := failed.do("POST", "/api/events/_bulk?items=failed", ctNDJSON, body)
	r.decode(t, &only)
	if r.status != http.StatusOK || !only.Errors || only.Took == nil {
		t.Fatalf("got %d %s", r.status, r.body)
	}
	var want []string
	stored := 0
	for _, it := range all.Items {
		if it.Status/100 == 2 {
			stored++
			continue
		}
		want = append(want, fmt.Sprintf("%d line %d %+v", it.Status, it.Line, *it.Error))
	}
	var got []string
	for _, it := range only.Items {
		got = append(got, fmt.Sprintf("%d line %d %+v", it.Status, it.Line, *it.Error))
	}
	if len(want) == 0 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("items=failed answered\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	failed.wantCount(stored)

	// Every line stored: no item at all.
	good := ev{ts: tsAt(99), provider: "alerting", action: "execute", outcome: "success"}.json()
	r = failed.do("POST", "/api/events/_bulk?items=failed", ctNDJSON, good)
	if r.status != http.StatusOK || !strings.HasSuffix(string(r.body), `"errors":false,"items":[]}`) {
		t.Fatalf("all stored: %d %s", r.status, r.body)
	}
	failed.wantCount(stored + 1)

	r = failed.do("POST", "/api/events/_bulk?items=some", ctNDJSON, good)
	r.wantError(t, http.StatusBadRequest, typeInvalidRequest)
	if !strings.Contains(string(r.body), `items=\"some\": want all or failed`) {
		t.Errorf("bad items: %s", r.body)
	}
	failed.wantCount(stored + 1)
}
