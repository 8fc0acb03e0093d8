package eventlog

import (
	"fmt"
	"testing"

	"github.com/eventlogdb/eventlog/query"
)

// TestDictionariesLoadOnlyForQueries checks who loads the segments'
// postings dictionaries: appending, sealing and deduplicating retries
// against sealed segments load none, and the budget holds nothing for
// them; a query loads each segment's once, charging postings_dicts
// exactly what the cache keeps, and the next query loads nothing; Close
// gives it all back.
func TestDictionariesLoadOnlyForQueries(t *testing.T) {
	db := mustOpen(t, t.TempDir(), Options{AllowUnregistered: true, MemoryLimit: 1 << 30, MaintenanceInterval: -1})
	batch := func(from int) []Event {
		events := make([]Event, 200)
		for i := range events {
			events[i] = withID(ev("p", "a", "2024-05-01T10:00:00Z"), fmt.Sprintf("id-%d", from+i))
			events[i].User.Name = fmt.Sprintf("user-%d", from+i)
		}
		return events
	}
	for _, from := range []int{0, 200, 400} {
		if _, err := db.Append(ctx, batch(from)...); err != nil {
			t.Fatal(err)
		}
		if err := db.Roll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.Append(ctx, batch(200)...) // a retry: every id is in a segment
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if got.Items[i].Result != Duplicate {
			t.Fatalf("retried item %d: %v, want a duplicate", i, got.Items[i])
		}
	}
	st := db.Stats()
	if st.Segments != 3 || db.dicts.Loads() != 0 || st.Memory.Consumers[AccountPostingsDicts] != 0 {
		t.Fatalf("after ingest, seals and dedup: %d segments, %d dictionaries loaded, %d bytes charged; want 3, 0, 0",
			st.Segments, db.dicts.Loads(), st.Memory.Consumers[AccountPostingsDicts])
	}
	for round := range 2 {
		res, err := db.Query(ctx, query.Request{Filter: "user.name:user-450", PerPage: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Hits) != 1 {
			t.Fatalf("query found %d events, want 1", len(res.Hits))
		}
		st = db.Stats()
		charged := st.Memory.Consumers[AccountPostingsDicts]
		if db.dicts.Loads() != 3 || charged != db.dicts.Held() || charged == 0 {
			t.Fatalf("after query %d: %d dictionaries loaded (want 3), %d bytes charged, %d kept", round, db.dicts.Loads(), charged, db.dicts.Held())
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if n := db.Memory().Account(AccountPostingsDicts).Used(); n != 0 {
		t.Fatalf("after Close postings_dicts holds %d bytes", n)
	}
}
