package eventlog

import (
	"fmt"
	"math"
	"runtime/debug"
	"testing"
)

// appendDistinct appends n events, each with its own user name (a term of
// its own), in batches of batch.
func appendDistinct(t *testing.T, db *DB, n, batch int) {
	t.Helper()
	for start := 0; start < n; start += batch {
		events := make([]Event, min(batch, n-start))
		for i := range events {
			events[i] = ev("p", "a", "2024-05-01T10:00:00Z")
			events[i].User.Name = fmt.Sprintf("user-%d", start+i)
		}
		if _, err := db.Append(ctx, events...); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHeadsChargeTheirEstimate checks the heads' account against the heads
// themselves: with no roll, it holds the active head's estimate; once
// every head is sealed, nothing, and the budget holds only what the open
// segments charge.
func TestHeadsChargeTheirEstimate(t *testing.T) {
	db := mustOpen(t, t.TempDir(), Options{AllowUnregistered: true, MemoryLimit: 1 << 30, MaintenanceInterval: -1})
	appendDistinct(t, db, 3000, 250)
	st := db.Stats()
	if st.FrozenHeads != 0 || st.Segments != 0 {
		t.Fatalf("a head rolled under a 1 GiB limit: %+v", st)
	}
	want := db.state.Load().active.Stats().Memory
	if got := st.Memory.Consumers[AccountHeads]; got != want || got < st.HeadBytes {
		t.Fatalf("heads charged %d, the active head estimates %d (of which %d bytes of events)", got, want, st.HeadBytes)
	}
	if err := db.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	st = db.Stats()
	if st.Memory.Charged != st.Memory.Consumers[AccountSegments] || st.Memory.Consumers[AccountHeads] != 0 || st.Memory.Consumers[AccountSeal] != 0 {
		t.Fatalf("after sealing every head the budget holds %+v", st.Memory)
	}
}

// TestMemoryLimitRollsHeads checks that under a small limit heads roll by
// memory long before SegmentMaxBytes, and every event stays readable.
func TestMemoryLimitRollsHeads(t *testing.T) {
	const limit = 2 << 20 // the active head rolls at 256 KiB of estimate
	db := mustOpen(t, t.TempDir(), Options{AllowUnregistered: true, MemoryLimit: limit, MaintenanceInterval: -1})
	appendDistinct(t, db, 6000, 300)
	if err := db.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	st := db.Stats()
	if st.Segments < 2 {
		t.Fatalf("6000 events under a %d-byte limit made %d segments; heads should roll at %d bytes", limit, st.Segments, limit/headMemoryShare)
	}
	if st.SegmentEvents != 6000 || st.Memory.Limit != limit {
		t.Fatalf("stats %+v, want 6000 events in segments and the limit %d", st, limit)
	}
}

// TestMemoryLimitSetsTheGoLimitOnce checks that Open sets the runtime's
// soft limit when nobody has, and Close puts it back.
func TestMemoryLimitSetsTheGoLimitOnce(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	debug.SetMemoryLimit(math.MaxInt64)
	db, err := Open(t.TempDir(), Options{MemoryLimit: 300 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if got := db.Stats().Memory.GoLimit; got != 300<<20 {
		t.Fatalf("Go limit %d after Open with MemoryLimit 300 MiB", got)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("Close left the Go limit at %d", got)
	}
}
