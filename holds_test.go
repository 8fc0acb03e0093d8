package eventlog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/query"
)

// day5Hold holds the app events of 2024-05-15, day -5 of retentionStore:
// expired under a 72 h retention.
var day5Hold = HoldRequest{Name: "inc-1", Filter: "event.provider:app",
	Start: "2024-05-15T00:00:00Z", End: "2024-05-15T23:59:59Z", Reason: "incident 1"}

// TestHoldKeepsExpiredSegment: a held event stays visible past its
// retention and its segment is not dropped; release lets retention take it.
func TestHoldKeepsExpiredSegment(t *testing.T) {
	db, _ := retentionStore(t, Options{RetentionMaxAge: 72 * time.Hour})
	if _, err := db.CreateHold(ctx, day5Hold); err != nil {
		t.Fatal(err)
	}
	if got, want := countApp(t, db), 50; got != want {
		t.Fatalf("%d visible, want %d (40 within retention, 10 held)", got, want)
	}
	plan, err := db.RetentionPlan()
	if err != nil || len(plan.Dropped) != 5 || len(plan.Held) != 1 || plan.Held[0].Events != 10 || plan.HeldBytes != plan.Held[0].Bytes {
		t.Fatalf("plan %+v, %v: want 5 drops and day -5 held", plan, err)
	}
	res, err := db.ApplyRetention(ctx)
	if err != nil || len(res.Dropped) != 5 || len(res.Held) != 1 {
		t.Fatalf("retention %+v, %v", res, err)
	}
	if got := db.Stats().Segments; got != 5 {
		t.Fatalf("%d segments, want 5 (4 live days and the held one)", got)
	}
	if got := countApp(t, db); got != 50 {
		t.Fatalf("%d visible after retention, want 50", got)
	}
	if hs := db.Stats().Holds; hs.Holds != 1 || hs.Segments != 1 || hs.Bytes != plan.HeldBytes {
		t.Fatalf("hold stats %+v, want 1 hold keeping 1 segment of %d bytes", hs, plan.HeldBytes)
	}
	// Only the window is held: day -6 is gone.
	r, err := db.Aggregate(ctx, query.Request{Filter: "event.provider:app", Start: "2024-05-14T00:00:00Z", End: "2024-05-14T23:59:59Z"})
	if err != nil || r.Total != 0 {
		t.Fatalf("day -6: %d visible (%v), want 0", r.Total, err)
	}
	if _, err := db.ReleaseHold(ctx, "inc-1"); err != nil {
		t.Fatal(err)
	}
	if got := countApp(t, db); got != 40 {
		t.Fatalf("%d visible after release, want 40", got)
	}
	res, err = db.ApplyRetention(ctx)
	if err != nil || len(res.Dropped) != 1 || len(res.Held) != 0 || db.Stats().Segments != 4 {
		t.Fatalf("after release: %+v, %v, %d segments", res, err, db.Stats().Segments)
	}
}

// TestHoldPinsLaterArrivals: a hold with an open end pins events that
// arrive after it was made, inside its window and matching its filter;
// the others expire as usual.
func TestHoldPinsLaterArrivals(t *testing.T) {
	db, now := retentionStore(t, Options{RetentionMaxAge: 72 * time.Hour})
	if _, err := db.CreateHold(ctx, HoldRequest{Name: "live", Filter: "event.action:breach", Start: "now-1h", Reason: "ongoing"}); err != nil {
		t.Fatal(err)
	}
	stamp := time.Unix(0, now.Load()).UTC().Add(time.Minute).Format(time.RFC3339)
	if _, err := db.Append(ctx, ev("app", "breach", stamp), ev("app", "noise", stamp)); err != nil {
		t.Fatal(err)
	}
	if err := db.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	now.Add(int64(30 * 24 * time.Hour)) // everything is long expired
	if got := countApp(t, db); got != 1 {
		t.Fatalf("%d visible, want only the held breach", got)
	}
	res, err := db.ApplyRetention(ctx)
	if err != nil || len(res.Held) != 1 || len(res.Dropped) != 10 {
		t.Fatalf("retention %+v, %v: want the 10 days dropped and the later segment held", res, err)
	}
	recs, err := db.Query(ctx, query.Request{Filter: "event.provider:app", PerPage: 10})
	if err != nil || recs.Total != 1 || recs.Hits[0].Event.Event.Action != "breach" {
		t.Fatalf("after retention: %+v, %v", recs, err)
	}
	// Compaction applies retention per event: the held one survives it.
	if _, err := db.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if got := countApp(t, db); got != 1 {
		t.Fatalf("%d visible after compaction, want 1", got)
	}
}

