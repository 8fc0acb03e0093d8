package eventlog

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/segment"
)

// TestDedupAcrossSealedSegments spreads client ids over many sealed
// segments of the current format (version 4: each segment's ids behind a
// filter, in pages read on demand), with a restart among them, and checks
// against the model of dedup_model_test.go: every retry of a stored id is
// a Duplicate (same content) or a Conflict (other content) naming the
// stored sequence number, every new id is Created, and Get finds each id
// under its sequence number and no id that was never stored. Each run
// asks every segment's filter about hundreds of absent ids, so at the
// filters' 1 % some pass (TestIDFilterFalsePositives in package index
// counts them): a false positive reads a page and must still answer
// "absent", never a Duplicate or a Conflict.
func TestDedupAcrossSealedSegments(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		dir := t.TempDir()
		opts := Options{AllowUnregistered: true, Sync: SyncNone, MaintenanceInterval: -1}
		db, err := Open(dir, opts)
		if err != nil {
			rt.Fatal(err)
		}
		defer func() { db.Close() }()
		m := &dedupModel{stored: map[string]storedModel{}}
		appendChecked := func(events []Event) {
			got, err := db.Append(ctx, events...)
			if err != nil {
				rt.Fatalf("append: %v", err)
			}
			for i, e := range events {
				want, seq := m.expect(e)
				if got.Items[i].Result != want || (want != Created && got.Seq(i) != seq) {
					rt.Fatalf("event %d (id %s): %v seq %d, want %v seq %d", i, e.ClientID, got.Items[i].Result, got.Seq(i), want, seq)
				}
				if want == Created {
					m.stored[e.ClientID] = storedModel{ev: e, seq: got.Seq(i)}
				}
			}
		}
		genEvent := func(rt *rapid.T, id string) Event {
			e := ev("p", rapid.SampledFrom([]string{"a1", "a2"}).Draw(rt, "action"), "2024-05-01T00:00:00Z")
			e.ClientID = id
			return e
		}
		segments := rapid.IntRange(2, 6).Draw(rt, "segments")
		restartAt := rapid.IntRange(0, segments).Draw(rt, "restart_at")
		for s := range segments {
			if s == restartAt {
				if err := db.Close(); err != nil {
					rt.Fatal(err)
				}
				if db, err = Open(dir, opts); err != nil {
					rt.Fatal(err)
				}
			}
			var batch []Event
			for range rapid.IntRange(1, 20).Draw(rt, "events") {
				// Ids from a pool small enough that later segments repeat
				// ids of earlier ones.
				id := fmt.Sprintf("id-%d", rapid.IntRange(0, 120).Draw(rt, "id"))
				batch = append(batch, genEvent(rt, id))
			}
			appendChecked(batch)
			if err := db.Roll(ctx); err != nil {
				rt.Fatal(err)
			}
		}
		st := db.state.Load()
		for _, s := range st.segments {
			if v := s.r.Info().Version; v != segment.Version {
				rt.Fatalf("segment %s has version %d, want %d", s.meta.Name, v, segment.Version)
			}
		}
		// Lookups of ids never stored, against every segment's filter.
		absent := make([]string, 300)
		for i := range absent {
			absent[i] = fmt.Sprintf("absent-%d-%d", i, rapid.IntRange(0, 1<<20).Draw(rt, "salt"))
		}
		found, err := db.Get(ctx, absent...)
		if err != nil || len(found) != 0 {
			rt.Fatalf("Get(absent ids) = %d found (%v), %v", len(found), slices.Collect(maps.Keys(found)), err)
		}
		// Retries of stored ids (some with other content) and new ids.
		var retry []Event
		for _, id := range slices.Sorted(maps.Keys(m.stored)) {
			if rapid.Bool().Draw(rt, "retry") {
				retry = append(retry, genEvent(rt, id))
			}
		}
		for i := range rapid.IntRange(0, 20).Draw(rt, "new") {
			retry = append(retry, genEvent(rt, fmt.Sprintf("new-%d", i)))
		}
		if len(retry) > 0 {
			appendChecked(retry)
		}
		ids := slices.Collect(maps.Keys(m.stored))
		found, err = db.Get(ctx, ids...)
		if err != nil {
			rt.Fatal(err)
		}
		for _, id := range ids {
			if rec, ok := found[id]; !ok || rec.Seq != m.stored[id].seq {
				rt.Fatalf("Get(%s) = %+v, %v; want seq %d", id, rec, ok, m.stored[id].seq)
			}
		}
	})
}

