package eventlog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// manifestStore builds a store of several segments in which a delete by
// query is pending: "doomed" events were sealed before the delete, so
// their rows are still in a segment and only the tombstone hides them. The
// WAL rolls small files, so the delete's own record is checkpointed away:
// only the manifests and TOMBSTONES know the tombstone. It returns the
// visible events (message by seq) and the hidden ones.
func manifestStore(t *testing.T, dir string) (want, deleted map[uint64]string) {
	t.Helper()
	db := mustOpen(t, dir, Options{AllowUnregistered: true, MaintenanceInterval: -1, WALMaxFileBytes: 4096})
	want, deleted = map[uint64]string{}, map[uint64]string{}
	appendAll(t, db, bulk(300, "2024-01-01T00:00:00Z", 1), 50, want)
	doomed := bulk(5, "2024-01-01T06:00:00Z", 9)
	for i := range doomed {
		doomed[i].User.Name = "doomed"
	}
	appendAll(t, db, doomed, 5, deleted)
	mustRoll(t, db)
	appendAll(t, db, bulk(200, "2024-01-02T00:00:00Z", 2), 40, want)
	mustRoll(t, db)
	del, err := db.Delete(ctx, DeleteRequest{Filter: "user.name:doomed"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range findAll(t, db, FindRequest{Limit: MaxLimit}) {
		if r.Seq == del.Seq { // the event recording the delete
			want[r.Seq] = r.Event.Message
		}
	}
	appendAll(t, db, bulk(100, "2024-01-02T12:00:00Z", 3), 20, want)
	mustRoll(t, db)
	appendAll(t, db, bulk(30, "2024-01-03T00:00:00Z", 4), 10, want) // left in the WAL
	if st := db.Stats(); st.Maintenance.PendingDeletes != 1 || st.Segments < 3 {
		t.Fatalf("want a pending delete and several segments: %+v", st)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if n := walRecordsAtOrBelow(t, dir, maxKey(deleted)+1); n != 0 {
		t.Fatalf("%d WAL records of the doomed events or the delete survive: the tombstone would be replayed", n)
	}
	return want, deleted
}

func mustRoll(t *testing.T, db *DB) {
	t.Helper()
	if err := db.Roll(ctx); err != nil {
		t.Fatal(err)
	}
}

// walRecordsAtOrBelow counts the WAL's records starting at or below seq.
func walRecordsAtOrBelow(t *testing.T, dir string, seq uint64) int {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "wal", "*.wal"))
	n := 0
	for _, f := range files {
		_, recs := walRecords(t, f)
		for _, r := range recs {
			if r.FirstSeq <= seq {
				n++
			}
		}
	}
	return n
}

// contents opens dir and returns every visible event (message by seq),
// failing on a duplicate sequence number, and the DB's stats.
func contents(t *testing.T, dir string) (map[uint64]string, Stats) {
	t.Helper()
	db := mustOpen(t, dir, Options{AllowUnregistered: true, MaintenanceInterval: -1})
	defer db.Close()
	out := map[uint64]string{}
	for _, r := range findAll(t, db, FindRequest{Limit: MaxLimit}) {
		if _, dup := out[r.Seq]; dup {
			t.Fatalf("seq %d is served twice", r.Seq)
		}
		out[r.Seq] = r.Event.Message
	}
	return out, db.Stats()
}

// corruptFile damages one file of a data directory.
type corruptFile func(t *testing.T, path string)

var corruptions = map[string]corruptFile{
	"flip bit": func(t *testing.T, path string) { flipBitAt(t, path, fileSize(t, path)/2, 2) },
	"truncate": func(t *testing.T, path string) { mustTruncate(t, path, fileSize(t, path)/2) },
	"zeroed": func(t *testing.T, path string) {
		if err := os.WriteFile(path, make([]byte, fileSize(t, path)), 0o644); err != nil {
			t.Fatal(err)
		}
	},
	"checksum line": func(t *testing.T, path string) { flipBitAt(t, path, fileSize(t, path)-3, 0) },
	"removed": func(t *testing.T, path string) {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	},
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func mustTruncate(t *testing.T, path string, n int64) {
	t.Helper()
	if err := os.Truncate(path, n); err != nil {
		t.Fatal(err)
	}
}

// Issue 13, finding 3: a damaged MANIFEST fails the open clearly, and
// repair gets every event back, deleted ones staying deleted.
func TestRepairDamagedManifest(t *testing.T) {
	for name, corrupt := range corruptions {
		for _, both := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/prev damaged too=%v", name, both), func(t *testing.T) {
				dir := t.TempDir()
				want, deleted := manifestStore(t, dir)
				corrupt(t, filepath.Join(dir, manifestFile))
				if both {
					corrupt(t, filepath.Join(dir, manifestPrevFile))
				}
				if name == "removed" && both { // neither: a trace that one existed
					if err := os.WriteFile(filepath.Join(dir, manifestPrevFile), nil, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				_, err := Open(dir, Options{AllowUnregistered: true})
				if !errors.Is(err, errManifest) || !strings.Contains(err.Error(), filepath.Join(dir, manifestFile)) ||
					!strings.Contains(err.Error(), "eventlog repair") {
					t.Fatalf("open with a damaged manifest: %v", err)
				}
				rep, err := Repair(dir, RepairOptions{})
				if err != nil {
					t.Fatal(err)
				}
				mr := rep.Manifest
				if mr == nil || (mr.Previous == "") == both || mr.ReadOnly != "" || mr.Tombstones != 1 || len(rep.Lost()) != 0 {
					t.Fatalf("report %+v (manifest %+v)", rep, mr)
				}
				got, st := contents(t, dir)
				checkRestored(t, got, want, func(uint64) bool { return false })
				for seq := range deleted {
					if _, back := got[seq]; back {
						t.Fatalf("deleted seq %d is back", seq)
					}
				}
				if st.ReadOnly || st.ReadOnlyReason != "" || st.Maintenance.PendingDeletes != 1 {
					t.Fatalf("stats after the rebuild: read-only %v %q, pending deletes %d", st.ReadOnly, st.ReadOnlyReason, st.Maintenance.PendingDeletes)
				}
				mustVerify(t, dir)
				if again, err := Repair(dir, RepairOptions{}); err != nil || !again.Clean() {
					t.Fatalf("second repair: %+v, %v", again, err)
				}
				appendAfterRepair(t, dir, want)
			})
		}
	}
}

// appendAfterRepair checks that new events get numbers above every one
// recovered and that compaction and the purge then run cleanly.
func appendAfterRepair(t *testing.T, dir string, want map[uint64]string) {
	t.Helper()
	db := mustOpen(t, dir, Options{AllowUnregistered: true, MaintenanceInterval: -1})
	res, err := db.Append(ctx, ev("p", "a", "2024-01-04T00:00:00Z"))
	if err != nil || res.FirstSeq <= maxKey(want) {
		t.Fatalf("append after repair: %+v, %v", res, err)
	}
	if _, err := db.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, dir)
}

