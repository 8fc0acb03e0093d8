package eventlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query"
	"github.com/eventlogdb/eventlog/query/filter"
	"github.com/eventlogdb/eventlog/segment"
)

var queryFilter = filter.Parse

// deleteStore opens a store on a controllable clock with events of users
// alice and bob, some sealed into segments and some in the head.
func deleteStore(t *testing.T, dir string) (*DB, *atomic.Int64) {
	t.Helper()
	var now atomic.Int64
	now.Store(time.Date(2024, 5, 20, 12, 0, 0, 0, time.UTC).UnixNano())
	db := mustOpen(t, dir, Options{AllowUnregistered: true, MaintenanceInterval: -1,
		Now: func() time.Time { return time.Unix(0, now.Load()).UTC() }})
	return db, &now
}

// userEvent is an event of user at minute m before noon on 2024-05-20.
func userEvent(user string, m int) Event {
	e := ev("app", "login", time.Date(2024, 5, 20, 11, 0, 0, 0, time.UTC).Add(time.Duration(m)*time.Minute).Format(time.RFC3339))
	e.User.Name = user
	e.Message = fmt.Sprintf("login by %s token-%s-%d", user, user, m)
	return e
}

func appendUsers(t *testing.T, db *DB, minutes ...int) {
	t.Helper()
	var batch []Event
	for _, m := range minutes {
		batch = append(batch, userEvent("alice", m), userEvent("bob", m))
	}
	if _, err := db.Append(ctx, batch...); err != nil {
		t.Fatal(err)
	}
}

// users returns how many events of each user every read path sees; the
// paths must agree.
func users(t *testing.T, db *DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, u := range []string{"alice", "bob"} {
		res, err := db.Query(ctx, query.Request{Filter: "user.name:" + u, PerPage: 1000})
		if err != nil {
			t.Fatal(err)
		}
		agg, err := db.Aggregate(ctx, query.Request{Filter: "event.provider:app and user.name:" + u})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Hits) != res.Total || agg.Total != res.Total {
			t.Fatalf("%s: query has %d hits of %d, aggregate %d", u, len(res.Hits), res.Total, agg.Total)
		}
		out[u] = res.Total
	}
	// Find and Count read through their own path; tails through a third.
	n, err := db.Count(ctx, FindRequest{Terms: []Term{{Field: "event.provider", Values: []string{"app"}}}})
	if err != nil {
		t.Fatal(err)
	}
	found := findAll(t, db, FindRequest{Terms: []Term{{Field: "event.provider", Values: []string{"app"}}}})
	tailed := tailAll(t, db, "event.provider:app")
	if n != out["alice"]+out["bob"] || len(found) != n || len(tailed) != n {
		t.Fatalf("Count %d, Find %d, Tail %d, Query %v", n, len(found), len(tailed), out)
	}
	for _, r := range append(found, tailed...) {
		if r.Event.User.Name == "" {
			t.Fatalf("event %d has no user", r.Seq)
		}
	}
	return out
}

// tailAll reads every stored event a tail with filter yields.
func tailAll(t *testing.T, db *DB, filter string) []Record {
	t.Helper()
	c, cancel := context.WithCancel(ctx)
	defer cancel()
	f, err := queryFilter(filter)
	if err != nil {
		t.Fatal(err)
	}
	// Unfiltered, so the walk reaches the last event and can stop there.
	seq, err := db.Tail(c, TailRequest{})
	if err != nil {
		t.Fatal(err)
	}
	top := db.Stats().LastSeq
	var out []Record
	if top == 0 {
		return nil
	}
	for r, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		if f.Match(&r.Event) {
			out = append(out, r)
		}
		if r.Seq >= top {
			break
		}
	}
	return out
}