// TestSegmentsChargeMemory checks that the open segments' memory
// (segment.Reader.MemoryBytes) is charged to AccountSegments while they
// are open, through seals, a compaction that replaces them and a restart,
// and given back once the store is closed.
func TestSegmentsChargeMemory(t *testing.T) {
	dir := t.TempDir()
	opts := Options{AllowUnregistered: true, Sync: SyncNone, MaintenanceInterval: -1}
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string, wantSegments int) {
		t.Helper()
		var want int64
		st := db.state.Load()
		for _, s := range st.segments {
			want += s.r.MemoryBytes()
		}
		got := db.Memory().Usage()[AccountSegments]
		if len(st.segments) != wantSegments || got != want || (wantSegments > 0 && got == 0) {
			t.Fatalf("%s: %d segments, charged %d, they hold %d", when, len(st.segments), got, want)
		}
	}
	check("empty", 0)
	for s := range 3 {
		var batch []Event
		for i := range 200 {
			e := ev("p", "a", "2024-05-01T00:00:00Z")
			e.ClientID = fmt.Sprintf("seg%d-%d", s, i)
			batch = append(batch, e)
		}
		if _, err := db.Append(ctx, batch...); err != nil {
			t.Fatal(err)
		}
		if err := db.Roll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	check("three seals", 3)
	if _, err := db.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	check("compacted", 1)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if got := db.Memory().Usage()[AccountSegments]; got != 0 {
		t.Fatalf("closed: %d bytes still charged", got)
	}
	if db, err = Open(dir, opts); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	check("reopened", 1)
}

// TestDedupOverVersion3Segments rewrites the sealed segments of a store as
// format version 3 files (client ids in the postings dictionary, as stores
// written before version 4 hold them) beside a version 4 segment sealed
// afterwards, and checks that the ids of both are found: a retry of each
// is a Duplicate (or a Conflict when its content differs) naming its
// sequence number, Get finds each, and an erased id of a version 3
// segment stays known.
func TestDedupOverVersion3Segments(t *testing.T) {
	dir := t.TempDir()
	opts := Options{AllowUnregistered: true, Sync: SyncNone, MaintenanceInterval: -1}
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	m := &dedupModel{stored: map[string]storedModel{}}
	add := func(db *DB, prefix string, n int) {
		t.Helper()
		var batch []Event
		for i := range n {
			e := ev("p", []string{"a1", "a2"}[i%2], "2024-05-01T00:00:00Z")
			e.ClientID = fmt.Sprintf("%s-%d", prefix, i)
			batch = append(batch, e)
		}
		a, err := db.Append(ctx, batch...)
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range batch {
			m.stored[e.ClientID] = storedModel{ev: e, seq: a.Seq(i)}
		}
		if err := db.Roll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	add(db, "old-a", 300)
	add(db, "old-b", 300)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	rewriteAsVersion3(t, dir)
	if db, err = Open(dir, opts); err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	add(db, "new", 300)
	versions := map[int]int{}
	for _, s := range db.state.Load().segments {
		versions[s.r.Info().Version]++
	}
	if versions[3] != 2 || versions[segment.Version] != 1 {
		t.Fatalf("segment versions %v, want two of 3 and one of %d", versions, segment.Version)
	}
	var retry []Event
	for _, id := range slices.Sorted(maps.Keys(m.stored)) {
		e := m.stored[id].ev
		if len(retry)%3 == 0 {
			e.Event.Action = "other" // a conflict
		}
		retry = append(retry, e)
	}
	got, err := db.Append(ctx, retry...)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range retry {
		want, seq := m.expect(e)
		if want == Created || got.Items[i].Result != want || got.Seq(i) != seq {
			t.Fatalf("retry of %s: %v seq %d, want %v seq %d", e.ClientID, got.Items[i].Result, got.Seq(i), want, seq)
		}
	}
	found, err := db.Get(ctx, slices.Collect(maps.Keys(m.stored))...)
	if err != nil || len(found) != len(m.stored) {
		t.Fatalf("Get found %d of %d: %v", len(found), len(m.stored), err)
	}
	if _, err := db.Delete(ctx, DeleteRequest{Filter: `_id:"old-a-7"`}); err != nil {
		t.Fatal(err)
	}
	e := m.stored["old-a-7"].ev
	a, err := db.Append(ctx, e)
	if err != nil || a.Items[0].Result != Duplicate || a.Seq(0) != m.stored["old-a-7"].seq {
		t.Fatalf("retry of an erased id of a version 3 segment: %+v, %v", a, err)
	}
}

// rewriteAsVersion3 rewrites every segment of the closed store in dir as a
// format version 3 file of the same rows, and its manifest entry's size.
func rewriteAsVersion3(t *testing.T, dir string) {
	t.Helper()
	m, err := readManifest(vfs.OS{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, meta := range m.Segments {
		path := filepath.Join(dir, "segments", meta.Name)
		r, err := segment.Open(path, segment.OpenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var rows []segment.Row
		for bi, b := range r.Blocks() {
			_, seqs, err := r.Keys(bi)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]uint32, b.Rows)
			for k := range want {
				want[k] = b.FirstRow + uint32(k)
			}
			evs, err := r.Events(want)
			if err != nil {
				t.Fatal(err)
			}
			for k := range evs {
				rows = append(rows, segment.Row{Seq: seqs[k], Event: &evs[k]})
			}
		}
		r.Close()
		info, err := segment.Write(path, rows, segment.WriteOptions{Version: 3})
		if err != nil {
			t.Fatal(err)
		}
		m.Segments[i].Bytes = info.FileBytes
	}
	if err := writeManifest(vfs.OS{}, dir, m); err != nil {
		t.Fatal(err)
	}
}
