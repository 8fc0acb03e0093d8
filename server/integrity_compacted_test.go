package server

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/eventlogdb/eventlog/integrity"
)

// TestCompactedConflict: a proof refused because it needs hashes inside a
// packed range answers 409 with the engine's reason; other errors pass
// through unchanged.
func TestCompactedConflict(t *testing.T) {
	err := compactedConflict(fmt.Errorf("integrity: leaf 3: %w: leaves 0 to 255", integrity.ErrCompacted))
	var api *apiError
	if !errors.As(err, &api) || api.status != http.StatusConflict || !strings.Contains(api.reason, "leaves 0 to 255") {
		t.Fatalf("got %v", err)
	}
	other := errors.New("disk on fire")
	if compactedConflict(other) != other {
		t.Fatal("an unrelated error was rewritten")
	}
}
