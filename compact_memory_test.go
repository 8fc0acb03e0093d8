package eventlog

import (
	"errors"
	"slices"
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

// TestBackgroundMergeDefersWithoutRoom: with the memory budget taken, the
// background compactor's merge does not wait: it returns errMergeDeferred
// at once, charging nothing and changing no segment; with room it merges.
func TestBackgroundMergeDefersWithoutRoom(t *testing.T) {
	keepGoLimit(t)
	const limit = 256 << 20
	db, appended := overlappingStoreWith(t, Options{MemoryLimit: limit})
	before := segmentNames(db)
	other := db.Memory().Account("other")
	other.Charge(limit)
	_, err := db.compact(ctx, true)
	if !errors.Is(err, errMergeDeferred) {
		t.Fatalf("background compaction with the budget taken: %v, want errMergeDeferred", err)
	}
	if after, c := segmentNames(db), db.Memory().Account(AccountCompaction).Used(); !slices.Equal(after, before) || c != 0 {
		t.Fatalf("a deferred merge left segments %v (were %v) and charged %d", after, before, c)
	}
	other.Release(limit)
	res, err := db.compact(ctx, true)
	if err != nil || res.Merges != 1 || len(db.Segments()) >= len(before) {
		t.Fatalf("background compaction with room: %+v, %v, %d segments of %d", res, err, len(db.Segments()), len(before))
	}
	if c := db.Memory().Account(AccountCompaction).Used(); c != 0 {
		t.Fatalf("a finished merge left %d bytes charged", c)
	}
	wantKept(t, db, appended)
}

// TestBackgroundMergeGivesWay: a background merge that finds someone
// waiting for memory (here a request asking for more than is left) stops
// after at most giveWayRows rows: the segments stay as they were, no file
// of the abandoned output remains, its working set is given back and the
// waiter then gets its memory; an on-demand Compact still merges.
func TestBackgroundMergeGivesWay(t *testing.T) {
	keepGoLimit(t)
	const limit = 256 << 20
	db, appended := overlappingStoreWith(t, Options{MemoryLimit: limit})
	before, files := segmentNames(db), segmentFiles(t, db)
	need := mergeMemory(db.state.Load().segments)
	other := db.Memory().Account("other")
	other.Charge(limit - db.Memory().Used() - need - 1<<20) // room for the merge and 1 MiB
	waited := make(chan error, 1)
	want := need + 2<<20 // more than is left
	go func() { waited <- db.Memory().Account("waiter").Acquire(ctx, want, time.Minute) }()
	for db.Memory().Waiting() != 1 {
		time.Sleep(time.Millisecond)
	}
	_, err := db.compact(ctx, true)
	if !errors.Is(err, errMergeDeferred) {
		t.Fatalf("background merge with a waiter: %v, want errMergeDeferred", err)
	}
	if after := segmentNames(db); !slices.Equal(after, before) {
		t.Fatalf("a merge that gave way left segments %v, were %v", after, before)
	}
	if after := segmentFiles(t, db); !slices.Equal(after, files) {
		t.Fatalf("a merge that gave way left files %v, were %v", after, files)
	}
	if c := db.Memory().Account(AccountCompaction).Used(); c != 0 {
		t.Fatalf("a merge that gave way left %d bytes charged", c)
	}
	other.Release(other.Used())
	if err := <-waited; err != nil {
		t.Fatalf("the waiter: %v", err)
	}
	db.Memory().Account("waiter").Release(want)
	res, err := db.Compact(ctx)
	if err != nil || len(db.Segments()) != 1 {
		t.Fatalf("Compact after: %+v, %v, %d segments", res, err, len(db.Segments()))
	}
	wantKept(t, db, appended)
}

// TestBackgroundMergeWaitsForQuietReads: while a read runs, and for
// mergeQuiet after the last one ended, the background compactor's merge
// is deferred, changing nothing; once reads have been quiet that long it
// merges.
func TestBackgroundMergeWaitsForQuietReads(t *testing.T) {
	db, appended := overlappingStoreWith(t, Options{})
	before := segmentNames(db)
	wantKept(t, db, appended) // a read: it just ended
	if _, err := db.compact(ctx, true); !errors.Is(err, errMergeDeferred) || !slices.Equal(segmentNames(db), before) {
		t.Fatalf("background compaction right after a read: %v, segments %v (were %v)", err, segmentNames(db), before)
	}
	db.lastRead.Store(time.Now().Add(-mergeQuiet).UnixNano())
	db.reads.Add(1) // a read running
	if _, err := db.compact(ctx, true); !errors.Is(err, errMergeDeferred) || !slices.Equal(segmentNames(db), before) {
		t.Fatalf("background compaction during a read: %v, segments %v (were %v)", err, segmentNames(db), before)
	}
	db.reads.Add(-1)
	res, err := db.compact(ctx, true)
	if err != nil || res.Merges != 1 || len(db.Segments()) >= len(before) {
		t.Fatalf("background compaction after quiet reads: %+v, %v, %d segments of %d", res, err, len(db.Segments()), len(before))
	}
	wantKept(t, db, appended)
}

// TestBackgroundMergeRunsUnderEndlessReads: reads that never pause defer
// background merges for mergeStarve at most; after that a merge runs
// beside them, without giving way to them.
func TestBackgroundMergeRunsUnderEndlessReads(t *testing.T) {
	db, appended := overlappingStoreWith(t, Options{})
	before := segmentNames(db)
	db.reads.Add(1) // a read running, and one after another
	if _, err := db.compact(ctx, true); !errors.Is(err, errMergeDeferred) || !slices.Equal(segmentNames(db), before) {
		t.Fatalf("background compaction during reads: %v, segments %v (were %v)", err, segmentNames(db), before)
	}
	db.readsStarve.Store(time.Now().Add(-mergeStarve).UnixNano()) // they have not paused since
	res, err := db.compact(ctx, true)
	if err != nil || res.Merges != 1 || len(db.Segments()) >= len(before) {
		t.Fatalf("background compaction after reads deferred it %v: %+v, %v, %d segments of %d", mergeStarve, res, err, len(db.Segments()), len(before))
	}
	db.reads.Add(-1)
	wantKept(t, db, appended)
}
