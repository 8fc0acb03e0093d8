package server

import (
	"net/http"
	"strings"
	"testing"
)

// TestESIndexNames: an index name Elasticsearch would refuse fails its
// item (nothing stored for it, the others stored) or its index route,
// and a path segment starting with '_' is an API eventlog does not
// serve, not an index.
func TestESIndexNames(t *testing.T) {
	e := newEnv(t, Config{})
	doc := `{"@timestamp":"2026-01-02T03:04:05Z","message":"m"}`
	bad := []string{"Logs", "_hidden", "-x", "a b", "a/b", "a,b", "a#b", "a:b", ".", "..", strings.Repeat("x", 256)}
	var lines []string
	for _, name := range bad {
		lines = append(lines, `{"index":{"_index":"`+name+`"}}`, doc)
	}
	lines = append(lines, `{"index":{"_index":"logs-ok.2026"}}`, doc)
	a := e.esBulk("/es/_bulk", ndjson(lines...))
	if !a.Errors || len(a.Items) != len(bad)+1 {
		t.Fatalf("errors %v, %d items", a.Errors, len(a.Items))
	}
	for i, name := range bad {
		_, it := itemOf(t, a.Items[i])
		if it.Status != http.StatusBadRequest || it.Error == nil || it.Error.Type != esInvalidIndexName {
			t.Errorf("index %q: %+v, want a 400 %s", name, it, esInvalidIndexName)
		}
	}
	if _, it := itemOf(t, a.Items[len(bad)]); it.Status != http.StatusCreated {
		t.Errorf("a good index beside bad ones: %+v", it)
	}
	e.wantCount(1)

	if r := e.do("PUT", "/es/Logs", "", ""); r.status != http.StatusBadRequest {
		t.Errorf("PUT /es/Logs: %d %s", r.status, r.body)
	}
	for _, path := range []string{"/es/_search", "/es/_mapping"} {
		r := e.do("GET", path, "", "")
		r.wantESError(t, http.StatusNotFound, esType(typeNotFound))
	}
}