// Without TOMBSTONES and both manifests, a rebuild cannot know the pending
// delete: the store opens read-only and says why.
func TestRepairManifestWithoutTombstones(t *testing.T) {
	for name, corrupt := range corruptions {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			want, deleted := manifestStore(t, dir)
			for _, f := range []string{manifestFile, manifestPrevFile, tombstonesFile} {
				corrupt(t, filepath.Join(dir, f))
			}
			if name == "removed" { // neither manifest: keep a trace that one existed
				if err := os.WriteFile(filepath.Join(dir, manifestPrevFile), []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			rep, err := Repair(dir, RepairOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Manifest == nil || !strings.Contains(rep.Manifest.ReadOnly, tombstonesFile) {
				t.Fatalf("report %+v", rep.Manifest)
			}
			got, st := contents(t, dir)
			if !st.ReadOnly || !strings.Contains(st.ReadOnlyReason, "delete by query may be missing") {
				t.Fatalf("stats read-only = %v %q", st.ReadOnly, st.ReadOnlyReason)
			}
			for seq, msg := range want { // nothing is lost; the deleted ones may be visible
				if got[seq] != msg {
					t.Fatalf("seq %d: %q, want %q", seq, got[seq], msg)
				}
			}
			if len(got) > len(want)+len(deleted) {
				t.Fatalf("%d events, at most %d expected", len(got), len(want)+len(deleted))
			}
			db := mustOpen(t, dir, Options{AllowUnregistered: true})
			if _, err := db.Append(ctx, ev("p", "a", "")); !errors.Is(err, ErrReadOnly) {
				t.Fatalf("append to a read-only store: %v", err)
			}
			db.Close()
			errs := Verify(dir)
			if len(errs) != 1 || !strings.Contains(errs[0].Error(), readOnlyFile) {
				t.Fatalf("verify: %v", errs)
			}
			if err := os.Remove(filepath.Join(dir, readOnlyFile)); err != nil {
				t.Fatal(err)
			}
			mustVerify(t, dir)
		})
	}
}

// A rebuild after an interrupted compaction (inputs still on disk beside
// the output) lists each sequence number once: the newest segment is kept,
// the inputs it supersedes move to superseded/.
func TestRepairManifestCompactionLeftovers(t *testing.T) {
	dir := t.TempDir()
	want, deleted := manifestStore(t, dir)
	db := mustOpen(t, dir, Options{AllowUnregistered: true, MaintenanceInterval: -1})
	for i := range 4 { // more small segments of one partition, to merge
		appendAll(t, db, bulk(20, fmt.Sprintf("2024-01-02T0%d:00:00Z", i+1), 10+i), 10, want)
		mustRoll(t, db)
	}
	db.Close()
	before := segmentFilesIn(t, dir)
	saved := map[string][]byte{}
	for _, n := range before {
		b, err := os.ReadFile(filepath.Join(dir, "segments", n))
		if err != nil {
			t.Fatal(err)
		}
		saved[n] = b
	}
	db = mustOpen(t, dir, Options{AllowUnregistered: true, MaintenanceInterval: -1})
	res, err := db.Compact(ctx)
	if err != nil || res.Merges == 0 {
		t.Fatalf("compact: %+v, %v", res, err)
	}
	db.Close()
	var inputs []string
	for n, b := range saved { // as if the crash came before the inputs were removed
		if !slices.Contains(segmentFilesIn(t, dir), n) {
			inputs = append(inputs, n)
			if err := os.WriteFile(filepath.Join(dir, "segments", n), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(inputs) < 2 {
		t.Fatalf("compaction replaced %v (%+v)", inputs, res)
	}
	corruptions["flip bit"](t, filepath.Join(dir, manifestFile))
	corruptions["flip bit"](t, filepath.Join(dir, manifestPrevFile))
	rep, err := Repair(dir, RepairOptions{})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(inputs)
	if rep.Manifest == nil || !slices.Equal(rep.Manifest.Superseded, inputs) || rep.Manifest.ReadOnly != "" {
		t.Fatalf("report %+v, want %v superseded", rep.Manifest, inputs)
	}
	for _, n := range inputs {
		if _, err := os.Stat(filepath.Join(dir, supersededDir, n)); err != nil {
			t.Fatalf("superseded input not kept: %v", err)
		}
	}
	got, _ := contents(t, dir)
	checkRestored(t, got, want, func(uint64) bool { return false })
	for seq := range deleted {
		if _, back := got[seq]; back {
			t.Fatalf("deleted seq %d is back", seq)
		}
	}
	mustVerify(t, dir)
}

// A rebuild after an interrupted seal (some of a head's partition segments
// written, the manifest not) keeps every event once: the written segment
// is listed, sealed_seq is raised to the end of the WAL record it ends in,
// and the WAL's other events up to there are rescued. (The power-cut test
// found the record boundary: replay inserts whole records.)
func TestRepairManifestInterruptedSeal(t *testing.T) {
	dir := t.TempDir()
	want, _ := manifestStore(t, dir)
	clone := crashCloneAfterSeal(t, dir, want)
	corruptions["flip bit"](t, filepath.Join(clone, manifestFile))
	rep, err := Repair(clone, RepairOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Manifest == nil || rep.Manifest.Rescued == 0 {
		t.Fatalf("report %+v: nothing rescued", rep.Manifest)
	}
	got, _ := contents(t, clone)
	checkRestored(t, got, want, func(uint64) bool { return false })
	mustVerify(t, clone)
}

// crashCloneAfterSeal appends events of two partitions, interleaved in
// one WAL record, seals them, and returns a copy of dir as a crash could
// leave it mid-seal: the WAL and the manifest as before the seal, and only
// the segment that does not hold the record's last event (so the segments
// end in the middle of a record).
func crashCloneAfterSeal(t *testing.T, dir string, want map[uint64]string) string {
	t.Helper()
	db := mustOpen(t, dir, Options{AllowUnregistered: true, MaintenanceInterval: -1})
	a, b := bulk(20, "2024-01-05T00:00:00Z", 5), bulk(20, "2024-01-06T00:00:00Z", 6)
	var mixed []Event
	for i := range a {
		mixed = append(mixed, a[i], b[i])
	}
	appendAll(t, db, mixed, len(mixed), want)
	clone := crashClone(t, dir) // every append synced; nothing sealed
	before := segmentFilesIn(t, dir)
	mustRoll(t, db)
	last := maxKey(want)
	var keep string
	for _, n := range segmentFilesIn(t, dir) {
		if !slices.Contains(before, n) && db.segmentMeta(n).MaxSeq < last {
			keep = n
		}
	}
	if keep == "" {
		t.Fatal("the seal wrote no segment ending before the record")
	}
	data, err := os.ReadFile(filepath.Join(dir, "segments", keep))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(clone, "segments", keep), data, 0o644); err != nil {
		t.Fatal(err)
	}
	db.Close()
	return clone
}

// segmentMeta returns the manifest entry of the live segment name.
func (db *DB) segmentMeta(name string) segmentMeta {
	db.manifestMu.Lock()
	defer db.manifestMu.Unlock()
	for _, s := range db.manifest.Segments {
		if s.Name == name {
			return s
		}
	}
	return segmentMeta{}
}

// segmentFilesIn lists the segment files (NNN.seg) in dir/segments.
func segmentFilesIn(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "segments"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if _, ok := segmentID(e.Name()); ok {
			out = append(out, e.Name())
		}
	}
	return out
}

// A segment whose footer is gone is quarantined by the rebuild and
// salvaged: its events come back once, deleted ones staying hidden. The
// oldest segment (doomed rows included) is in MANIFEST.prev, so its loss is
// known to be nil; the newest (the 30 events sealed at the last close) is
// not, and nothing else says how many events it held.
func TestRepairManifestAndSegmentFooter(t *testing.T) {
	cases := map[string]struct {
		pick      func([]string) string
		recovered int
		lost      []SeqRange
	}{
		"oldest": {slices.Min[[]string], 305, nil},
		"newest": {slices.Max[[]string], 30, []SeqRange{{Events: -1}}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			want, deleted := manifestStore(t, dir)
			victim := c.pick(segmentFilesIn(t, dir))
			path := filepath.Join(dir, "segments", victim)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			clear(b[len(b)-120:])
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			corruptions["flip bit"](t, filepath.Join(dir, manifestFile))
			rep, err := Repair(dir, RepairOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Manifest == nil || !slices.Equal(rep.Manifest.Quarantined, []string{victim}) ||
				len(rep.Segments) != 1 || rep.Segments[0].Recovered != c.recovered || !slices.Equal(rep.Lost(), c.lost) {
				t.Fatalf("report %+v, manifest %+v", rep, rep.Manifest)
			}
			got, _ := contents(t, dir)
			checkRestored(t, got, want, func(uint64) bool { return false })
			for seq := range deleted {
				if _, back := got[seq]; back {
					t.Fatalf("deleted seq %d is back", seq)
				}
			}
			mustVerify(t, dir)
		})
	}
}
