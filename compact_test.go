package eventlog

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/query"
)

// segmentFiles lists the files of the segments directory.
// segmentFiles lists every file in db's segments/, leftovers included.
func segmentFiles(t *testing.T, db *DB) []string {
	t.Helper()
	entries, err := os.ReadDir(db.segDir())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestCompactionMergesAndKeepsRunningQuerySnapshot: an export that started
// before a compaction returns exactly the events of its snapshot, the
// inputs' files outlive the swap until it finishes and go right after, and
// the merged store answers the same.
func TestCompactionMergesAndKeepsRunningQuerySnapshot(t *testing.T) {
	db := mustOpen(t, t.TempDir(), Options{AllowUnregistered: true, MaintenanceInterval: -1})
	for i := range 6 { // six segments of one day
		for j := range 50 {
			e := dayEvent(i*50 + j)
			if _, err := db.Append(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Roll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	before := db.Stats()
	all := func() []query.Hit {
		var hits []query.Hit
		if err := db.Export(ctx, query.Request{}, func(h query.Hit) error { hits = append(hits, h); return nil }); err != nil {
			t.Fatal(err)
		}
		return hits
	}
	want := all()
	var got []query.Hit
	var res CompactResult
	err := db.Export(ctx, query.Request{}, func(h query.Hit) error {
		if len(got) == 0 {
			var err error
			if res, err = db.Compact(ctx); err != nil {
				return err
			}
			deleting := 0
			for _, n := range segmentFiles(t, db) {
				if strings.HasSuffix(n, ".deleting") {
					deleting++
				}
			}
			if res.Inputs == 0 || deleting != res.Inputs {
				t.Errorf("during the export: %d inputs compacted, %d files waiting for deletion", res.Inputs, deleting)
			}
		}
		got = append(got, h)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !sameHits(got, want) {
		t.Fatalf("the export across a compaction gave %d events, want its snapshot's %d", len(got), len(want))
	}
	for _, n := range segmentFiles(t, db) {
		if strings.HasSuffix(n, ".deleting") {
			t.Fatalf("%s still there after the last reader finished", n)
		}
	}
	after := db.Stats()
	if after.Segments >= before.Segments || after.SegmentEvents != before.SegmentEvents || res.Events != before.SegmentEvents {
		t.Fatalf("segments %d -> %d, events %d -> %d (merged %d)", before.Segments, after.Segments, before.SegmentEvents, after.SegmentEvents, res.Events)
	}
	if !sameHits(all(), want) {
		t.Fatal("the compacted store answers differently")
	}
	if errs := Verify(db.dir); len(errs) > 0 {
		t.Fatalf("verify: %v", errs)
	}
	// Reopening keeps the merged set and leaves no stray file.
	dir := db.dir
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = mustOpen(t, dir, Options{AllowUnregistered: true, MaintenanceInterval: -1})
	if s := db.Stats(); s.Segments != after.Segments || s.SegmentEvents != after.SegmentEvents {
		t.Fatalf("after reopen: %+v", s)
	}
	for _, n := range segmentFiles(t, db) {
		if !strings.HasSuffix(n, ".seg") {
			t.Fatalf("stray file %s", filepath.Join(db.segDir(), n))
		}
	}
}

// dayEvent is tailEvent(i) stamped within one day, so its segments share
// a partition and compaction merges them.
func dayEvent(i int) Event {
	e := tailEvent(i)
	d, err := event.ParseDate(time.Date(2024, 5, 1, 0, 0, (i*7919)%86400, 0, time.UTC).Format(time.RFC3339))
	if err != nil {
		panic(err)
	}
	e.Timestamp = d
	return e
}

func sameHits(a, b []query.Hit) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Seq != b[i].Seq || a[i].Event.Message != b[i].Event.Message {
			return false
		}
	}
	return true
}

// TestCompactionFailuresLeaveOneSet fails a merge at each step: writing
// the merged file, recording the swap in the manifest, and moving the
// inputs aside. Each time the store keeps either the old segments or the
// new one, answers the same, and after reopening holds no stray file.
func TestCompactionFailuresLeaveOneSet(t *testing.T) {
	// Each case fails renames from the paths it matches.
	// Each case fails renames from the paths it matches. Once the manifest
	// has the swap the merge stands: failing to move an input aside only
	// leaves its file for the last reader or the next open to remove.
	for _, c := range []struct {
		name    string
		op      vfs.Op
		match   func(string) bool
		succeed bool
	}{
		{"merged file", vfs.OpRename, func(p string) bool { return strings.HasSuffix(p, ".seg.tmp") }, false},
		{"manifest", vfs.OpRename, func(p string) bool { return strings.Contains(p, "MANIFEST") }, false},
		{"inputs aside", vfs.OpRename, func(p string) bool { return strings.HasSuffix(p, ".seg") }, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			faulty := vfs.NewFaulty(vfs.OS{})
			opts := Options{AllowUnregistered: true, MaintenanceInterval: -1, FS: faulty}
			db := mustOpen(t, dir, opts)
			for i := range 5 {
				if _, err := db.Append(ctx, dayEvent(2*i), dayEvent(2*i+1)); err != nil {
					t.Fatal(err)
				}
				if err := db.Roll(ctx); err != nil {
					t.Fatal(err)
				}
			}
			want := findAll(t, db, FindRequest{Limit: MaxLimit})
			faulty.FailIf(c.op, errors.New("injected"), c.match)
			if res, err := db.Compact(ctx); (err == nil) != c.succeed || (c.succeed && res.Merges == 0) {
				t.Fatalf("compaction through the failure: %+v, %v", res, err)
			}
			faulty.Heal(c.op)
			if got := findAll(t, db, FindRequest{Limit: MaxLimit}); !sameRecords(got, want) {
				t.Fatalf("after the failed merge: %d events, want %d", len(got), len(want))
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			db = mustOpen(t, dir, opts)
			if got := findAll(t, db, FindRequest{Limit: MaxLimit}); !sameRecords(got, want) {
				t.Fatalf("after reopening: %d events, want %d", len(got), len(want))
			}
			if files, live := segmentFiles(t, db), db.Stats().Segments; len(files) != live {
				t.Fatalf("%d files for %d live segments: %v", len(files), live, files)
			}
			if _, err := db.Compact(ctx); err != nil { // and it can still compact
				t.Fatal(err)
			}
			if got := findAll(t, db, FindRequest{Limit: MaxLimit}); !sameRecords(got, want) {
				t.Fatal("compaction after recovery changed the answers")
			}
			if errs := Verify(dir); len(errs) > 0 {
				t.Fatalf("verify: %v", errs)
			}
		})
	}
}

// overlappingStore appends events stamped all over one day (dayEvent) in
// six rolls of different sizes, so the store holds six segments of one
// partition whose time ranges overlap and of which no tier of four holds
// the four a tier merge needs. It returns the appended events by sequence.
func overlappingStore(t *testing.T) (*DB, map[uint64]Event) {
	t.Helper()
	return overlappingStoreWith(t, Options{})
}

// overlappingStoreWith is overlappingStore under opts (AllowUnregistered,
// and no background maintenance, added).
func overlappingStoreWith(t *testing.T, opts Options) (*DB, map[uint64]Event) {
	t.Helper()
	opts.AllowUnregistered, opts.MaintenanceInterval = true, -1
	db := mustOpen(t, t.TempDir(), opts)
	appended := map[uint64]Event{}
	i := 0
	for _, n := range []int{10, 30, 90, 270, 350, 2430} {
		batch := make([]Event, n)
		for j := range batch {
			batch[j] = dayEvent(i)
			i++
		}
		a, err := db.Append(ctx, batch...)
		if err != nil {
			t.Fatal(err)
		}
		for j, e := range batch {
			appended[a.Seq(j)] = e
		}
		if err := db.Roll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return db, appended
}

// segmentsMeeting counts the live segments whose time ranges meet
// [start, end]: those a query bounded by them reads.
func segmentsMeeting(db *DB, start, end time.Time) int {
	n := 0
	for _, s := range db.Segments() {
		if !s.MaxTS.Before(start) && !s.MinTS.After(end) {
			n++
		}
	}
	return n
}

// TestCompactMergesOverlappingPartitionIntoOne: six overlapping segments
// of one partition, in no common size tier, become one on Compact; every
// appended event is there once, time-bounded queries answer the same, and
// a one-hour query meets one segment instead of six.
func TestCompactMergesOverlappingPartitionIntoOne(t *testing.T) {
	db, appended := overlappingStore(t)
	hour := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	if n := len(db.Segments()); n != 6 || segmentsMeeting(db, hour, hour.Add(time.Hour)) != 6 {
		t.Fatalf("%d segments, %d meeting the hour: want 6 overlapping", n, segmentsMeeting(db, hour, hour.Add(time.Hour)))
	}
	reqs := []query.Request{
		{Start: "2024-05-01T10:00:00Z", End: "2024-05-01T11:00:00Z", PerPage: 1000},
		{Start: "2024-05-01T10:00:00Z", End: "2024-05-01T11:00:00Z", PerPage: 5, Sort: []query.SortField{{Field: "@timestamp", Order: "desc"}}},
		{Filter: "event.action:a1", Start: "2024-05-01T03:30:00Z", End: "2024-05-01T18:15:00Z", PerPage: 1000},
		{Filter: "event.action:a2 and not message:\"event 7\"", PerPage: 1000},
	}
	before := answers(t, db, reqs)
	res, err := db.Compact(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Merges != 1 || res.Inputs != 6 || res.Outputs != 1 || res.Events != len(appended) || res.BytesAfter <= 0 {
		t.Fatalf("compact: %+v, want one merge of 6 into 1 rewriting %d events", res, len(appended))
	}
	if n := len(db.Segments()); n != 1 || segmentsMeeting(db, hour, hour.Add(time.Hour)) != 1 {
		t.Fatalf("after compact: %d segments, want 1", n)
	}
	seen := map[uint64]bool{}
	err = db.Export(ctx, query.Request{}, func(h query.Hit) error {
		want, ok := appended[h.Seq]
		switch {
		case !ok || seen[h.Seq]:
			return fmt.Errorf("seq %d: appended %v, seen before %v", h.Seq, ok, seen[h.Seq])
		case h.Event.Message != want.Message || h.Event.Timestamp.String() != want.Timestamp.String():
			return fmt.Errorf("seq %d: %q at %v, appended %q at %v", h.Seq, h.Event.Message, h.Event.Timestamp, want.Message, want.Timestamp)
		}
		seen[h.Seq] = true
		return nil
	})
	if err != nil || len(seen) != len(appended) {
		t.Fatalf("export after compact: %d of %d events: %v", len(seen), len(appended), err)
	}
	if after := answers(t, db, reqs); !slices.Equal(after, before) {
		t.Fatalf("queries answer differently after compact:\n%v\nbefore\n%v", after, before)
	}
	if again, err := db.Compact(ctx); err != nil || again.Merges != 0 {
		t.Fatalf("a second compact: %+v, %v", again, err)
	}
}

// answers runs each request and describes its answer: total and hit
// sequences in order.
func answers(t *testing.T, db *DB, reqs []query.Request) []string {
	t.Helper()
	var out []string
	for _, r := range reqs {
		res, err := db.Query(ctx, r)
		if err != nil {
			t.Fatalf("query %+v: %v", r, err)
		}
		seqs := make([]uint64, len(res.Hits))
		for i, h := range res.Hits {
			seqs[i] = h.Seq
		}
		out = append(out, fmt.Sprint(res.Total, seqs))
	}
	return out
}

// TestBackgroundRoundMergesOverlapFirst: one background round over six
// overlapping segments merges the overlapping ones (10 to 350 events per
// segment, the largest of them no larger than the rest together) and
// leaves the one that outweighs them all together (2,430 events) rather
// than rewriting it for the small ones.
func TestBackgroundRoundMergesOverlapFirst(t *testing.T) {
	db, appended := overlappingStore(t)
	biggest := slices.MaxFunc(db.Segments(), func(a, b SegmentInfo) int { return cmp.Compare(a.Bytes, b.Bytes) })
	if p := db.Stats().Maintenance.PendingMerges; p != 1 {
		t.Fatalf("before the round: %d pending merges, want the overlap's one", p)
	}
	res, err := db.compact(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	if res.Merges != 1 || res.Inputs != 5 || res.Events != len(appended)-biggest.Events {
		t.Fatalf("background round: %+v, want the five overlapping segments but the biggest merged", res)
	}
	if segs := db.Segments(); len(segs) != 2 || !slices.Contains(segs, biggest) {
		t.Fatalf("after the round: %+v, want the biggest and the merged one", segs)
	}
	if p := db.Stats().Maintenance.PendingMerges; p != 0 {
		t.Fatalf("after the round: %d pending merges, want none (at rest)", p)
	}
}
