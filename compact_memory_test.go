package eventlog

import (
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/query"
)

// exportedEvents returns every event of db by sequence number, checking
// that none comes twice.
func exportedEvents(t *testing.T, db *DB) map[uint64]Event {
	t.Helper()
	got := map[uint64]Event{}
	err := db.Export(ctx, query.Request{}, func(h query.Hit) error {
		if _, dup := got[h.Seq]; dup {
			t.Fatalf("seq %d exported twice", h.Seq)
		}
		got[h.Seq] = h.Event
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// wantKept checks that db holds exactly the appended events.
func wantKept(t *testing.T, db *DB, appended map[uint64]Event) {
	t.Helper()
	got := exportedEvents(t, db)
	if len(got) != len(appended) {
		t.Fatalf("%d events after compaction, %d appended", len(got), len(appended))
	}
	for seq, want := range appended {
		if g, ok := got[seq]; !ok || g.Message != want.Message || g.Timestamp.String() != want.Timestamp.String() {
			t.Fatalf("seq %d: %q at %v, appended %q at %v", seq, g.Message, g.Timestamp, want.Message, want.Timestamp)
		}
	}
}

// TestCompactionWaitsForMemory: with the memory budget taken, a compaction
// waits for room without starting its merge (the segments stay as they
// are and nothing is charged to compaction); once memory is given back it
// merges, keeps every event, and gives its working set back.
func TestCompactionWaitsForMemory(t *testing.T) {
	keepGoLimit(t)
	const limit = 256 << 20
	db, appended := overlappingStoreWith(t, Options{MemoryLimit: limit})
	segs := len(db.Segments())
	other := db.Memory().Account("other")
	other.Charge(limit)
	type result struct {
		res CompactResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := db.Compact(ctx)
		done <- result{res, err}
	}()
	for db.Memory().Waiting() != 1 {
		time.Sleep(time.Millisecond)
	}
	select {
	case r := <-done:
		t.Fatalf("Compact returned with the budget taken: %+v, %v", r.res, r.err)
	default:
	}
	if n, c := len(db.Segments()), db.Memory().Account(AccountCompaction).Used(); n != segs || c != 0 {
		t.Fatalf("a waiting compaction left %d segments of %d and charged %d", n, segs, c)
	}
	other.Release(limit)
	r := <-done
	if r.err != nil || r.res.Merges != 1 || len(db.Segments()) != 1 {
		t.Fatalf("Compact once memory freed: %+v, %v, %d segments", r.res, r.err, len(db.Segments()))
	}
	if c := db.Memory().Account(AccountCompaction).Used(); c != 0 {
		t.Fatalf("a finished compaction left %d bytes charged", c)
	}
	wantKept(t, db, appended)
}

// TestCompactionUnderATightLimit: under a limit smaller than a merge's
// working set, with the open segments holding part of it, compaction does
// not wait forever: it takes what can be waited for, charges the rest,
// merges everything into one segment, keeps every event, and gives all of
// it back.
func TestCompactionUnderATightLimit(t *testing.T) {
	keepGoLimit(t)
	db, appended := overlappingStoreWith(t, Options{MemoryLimit: 4 << 20})
	if need := mergeMemory(db.state.Load().segments); need <= 4<<20 {
		t.Fatalf("the merge needs %d bytes: the test wants it over the limit", need)
	}
	res, err := db.Compact(ctx)
	if err != nil || res.Merges != 1 || len(db.Segments()) != 1 {
		t.Fatalf("Compact under a tight limit: %+v, %v, %d segments", res, err, len(db.Segments()))
	}
	if c := db.Memory().Account(AccountCompaction).Used(); c != 0 {
		t.Fatalf("a finished compaction left %d bytes charged", c)
	}
	wantKept(t, db, appended)
}
