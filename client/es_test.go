package client_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/client"
)

// TestESBulkRetriesAndCountsFailures: ESBulk retries a 429 as Bulk does,
// stores each document once, and counts the items the server refused.
func TestESBulkRetriesAndCountsFailures(t *testing.T) {
	s := newServer(t, nil, func(w http.ResponseWriter, r *http.Request, n int) bool {
		if r.URL.Path != "/es/_bulk" || n > 0 {
			return false
		}
		w.Header().Set("Retry-After", "0")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		io.WriteString(w, `{"error":{"root_cause":[],"type":"es_rejected_execution_exception","reason":"busy"},"status":429}`)
		return true
	})
	c := s.client(t, &client.Options{MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	body := strings.Join([]string{
		`{"create":{"_index":"app"}}`, `{"event":{"provider":"alerting","action":"execute"}}`,
		`{"create":{"_index":"app"}}`, `{"event":{"provider":"alerting","action":"execute"}}`,
		`{"delete":{"_index":"app","_id":"x"}}`,
		`{"index":{"_index":"app"}}`, `{"@timestamp":"not a date"}`,
	}, "\n") + "\n"
	failed, first, err := c.ESBulk(context.Background(), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if failed != 2 || !strings.Contains(first, "item 2 (delete): 400 illegal_argument_exception") {
		t.Fatalf("failed %d, first %q; want the delete and the bad date", failed, first)
	}
	if reqs, _ := s.requests("/es/_bulk"); len(reqs) != 2 {
		t.Fatalf("%d requests, want 2 (one answered 429)", len(reqs))
	}
	if n := s.stored(t); n != 2 {
		t.Fatalf("store holds %d events, want 2", n)
	}
}