// TestHoldSurvivesRestart: holds are durable when CreateHold returns and
// a release is too; a damaged HOLDS fails the open instead of silently
// releasing every hold.
func TestHoldSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	opts := Options{AllowUnregistered: true, MaintenanceInterval: -1}
	db := mustOpen(t, dir, opts)
	for _, name := range []string{"b", "a"} {
		req := day5Hold
		req.Name = name
		if _, err := db.CreateHold(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	db = mustOpen(t, dir, opts)
	got := db.Holds()
	if len(got) != 2 || got[0].Name != "a" || got[1].Name != "b" || got[0].Start != day5Hold.Start || got[0].Reason != "incident 1" || got[0].Created == "" {
		t.Fatalf("holds after reopen %+v", got)
	}
	if _, err := db.ReleaseHold(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = mustOpen(t, dir, opts)
	if got := db.Holds(); len(got) != 1 || got[0].Name != "b" {
		t.Fatalf("holds after release and reopen %+v", got)
	}
	db.Close()
	path := filepath.Join(dir, holdsFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[strings.Index(string(data), "incident")] = 'I'
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, opts); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), holdsFile) {
		t.Fatalf("open with a damaged HOLDS: %v, want ErrCorrupt naming it", err)
	}
}

// TestHoldBadRequests: each malformed hold is refused with an error naming
// the problem, and nothing is stored.
func TestHoldBadRequests(t *testing.T) {
	db := mustOpen(t, t.TempDir(), Options{AllowUnregistered: true, MaintenanceInterval: -1})
	if _, err := db.CreateHold(ctx, day5Hold); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		edit func(*HoldRequest)
		want string
	}{
		{func(r *HoldRequest) { r.Name = "" }, "name"},
		{func(r *HoldRequest) { r.Name = "a/b" }, "name"},
		{func(r *HoldRequest) { r.Filter = "" }, "filter is required"},
		{func(r *HoldRequest) { r.Filter = "event.action:(" }, "filter"},
		{func(r *HoldRequest) { r.Filter = "user.nmae:bob" }, "outside the schema"},
		{func(r *HoldRequest) { r.Reason = " " }, "reason is required"},
		{func(r *HoldRequest) { r.Start = "yesterday" }, "start"},
		{func(r *HoldRequest) { r.Start, r.End = r.End, r.Start }, "after end"},
	} {
		req := day5Hold
		req.Name = "other"
		c.edit(&req)
		if _, err := db.CreateHold(ctx, req); !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want ErrInvalidRequest mentioning %q", req, err, c.want)
		}
	}
	if _, err := db.CreateHold(ctx, day5Hold); !errors.Is(err, ErrHoldExists) {
		t.Errorf("a second hold named %s: %v, want ErrHoldExists", day5Hold.Name, err)
	}
	if _, err := db.ReleaseHold(ctx, "nope"); !errors.Is(err, ErrHoldNotFound) {
		t.Errorf("release of an unknown hold: %v, want ErrHoldNotFound", err)
	}
	if got := db.Holds(); len(got) != 1 || got[0].Name != day5Hold.Name {
		t.Fatalf("holds %+v, want only the first", got)
	}
}

