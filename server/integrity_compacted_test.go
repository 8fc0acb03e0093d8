package server

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/eventlogdb/eventlog/integrity"
)

// TestUnprovableConflict: a proof refused because it needs hashes inside
// a packed range, or leaves of a sealed tile that lost an event, answers
// 409 with the engine's reason; other errors pass through unchanged.
func TestUnprovableConflict(t *testing.T) {
	for _, err := range []error{
		fmt.Errorf("integrity: leaf 3: %w: leaves 0 to 255", integrity.ErrCompacted),
		fmt.Errorf("integrity: leaves 0 to 255: %w: the event of seq 7 is not stored", integrity.ErrSealedTile),
	} {
		var api *apiError
		if got := unprovableConflict(err); !errors.As(got, &api) || api.status != http.StatusConflict || !strings.Contains(api.reason, "leaves 0 to 255") {
			t.Fatalf("%v: got %v", err, got)
		}
	}
	other := errors.New("disk on fire")
	if unprovableConflict(other) != other {
		t.Fatal("an unrelated error was rewritten")
	}
}
