package eventlog

import (
	"context"
	"errors"
	"testing"
)

// TestAppendInternal: the store's own records skip the registry, and
// nothing but them may go through AppendInternal.
func TestAppendInternal(t *testing.T) {
	db := mustOpen(t, t.TempDir(), Options{})
	var own Event
	own.Event.Provider, own.Event.Action = InternalProvider, "api-key-create"
	if _, err := db.AppendInternal(context.Background(), own); err != nil {
		t.Fatalf("an internal event: %v", err)
	}
	other := own
	other.Event.Provider = "alerting"
	if _, err := db.AppendInternal(context.Background(), own, other); !errors.Is(err, ErrInvalidEvent) {
		t.Fatalf("a user's event through AppendInternal: %v, want ErrInvalidEvent", err)
	}
	if _, err := db.Append(context.Background(), own); err == nil {
		t.Fatal("Append stored an unregistered internal event")
	}
	if n := db.Stats().LastSeq; n != 1 {
		t.Fatalf("%d events stored, want 1", n)
	}
}