// TestDeleteHidesAtOnceAndPurges: a delete hides every matching event
// from every read path at once, spares later events, survives a reopen,
// is recorded without its filter, and compaction then leaves no byte of
// the deleted events or the filter anywhere in the data directory.
func TestDeleteHidesAtOnceAndPurges(t *testing.T) {
	dir := t.TempDir()
	db, _ := deleteStore(t, dir)
	appendUsers(t, db, 0, 1, 2)
	if err := db.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	appendUsers(t, db, 3, 4) // in the head
	if got := users(t, db); got["alice"] != 5 || got["bob"] != 5 {
		t.Fatalf("before: %v", got)
	}
	if !dirHolds(t, dir, []byte("token-alice-3")) { // the head's events are in the WAL as they are
		t.Fatal("the WAL does not hold an appended event's message: the checks below would prove nothing")
	}
	res, err := db.Delete(ctx, DeleteRequest{Filter: `user.name:alice`})
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 5 || res.FilterSHA256 != filterHash("user.name:alice") {
		t.Fatalf("result %+v", res)
	}
	if got := users(t, db); got["alice"] != 0 || got["bob"] != 5 {
		t.Fatalf("after delete: %v", got)
	}
	appendUsers(t, db, 5) // later events survive the delete
	if got := users(t, db); got["alice"] != 1 || got["bob"] != 6 {
		t.Fatalf("after a later append: %v", got)
	}
	st := db.Stats().Maintenance
	if st.Deletes != 1 || st.DeletedEvents != 5 || st.PendingDeletes != 1 || st.PendingPurgeSegments != 1 {
		t.Fatalf("stats before the purge: %+v", st)
	}
	// The record: the hash and the count, never the filter.
	rec, err := db.Query(ctx, query.Request{Filter: "event.provider:eventlog and event.action:delete-by-query"})
	if err != nil || rec.Total != 1 {
		t.Fatalf("delete record: %+v, %v", rec, err)
	}
	if l := rec.Hits[0].Event.Labels; l["filter_sha256"] != res.FilterSHA256 || l["deleted"] != "5" || rec.Hits[0].Seq != res.Seq {
		t.Fatalf("delete record labels %v", l)
	}
	// Reopen without purging: the tombstone comes back from the manifest
	// or the WAL.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, _ = deleteStore(t, dir)
	if got := users(t, db); got["alice"] != 1 || got["bob"] != 6 {
		t.Fatalf("after reopen: %v", got)
	}
	cr, err := db.Compact(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cr.Purged == 0 {
		t.Fatalf("compaction purged nothing: %+v", cr)
	}
	if st := db.Stats().Maintenance; st.PendingDeletes != 0 || st.PendingPurgeSegments != 0 {
		t.Fatalf("stats after the purge: %+v", st)
	}
	if got := users(t, db); got["alice"] != 1 || got["bob"] != 6 {
		t.Fatalf("after the purge: %v", got)
	}
	// While the store is open, no file (segments, WAL, manifest) holds a
	// deleted event or the filter any more; the later alice event stays.
	// Segments are compressed, so their rows are read back raw as well.
	for m := range 5 {
		token := fmt.Sprintf("token-alice-%d", m)
		if dirHolds(t, dir, []byte(token)) || slices.ContainsFunc(rawMessages(t, db), func(msg string) bool { return strings.Contains(msg, token) }) {
			t.Fatalf("%s is still stored after the purge", token)
		}
	}
	if dirHolds(t, dir, []byte("user.name:alice")) {
		t.Fatal("the filter is still stored after the purge")
	}
	if msgs := rawMessages(t, db); !slices.ContainsFunc(msgs, func(msg string) bool { return strings.HasSuffix(msg, "token-alice-5") }) {
		t.Fatalf("the later alice event is not in the segments: %q", msgs)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, _ = deleteStore(t, dir)
	if got := users(t, db); got["alice"] != 1 || got["bob"] != 6 {
		t.Fatalf("after the purge and a reopen: %v", got)
	}
}

// dirHolds reports whether any file under dir holds b.
func dirHolds(t *testing.T, dir string, b []byte) bool {
	t.Helper()
	found := false
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		found = found || bytes.Contains(data, b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// rawMessages reads the message of every row of every live segment,
// hidden or not.
func rawMessages(t *testing.T, db *DB) []string {
	t.Helper()
	var out []string
	for _, s := range db.state.Load().segments {
		if err := s.r.Each(func(_ uint64, ev *Event) error {
			out = append(out, ev.Message)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestDeleteFreezesRelativeTimes: "start: 30m" means the half hour before
// the delete, however late the purge runs.
func TestDeleteFreezesRelativeTimes(t *testing.T) {
	dir := t.TempDir()
	db, now := deleteStore(t, dir)
	appendUsers(t, db, 10, 40, 50) // 11:10, 11:40, 11:50; now is 12:00
	res, err := db.Delete(ctx, DeleteRequest{Filter: "user.name:bob", Start: "30m"})
	if err != nil || res.Deleted != 2 {
		t.Fatalf("delete: %+v, %v", res, err)
	}
	now.Add(int64(3 * time.Hour)) // "30m" would now mean 14:30
	if _, err := db.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if got := users(t, db); got["bob"] != 1 || got["alice"] != 3 {
		t.Fatalf("after a late purge: %v", got)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, _ = deleteStore(t, dir)
	if got := users(t, db); got["bob"] != 1 || got["alice"] != 3 {
		t.Fatalf("after reopen: %v", got)
	}
}

// TestDeleteRejectsBadRequestsChangingNothing: each bad request names its
// problem and stores nothing, not even the record.
func TestDeleteRejectsBadRequestsChangingNothing(t *testing.T) {
	db, _ := deleteStore(t, t.TempDir())
	appendUsers(t, db, 0)
	before := db.Stats().LastSeq
	for _, c := range []struct {
		req  DeleteRequest
		want string
	}{
		{DeleteRequest{}, "filter is required"},
		{DeleteRequest{Filter: "user.name:"}, "expected value"},
		{DeleteRequest{Filter: "nosuch.field:x"}, "nosuch.field"},
		{DeleteRequest{Filter: "user.name:bob", Start: "yesterday-ish"}, "start"},
		{DeleteRequest{Filter: "user.name:bob", Start: "2024-05-20T12:00:00Z", End: "2024-05-20T11:00:00Z"}, "after end"},
	} {
		_, err := db.Delete(ctx, c.req)
		if !errors.Is(err, ErrInvalidRequest) || !bytes.Contains([]byte(err.Error()), []byte(c.want)) {
			t.Errorf("%+v: error %v, want ErrInvalidRequest naming %q", c.req, err, c.want)
		}
	}
	if got := db.Stats().LastSeq; got != before {
		t.Fatalf("a rejected delete stored something: last seq %d, was %d", got, before)
	}
	if got := users(t, db); got["alice"] != 1 || got["bob"] != 1 {
		t.Fatalf("a rejected delete hid events: %v", got)
	}
	// A range delete says so explicitly.
	res, err := db.Delete(ctx, DeleteRequest{Filter: "@timestamp:*", Start: "2024-05-20T00:00:00Z", End: "2024-05-20T23:59:59Z"})
	if err != nil || res.Deleted != 2 {
		t.Fatalf("range delete: %+v, %v", res, err)
	}
}

// TestDeletePurgesEverySegmentKind: a segment without deleted rows is
// marked clean without a rewrite; one wholly deleted goes; one partly
// deleted is rewritten; compaction merges afterwards keep the result.
func TestDeletePurgesEverySegmentKind(t *testing.T) {
	db, _ := deleteStore(t, t.TempDir())
	for _, u := range []string{"alice", "bob", "carol"} {
		if _, err := db.Append(ctx, userEvent(u, 1), userEvent(u, 2)); err != nil {
			t.Fatal(err)
		}
		if err := db.Roll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	appendUsers(t, db, 3) // alice and bob
	if err := db.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	before := segmentNames(db)
	if _, err := db.Delete(ctx, DeleteRequest{Filter: "user.name:alice"}); err != nil {
		t.Fatal(err)
	}
	db.PauseCompaction()
	if err := db.purge(ctx, &CompactResult{}); err != nil {
		t.Fatal(err)
	}
	after := segmentNames(db)
	// alice's own segment is gone, the mixed one rewritten, bob's and
	// carol's kept as they were.
	kept := 0
	for _, n := range before {
		if slices.Contains(after, n) {
			kept++
		}
	}
	if kept != 2 || len(after) != 4 { // 2 kept + the rewrite + the delete record's
		t.Fatalf("segments before %v, after %v", before, after)
	}
	if st := db.Stats().Maintenance; st.PendingDeletes != 0 || st.PurgeRewrites != 2 {
		t.Fatalf("stats %+v", st)
	}
	res, err := db.Query(ctx, query.Request{Filter: "user.name:*", PerPage: 100})
	if err != nil || res.Total != 5 {
		t.Fatalf("left %+v, %v", res, err)
	}
}

func segmentNames(db *DB) []string {
	var out []string
	for _, s := range db.state.Load().segments {
		out = append(out, s.meta.Name)
	}
	return out
}

// TestDeletePurgesTheWAL: events still in the head (and so in the WAL)
// leave the disk at the next compaction run, without a reopen, even when
// more events arrived after the delete.
func TestDeletePurgesTheWAL(t *testing.T) {
	dir := t.TempDir()
	db, _ := deleteStore(t, dir)
	appendUsers(t, db, 0, 1)
	if !dirHolds(t, dir, []byte("token-alice-1")) {
		t.Fatal("the WAL does not hold an appended event's message: the check below would prove nothing")
	}
	if _, err := db.Delete(ctx, DeleteRequest{Filter: "user.name:alice"}); err != nil {
		t.Fatal(err)
	}
	appendUsers(t, db, 2) // after the delete: stays, in the head
	if _, err := db.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	for _, token := range []string{"token-alice-0", "token-alice-1", "user.name:alice"} {
		if dirHolds(t, dir, []byte(token)) {
			t.Errorf("%s is still on disk after the purge", token)
		}
	}
	if got := users(t, db); got["alice"] != 1 || got["bob"] != 3 {
		t.Fatalf("after the purge: %v", got)
	}
}

// TestDeleteOutlivesQuarantine: a tombstone stays while a quarantined
// segment may hold its rows, so rows repair brings back stay deleted and
// are purged then.
func TestDeleteOutlivesQuarantine(t *testing.T) {
	dir := t.TempDir()
	_, big := segmentStore(t, dir)
	opts := Options{AllowUnregistered: true, MaintenanceInterval: -1}
	db := mustOpen(t, dir, opts)
	// The first 5 s of the big segment: its block 0 only.
	res, err := db.Delete(ctx, DeleteRequest{Filter: "@timestamp:*", Start: "2024-01-01T00:00:00Z", End: "2024-01-01T00:00:05Z"})
	if err != nil || res.Deleted != 5001 {
		t.Fatalf("delete: %+v, %v", res, err)
	}
	db.Close()
	path := filepath.Join(dir, "segments", big.Name)
	sal, err := segment.Salvage(path, nil)
	if err != nil || len(sal.Blocks) != 3 {
		t.Fatalf("salvage: %d blocks, %v", len(sal.Blocks), err)
	}
	flipAt(t, path, int64(sal.Blocks[1].Off+sal.Blocks[1].Len/2)) // block 1 lost
	st, _ := os.Stat(path)
	flipAt(t, path, st.Size()-121-40) // the sequence index: quarantined at open

	db = mustOpen(t, dir, opts)
	if q := db.Stats().Quarantined; len(q) != 1 {
		t.Fatalf("quarantined %v", q)
	}
	if _, err := db.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if m := db.Stats().Maintenance; m.PendingDeletes != 1 {
		t.Fatalf("the tombstone went while a quarantined segment may hold its rows: %+v", m)
	}
	db.Close()
	if _, err := Repair(dir, RepairOptions{}); err != nil {
		t.Fatal(err)
	}
	db = mustOpen(t, dir, opts)
	visible := func() int {
		r, err := db.Aggregate(ctx, query.Request{Filter: "@timestamp:*", Start: "2024-01-01T00:00:00Z", End: "2024-01-01T00:00:05Z"})
		if err != nil {
			t.Fatal(err)
		}
		return r.Total
	}
	if n := visible(); n != 0 {
		t.Fatalf("repair brought back %d deleted events", n)
	}
	if _, err := db.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if m := db.Stats().Maintenance; m.PendingDeletes != 0 || m.PurgeRewrites == 0 {
		t.Fatalf("after repair and compaction: %+v", m)
	}
	if n := visible(); n != 0 {
		t.Fatalf("%d deleted events visible after the purge", n)
	}
	for _, msg := range rawMessages(t, db) {
		var i int
		if _, err := fmt.Sscanf(msg, "1-%d", &i); err == nil && i <= 5000 {
			t.Fatalf("deleted event %q is still stored", msg)
		}
	}
}

// TestTombstoneOutlivesADroppedFile: a purge drops a segment holding
// deleted rows, but while a reader keeps its file (or its removal is not
// yet fsynced) the manifest keeps the tombstone, because a manifest rebuilt
// from the files on disk after a crash would find the file and bring the
// deleted events back. Once the file is durably gone the next manifest
// retires the tombstone.
func TestTombstoneOutlivesADroppedFile(t *testing.T) {
	dir := t.TempDir()
	db, _ := deleteStore(t, dir)
	appendUsers(t, db, 0, 1, 2)
	if err := db.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Delete(ctx, DeleteRequest{Filter: `user.name:alice`}); err != nil {
		t.Fatal(err)
	}
	if err := db.Roll(ctx); err != nil { // seals the delete's record
		t.Fatal(err)
	}
	onDisk := func() int {
		m, _, err := readManifestFile(db.opts.FS, dir, manifestFile)
		if err != nil {
			t.Fatal(err)
		}
		return len(m.Tombstones)
	}
	if n := onDisk(); n != 1 {
		t.Fatalf("before the purge the manifest carries %d tombstones, want 1", n)
	}
	held := db.acquireView() // a reader holding the segment the purge replaces
	if _, err := db.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if got := users(t, db); got["alice"] != 0 || got["bob"] != 3 {
		t.Fatalf("after the purge: %v", got)
	}
	if n := onDisk(); n != 1 {
		t.Fatalf("with the purged segment's file still on disk the manifest carries %d tombstones, want 1", n)
	}
	held.close() // the last reader: the file is removed and its directory fsynced
	appendUsers(t, db, 3)
	if err := db.Roll(ctx); err != nil { // any manifest write
		t.Fatal(err)
	}
	if n := onDisk(); n != 0 {
		t.Fatalf("with the file durably gone the manifest still carries %d tombstones, want 0", n)
	}
}

// TestDeleteByKeptFieldsNeedsConsent: a filter naming a field outside the
// schema deletes only with KeptFields, then exactly the events whose kept
// value matches; without it, the misspelt "not evnt.action:login" that
// would match every event is refused and nothing changes.
func TestDeleteByKeptFieldsNeedsConsent(t *testing.T) {
	db, _ := deleteStore(t, t.TempDir())
	var evs []Event
	for i, facility := range []string{"local0", "auth", "local0"} {
		ev, err := event.DecodeWith([]byte(fmt.Sprintf(`{"@timestamp":"2024-05-20T12:00:0%dZ","event":{"provider":"security","action":"login"},"syslog":{"facility":%q}}`, i, facility)),
			event.DecodeOptions{KeepUnknown: true})
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	if _, err := db.Append(ctx, evs...); err != nil {
		t.Fatal(err)
	}
	before := db.Stats().LastSeq
	for _, f := range []string{"not evnt.action:login", "syslog.facility:local0"} {
		if _, err := db.Delete(ctx, DeleteRequest{Filter: f}); !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), "kept_fields") {
			t.Errorf("%s without KeptFields: %v, want ErrInvalidRequest naming kept_fields", f, err)
		}
	}
	if got := db.Stats().LastSeq; got != before {
		t.Fatalf("a refused delete stored something: last seq %d, was %d", got, before)
	}
	res, err := db.Delete(ctx, DeleteRequest{Filter: "syslog.facility:local0", KeptFields: true})
	if err != nil || res.Deleted != 2 {
		t.Fatalf("delete by a kept field: %+v, %v; want 2 deleted", res, err)
	}
	if _, err := Open(t.TempDir(), Options{RetentionRules: []RetentionRule{{Filter: "syslog.facility:auth", MaxAge: time.Hour}}}); err == nil || !strings.Contains(err.Error(), "kept_fields") {
		t.Errorf("a retention rule on a kept field without KeptFields: %v", err)
	}
	db2, err := Open(t.TempDir(), Options{RetentionRules: []RetentionRule{{Filter: "syslog.facility:auth", MaxAge: time.Hour, KeptFields: true}}})
	if err != nil {
		t.Fatalf("a retention rule on a kept field with KeptFields: %v", err)
	}
	db2.Close()
}