// TestHoldBlocksMaxBytes: size retention skips a held segment and reports
// how far the held bytes leave the store above its bound.
func TestHoldBlocksMaxBytes(t *testing.T) {
	db, _ := retentionStore(t, Options{RetentionMaxBytes: 1})
	if _, err := db.CreateHold(ctx, HoldRequest{Name: "old", Filter: "event.provider:app", Start: "2024-05-11T00:00:00Z", End: "2024-05-11T23:59:59Z", Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	res, err := db.ApplyRetention(ctx)
	if err != nil {
		t.Fatal(err)
	}
	st := db.Stats()
	if len(res.Dropped) != 9 || st.Segments != 1 || countApp(t, db) != 10 {
		t.Fatalf("retention %+v: %d segments, want only the held day -9", res, st.Segments)
	}
	if st.Holds.OverMaxBytes <= 0 || st.Holds.OverMaxBytes > st.Holds.Bytes || st.Holds.Bytes != st.SegmentBytes {
		t.Fatalf("hold stats %+v (segment bytes %d): want the held bytes over the 1-byte bound", st.Holds, st.SegmentBytes)
	}
}

// TestHoldSurvivesCompaction: a merge leaves expired events out of what it
// writes, but not held ones.
func TestHoldSurvivesCompaction(t *testing.T) {
	db, _ := retentionStore(t, Options{RetentionMaxAge: 72 * time.Hour})
	// A second segment for day -5, so that compaction merges two.
	if _, err := db.Append(ctx, ev("app", "breach", "2024-05-15T13:00:00Z")); err != nil {
		t.Fatal(err)
	}
	if err := db.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateHold(ctx, HoldRequest{Name: "b", Filter: "event.action:breach", Start: "2024-05-15T00:00:00Z", End: "2024-05-15T23:59:59Z", Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	before := db.Stats().Segments
	if _, err := db.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if db.Stats().Segments >= before {
		t.Fatalf("%d segments after compaction, %d before: the test needs a merge", db.Stats().Segments, before)
	}
	if got := countApp(t, db); got != 41 {
		t.Fatalf("%d visible after compaction, want 40 live and the held breach", got)
	}
	if _, err := db.ReleaseHold(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if got := countApp(t, db); got != 40 {
		t.Fatalf("%d visible after release, want 40", got)
	}
}

// TestHoldBlocksDelete: a delete by query does not hide or purge what a
// hold pins, says how many it left, and applies once the hold is
// released (hidden at once, purged at the next compaction, the tombstone
// then forgotten); restarts keep both the hold and the pending delete.
func TestHoldBlocksDelete(t *testing.T) {
	dir := t.TempDir()
	db, _ := deleteStore(t, dir)
	appendUsers(t, db, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)
	if err := db.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	appendUsers(t, db, 10, 11, 12, 13, 14) // in the head
	// alice's logins of 11:05 to 11:12: 5 in the segment, 3 in the head.
	if _, err := db.CreateHold(ctx, HoldRequest{Name: "inc", Filter: "user.name:alice", Start: "2024-05-20T11:05:00Z", End: "2024-05-20T11:12:00Z", Reason: "r"}); err != nil {
		t.Fatal(err)
	}
	res, err := db.Delete(ctx, DeleteRequest{Filter: "user.name:alice or user.name:bob", End: "2024-05-20T11:13:00Z"})
	if err != nil || res.Deleted != 14+14-8 || res.Blocked != 8 {
		t.Fatalf("delete %+v, %v: want 20 hidden and 8 blocked", res, err)
	}
	if got := users(t, db); got["alice"] != 8+1 || got["bob"] != 1 {
		t.Fatalf("after delete: %v, want alice's 8 held and minute 14 of each", got)
	}
	rec, err := db.Query(ctx, query.Request{Filter: "event.provider:eventlog and event.action:delete-by-query"})
	if err != nil || rec.Total != 1 || rec.Hits[0].Event.Labels["blocked_by_holds"] != "8" || !strings.Contains(rec.Hits[0].Event.Message, "8 more are pinned") {
		t.Fatalf("delete record %+v, %v", rec, err)
	}
	// Compaction purges what the delete hides, keeps what the hold pins,
	// and the delete stays pending; the second run finds only held rows
	// and must neither rewrite nor mark the segments clean.
	for range 2 {
		if _, err := db.Compact(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := users(t, db); got["alice"] != 9 || got["bob"] != 1 {
		t.Fatalf("after compaction: %v", got)
	}
	msgs := rawMessages(t, db)
	if !slices.ContainsFunc(msgs, func(m string) bool { return strings.HasSuffix(m, "token-alice-7") }) ||
		slices.ContainsFunc(msgs, func(m string) bool {
			return strings.HasSuffix(m, "token-bob-7") || strings.HasSuffix(m, "token-alice-4")
		}) {
		t.Fatalf("segment rows after the purge: %q, want held alice-7 kept, bob-7 and alice-4 gone", msgs)
	}
	if st := db.Stats().Maintenance; st.PendingDeletes != 1 {
		t.Fatalf("stats %+v: the blocked delete must stay pending", st)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, _ = deleteStore(t, dir)
	if got := users(t, db); got["alice"] != 9 || got["bob"] != 1 || len(db.Holds()) != 1 {
		t.Fatalf("after reopen: %v, %d holds", got, len(db.Holds()))
	}
	if _, err := db.ReleaseHold(ctx, "inc"); err != nil {
		t.Fatal(err)
	}
	if got := users(t, db); got["alice"] != 1 || got["bob"] != 1 {
		t.Fatalf("after release: %v, want the delete applied", got)
	}
	if _, err := db.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if st := db.Stats().Maintenance; st.PendingDeletes != 0 || st.PendingPurgeSegments != 0 {
		t.Fatalf("stats after release and purge: %+v", st)
	}
	for m := range 14 {
		token := fmt.Sprintf("token-alice-%d", m)
		// Messages end with the token (alice-1 is a prefix of the kept alice-14).
		if dirHolds(t, dir, []byte(token)) || slices.ContainsFunc(rawMessages(t, db), func(msg string) bool { return strings.HasSuffix(msg, token) }) {
			t.Fatalf("%s is still stored after release and purge", token)
		}
	}
	if dirHolds(t, dir, []byte("user.name:alice")) {
		t.Fatal("a filter naming alice is still stored after release and purge")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, _ = deleteStore(t, dir)
	if got := users(t, db); got["alice"] != 1 || got["bob"] != 1 {
		t.Fatalf("after purge and reopen: %v", got)
	}
}

// TestHoldDoesNotUndelete: a hold blocks only the deletes made after it;
// one made later does not bring back the rows of an earlier delete that
// are still on disk awaiting their purge.
func TestHoldDoesNotUndelete(t *testing.T) {
	db, _ := deleteStore(t, t.TempDir())
	appendUsers(t, db, 0, 1)
	if err := db.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	appendUsers(t, db, 2) // in the head
	if _, err := db.Delete(ctx, DeleteRequest{Filter: "user.name:alice"}); err != nil {
		t.Fatal(err)
	}
	h, err := db.CreateHold(ctx, HoldRequest{Name: "late", Filter: "user.name:*", Reason: "r"})
	if err != nil || h.After == 0 {
		t.Fatalf("hold %+v, %v: want its after_seq set", h, err)
	}
	if got := users(t, db); got["alice"] != 0 || got["bob"] != 3 {
		t.Fatalf("after a later hold: %v, want alice still deleted", got)
	}
	if _, err := db.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if st := db.Stats().Maintenance; st.PendingDeletes != 0 || slices.ContainsFunc(rawMessages(t, db), func(m string) bool { return strings.Contains(m, "token-alice") }) {
		t.Fatalf("the earlier delete is not purged: %+v", st)
	}
	// A delete after the hold is blocked by it.
	res, err := db.Delete(ctx, DeleteRequest{Filter: "user.name:bob"})
	if err != nil || res.Deleted != 0 || res.Blocked != 3 {
		t.Fatalf("delete after the hold: %+v, %v", res, err)
	}
}

// TestHoldWriteFailureStoresNothing: when HOLDS cannot be replaced, the
// create (or release) fails naming the file and the holds in force, in
// memory and after a reopen, are those before it.
func TestHoldWriteFailureStoresNothing(t *testing.T) {
	dir := t.TempDir()
	faulty := vfs.NewFaulty(vfs.OS{})
	opts := Options{AllowUnregistered: true, MaintenanceInterval: -1, FS: faulty}
	db := mustOpen(t, dir, opts)
	if _, err := db.CreateHold(ctx, day5Hold); err != nil {
		t.Fatal(err)
	}
	onHolds := func(p string) bool { return strings.Contains(filepath.Base(p), holdsFile) }
	faulty.FailIf(vfs.OpRename, syscall.EIO, onHolds)
	second := day5Hold
	second.Name = "inc-2"
	if _, err := db.CreateHold(ctx, second); err == nil || !strings.Contains(err.Error(), holdsFile) {
		t.Fatalf("create with HOLDS failing: %v, want an error naming it", err)
	}
	if _, err := db.ReleaseHold(ctx, day5Hold.Name); err == nil || !strings.Contains(err.Error(), holdsFile) {
		t.Fatalf("release with HOLDS failing: %v, want an error naming it", err)
	}
	if got := db.Holds(); len(got) != 1 || got[0].Name != day5Hold.Name {
		t.Fatalf("holds after the failures %+v, want only the first", got)
	}
	faulty.Heal(vfs.OpRename)
	db.Close()
	db = mustOpen(t, dir, opts)
	if got := db.Holds(); len(got) != 1 || got[0].Name != day5Hold.Name {
		t.Fatalf("holds after reopen %+v, want only the first", got)
	}
}
