package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/eventlogdb/eventlog/objstore"
	"github.com/eventlogdb/eventlog/tiering"
)

// TestSegmentGoneIsRetryable: a query node's read that met a segment gone
// from the bucket (tiering.ErrSegmentGone, wrapped as the engine wraps a
// query's error) is answered 503 unavailable with Retry-After, saying the
// node is reloading; another not-found error is not.
func TestSegmentGoneIsRetryable(t *testing.T) {
	s := &Server{log: slog.New(slog.DiscardHandler)}
	gone := fmt.Errorf("eventlog: query: %w", fmt.Errorf("%w: segments/x.seg: %w", tiering.ErrSegmentGone, objstore.ErrNotFound))
	rec := httptest.NewRecorder()
	s.writeError(&recorder{ResponseWriter: rec}, httptest.NewRequest(http.MethodGet, "/api/events", nil), gone)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" ||
		!strings.Contains(rec.Body.String(), `"unavailable"`) || !strings.Contains(rec.Body.String(), "retry") {
		t.Fatalf("answer %d, Retry-After %q, body %s; want 503 unavailable with Retry-After 1 saying to retry",
			rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	rec = httptest.NewRecorder()
	s.writeError(&recorder{ResponseWriter: rec}, httptest.NewRequest(http.MethodGet, "/api/events", nil), fmt.Errorf("x: %w", objstore.ErrNotFound))
	if rec.Code == http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "" {
		t.Fatalf("a plain not-found answered %d with Retry-After %q; only a node's gone segment is retryable", rec.Code, rec.Header().Get("Retry-After"))
	}
}
