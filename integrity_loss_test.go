package eventlog

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/eventlogdb/eventlog/integrity"
	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/segment"
)

// treeSegmentStore builds a store with the Merkle tree whose first segment
// has two blocks (9,192 events of one day), then a small one, and returns
// message by seq and the big segment's manifest entry.
func treeSegmentStore(t *testing.T, dir string) (map[uint64]string, segmentMeta) {
	t.Helper()
	db := mustOpen(t, dir, Options{AllowUnregistered: true, Integrity: true, MaintenanceInterval: -1})
	want := map[uint64]string{}
	appendAll(t, db, bulk(segment.DefaultBlockRows+1000, "2024-01-01T00:00:00Z", 1), 5000, want)
	if err := db.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	appendAll(t, db, bulk(50, "2024-01-02T00:00:00Z", 2), 10, want)
	if err := db.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SignHead(); err != nil {
		t.Fatal(err)
	}
	big := db.manifest.Segments[0]
	if big.Events != segment.DefaultBlockRows+1000 {
		t.Fatalf("segments %+v", db.manifest.Segments)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return want, big
}

// chainFindings verifies dir's chain (with extra heads) and returns the
// report with its erased positions by seq.
func chainFindings(t *testing.T, dir string, extra ...integrity.SignedHead) (ChainReport, map[uint64]ErasedLeaf) {
	t.Helper()
	r, err := VerifyChainWith(dir, Options{AllowUnregistered: true}, ChainOptions{Extra: extra})
	if err != nil {
		t.Fatal(err)
	}
	by := map[uint64]ErasedLeaf{}
	for _, e := range r.Erased {
		by[e.Seq] = e
	}
	return r, by
}

// forkEvents returns the events recording forks in dir (opened read-only).
func forkEvents(t *testing.T, dir string) []Record {
	t.Helper()
	db := mustOpen(t, dir, Options{ReadOnly: true})
	defer db.Close()
	return findAll(t, db, FindRequest{Terms: []Term{{Field: "event.action", Values: []string{ActionIntegrityFork}}}, Limit: MaxLimit})
}

// missingSeqs returns the seqs of want that dir no longer holds (read-only).
func missingSeqs(t *testing.T, dir string, want map[uint64]string) []uint64 {
	t.Helper()
	got := readOnlyContents(t, dir)
	var out []uint64
	for seq := range want {
		if _, ok := got[seq]; !ok {
			out = append(out, seq)
		}
	}
	slices.Sort(out)
	return out
}

// TestIntegrityRepairLossLabelled: a repair that loses a damaged block
// records the positions before the loss takes effect, so verify --chain
// reports exactly the events that are gone as lost to a repair (not
// missing); the next writable open records the fork as one event, which
// the positions then name, and a later open does not record it again.
// The same loss made by hand (the segment removed from the manifest) reads
// as missing — until a repair of that store records it.
func TestIntegrityRepairLossLabelled(t *testing.T) {
	dir := t.TempDir()
	want, big := treeSegmentStore(t, dir)
	byHand := crashClone(t, dir)

	path := filepath.Join(dir, "segments", big.Name)
	sal, err := segment.Salvage(path, nil)
	if err != nil || len(sal.Blocks) != 2 {
		t.Fatalf("salvage of a healthy file: %d blocks, %v", len(sal.Blocks), err)
	}
	flipAt(t, path, int64(sal.Blocks[0].Off+3)) // block 0 unreadable: Repair's live check finds it
	rep, err := Repair(dir, RepairOptions{})
	if err != nil {
		t.Fatal(err)
	}
	gone := missingSeqs(t, dir, want) // independent: what the store no longer holds
	if len(gone) != segment.DefaultBlockRows || rep.TreeLost != uint64(len(gone)) {
		t.Fatalf("repair lost %d events, recorded %d tree positions; want block 0's %d", len(gone), rep.TreeLost, segment.DefaultBlockRows)
	}
	checkLost := func(eraser uint64) {
		t.Helper()
		r, by := chainFindings(t, dir)
		if r.ProblemCount != 0 || r.LostCount != uint64(len(gone)) || r.ErasedCount != 0 {
			t.Fatalf("verify: %d problems (%v), %d lost, %d erased; want %d lost", r.ProblemCount, r.Problems[:min(3, len(r.Problems))], r.LostCount, r.ErasedCount, len(gone))
		}
		if !slices.Equal(slices.Sorted(maps.Keys(by)), gone) {
			t.Fatal("the positions reported lost are not the events the repair lost")
		}
		for _, e := range by {
			if e.By != "repair" || e.Eraser != eraser {
				t.Fatalf("%v: want lost to the repair recorded as %d", e, eraser)
			}
		}
	}
	checkLost(0) // no event yet: the store was not opened for writing

	db := mustOpen(t, dir, Options{AllowUnregistered: true, MaintenanceInterval: -1})
	db.Close()
	forks := forkEvents(t, dir)
	if len(forks) != 1 || forks[0].Event.Event.Reason != "repair" || forks[0].Event.Labels["lost"] != "8192" {
		t.Fatalf("fork events %+v", forks)
	}
	checkLost(forks[0].Seq)
	db = mustOpen(t, dir, Options{AllowUnregistered: true, MaintenanceInterval: -1})
	db.Close()
	if again := forkEvents(t, dir); len(again) != 1 {
		t.Fatalf("a second open recorded the fork again: %d events", len(again))
	}

	// By hand: the big segment removed from the manifest and the disk.
	m, err := readManifest(vfs.OS{}, byHand)
	if err != nil {
		t.Fatal(err)
	}
	m.Segments = slices.DeleteFunc(m.Segments, func(s segmentMeta) bool { return s.Name == big.Name })
	if err := writeManifest(vfs.OS{}, byHand, m); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(byHand, "segments", big.Name)); err != nil {
		t.Fatal(err)
	}
	r, _ := chainFindings(t, byHand)
	if len(problemsOf(r, "missing")) != big.Events || r.LostCount != 0 {
		t.Fatalf("by hand: %d missing, %d lost; want %d missing", len(problemsOf(r, "missing")), r.LostCount, big.Events)
	}
}

// TestIntegrityRepairMissingFileLabelled: a repair that drops a segment
// file gone from the disk records its events lost before the manifest
// forgets it.
func TestIntegrityRepairMissingFileLabelled(t *testing.T) {
	dir := t.TempDir()
	want, big := treeSegmentStore(t, dir)
	if err := os.Remove(filepath.Join(dir, "segments", big.Name)); err != nil {
		t.Fatal(err)
	}
	rep, err := Repair(dir, RepairOptions{})
	if err != nil || rep.TreeLost != uint64(big.Events) {
		t.Fatalf("repair: %v, %d tree positions lost, want %d", err, rep.TreeLost, big.Events)
	}
	r, by := chainFindings(t, dir)
	if gone := missingSeqs(t, dir, want); r.ProblemCount != 0 || len(gone) != big.Events || !slices.Equal(slices.Sorted(maps.Keys(by)), gone) {
		t.Fatalf("after the repair: %d problems, %d lost", r.ProblemCount, r.LostCount)
	}
}

// TestIntegrityRestoreFork: a restore from a backup whose leaf log holds
// leaves past its sequence number (it was copied while events became
// durable) records those positions lost to the restore; a head the
// original signed later, published away, is reported forked by the
// restore rather than as a problem, before and after the restored store
// goes on (its first open records the fork as an event). The same backup
// copied in by hand reads as missing events and a head past the log.
func TestIntegrityRestoreFork(t *testing.T) {
	src := t.TempDir()
	opts := backupOpts()
	opts.Integrity, opts.MaintenanceInterval = true, -1
	db := mustOpen(t, src, opts)
	appendN(t, db, 0, 50, 10)
	if _, err := db.SignHead(); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "b")
	res := mustBackup(t, db, backup)
	appendN(t, db, 50, 30, 10)
	if err := db.integrity.SyncThrough(db.published.Load()); err != nil {
		t.Fatal(err)
	}
	// The backup copies integrity/ after pinning its manifest, and the
	// sequence reservation last: what it gets when 30 events become
	// durable meanwhile.
	for _, f := range []string{filepath.Join(IntegrityDir, "leaves", "0000000000000000.leaves"), filepath.Join(walDirName, seqReservedFile)} {
		writeFile(t, filepath.Join(backup, f), readFile(t, filepath.Join(src, f)))
	}
	appendN(t, db, 80, 30, 10)
	away, err := db.SignHead() // published away from the disk
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if away.Size != 110 || res.Seq != 50 {
		t.Fatalf("head size %d, backup seq %d", away.Size, res.Seq)
	}

	byHand := crashClone(t, backup)
	os.Remove(filepath.Join(byHand, backupInfoFile))
	to := filepath.Join(t.TempDir(), "restored")
	rres, err := Restore(ctx, backup, to)
	if err != nil || rres.TreeLost != 30 {
		t.Fatalf("restore: %+v, %v; want 30 tree positions lost", rres, err)
	}
	check := func(eraser uint64) ChainReport {
		t.Helper()
		r, by := chainFindings(t, to, away)
		if r.ProblemCount != 0 || r.LostCount != 30 || len(by) != 30 {
			t.Fatalf("verify: problems %v, %d lost", r.Problems, r.LostCount)
		}
		for seq, e := range by {
			if seq <= 50 || seq > 80 || e.By != "restore" || e.Eraser != eraser {
				t.Fatalf("%v: want seq 51..80 lost to the restore recorded as %d", e, eraser)
			}
		}
		if len(r.Forked) != 1 || r.Forked[0].Head != r.Heads-1 || r.Forked[0].Size != 110 || r.Forked[0].Eraser != eraser {
			t.Fatalf("forked heads %+v (of %d), want the published one", r.Forked, r.Heads)
		}
		return r
	}
	if r := check(0); r.Forked[0].Fork != 80 {
		t.Fatalf("fork at %d before the restored store's first open, want the leaf log's end, 80", r.Forked[0].Fork)
	}
	db = mustOpen(t, to, opts)
	appendN(t, db, 200, 5, 5)
	if _, err := db.SignHead(); err != nil {
		t.Fatal(err)
	}
	db.Close()
	forks := forkEvents(t, to)
	if len(forks) != 1 || forks[0].Event.Event.Reason != "restore" || forks[0].Seq <= 80 {
		t.Fatalf("fork events %+v", forks)
	}
	if r := check(forks[0].Seq); r.Forked[0].Fork != 80 {
		t.Fatalf("fork at %d, want 80, the fork event's leaf", r.Forked[0].Fork)
	}

	r, _ := chainFindings(t, byHand, away)
	if len(problemsOf(r, "missing")) != 30 || len(problemsOf(r, "head-size")) != 1 || r.LostCount != 0 || len(r.Forked) != 0 {
		t.Fatalf("copied by hand: problems %v, %d lost, forked %v", r.Problems, r.LostCount, r.Forked)
	}
}

// TestIntegrityRepairLossCrash: a repair that stops (a failed rename
// standing for a crash) after recording its loss but before the damaged
// file moves to repaired/ has already labelled the positions; run again,
// it completes without recording them twice.
func TestIntegrityRepairLossCrash(t *testing.T) {
	dir := t.TempDir()
	want, big := treeSegmentStore(t, dir)
	path := filepath.Join(dir, "segments", big.Name)
	sal, err := segment.Salvage(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	flipAt(t, path, int64(sal.Blocks[1].Off+3))
	faulty := vfs.NewFaulty(vfs.OS{})
	faulty.FailIf(vfs.OpRename, errors.New("crash"), func(p string) bool { // the move to repaired/, not a sidecar's atomic write
		return strings.Contains(p, quarantineDir+"/") && !strings.HasSuffix(p, ".tmp")
	})
	if _, err := Repair(dir, RepairOptions{FS: faulty}); err == nil {
		t.Fatal("repair with a failing move succeeded")
	}
	rc, crashed := chainFindings(t, dir)
	if rc.ProblemCount != 0 {
		t.Fatalf("after the crash: problems %v", rc.Problems)
	}
	if _, err := Repair(dir, RepairOptions{}); err != nil {
		t.Fatal(err)
	}
	gone := missingSeqs(t, dir, want)
	if len(gone) != 1000 || !slices.Equal(slices.Sorted(maps.Keys(crashed)), gone) {
		t.Fatalf("%d events gone, %d labelled lost after the crash; want block 1's 1000", len(gone), len(crashed))
	}
	es, _, err := integrity.DecodeErasures([]byte(readFile(t, filepath.Join(dir, IntegrityDir, integrity.ErasuresFile))))
	if err != nil || len(es) != 1 || es[0].Kind != integrity.LostToRepair {
		t.Fatalf("erasure records after the rerun: %+v, %v", es, err)
	}
	if r, by := chainFindings(t, dir); r.ProblemCount != 0 || !slices.Equal(slices.Sorted(maps.Keys(by)), gone) {
		t.Fatalf("after the rerun: %d problems, %d lost", r.ProblemCount, r.LostCount)
	}
}

// TestIntegrityForkEventCrash: an open that stores the fork event but
// fails to acknowledge the loss record with it (a torn write of ERASURES,
// standing for a crash between the two) leaves the positions labelled by
// the record; the next open finds the same event again (its client id is
// derived from the record) instead of storing a second, and acknowledges
// the record with it.
func TestIntegrityForkEventCrash(t *testing.T) {
	dir := t.TempDir()
	opts := integrityOpts()
	db := mustOpen(t, dir, opts)
	appendN(t, db, 0, 20, 5)
	if err := db.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	first := db.manifest.Segments[0]
	appendN(t, db, 20, 20, 5)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "segments", first.Name)); err != nil {
		t.Fatal(err)
	}
	if rep, err := Repair(dir, RepairOptions{}); err != nil || rep.TreeLost != uint64(first.Events) {
		t.Fatalf("repair: %+v, %v", rep, err)
	}
	faulty := vfs.NewFaulty(vfs.OS{})
	faulty.FailIf(vfs.OpWrite, errors.New("crash"), func(p string) bool { return strings.HasSuffix(p, integrity.ErasuresFile) })
	fopts := opts
	fopts.FS = faulty
	db = mustOpen(t, dir, fopts) // stores the event, fails the acknowledgement
	db.Close()
	forks := forkEvents(t, dir)
	if len(forks) != 1 {
		t.Fatalf("fork events after the failed acknowledgement: %d", len(forks))
	}
	r, by := chainFindings(t, dir)
	if r.ProblemCount != 0 || len(by) != first.Events {
		t.Fatalf("after the failed acknowledgement: problems %v, %d lost", r.Problems, len(by))
	}
	for _, e := range by {
		if e.By != "repair" || e.Eraser != 0 {
			t.Fatalf("%v: want lost to a repair, not yet recorded", e)
		}
	}
	db = mustOpen(t, dir, opts)
	db.Close()
	again := forkEvents(t, dir)
	if len(again) != 1 || again[0].Seq != forks[0].Seq {
		t.Fatalf("fork events after the retry: %+v, want the first one only", again)
	}
	r, by = chainFindings(t, dir)
	if r.ProblemCount != 0 || len(by) != first.Events {
		t.Fatalf("after the retry: problems %v, %d lost", r.Problems, len(by))
	}
	for _, e := range by {
		if e.Eraser != forks[0].Seq {
			t.Fatalf("%v: want lost to the repair recorded as %d", e, forks[0].Seq)
		}
	}
	es, torn, err := integrity.DecodeErasures([]byte(readFile(t, filepath.Join(dir, IntegrityDir, integrity.ErasuresFile))))
	if err != nil || torn != 0 || len(es) != 2 || es[1].Kind != integrity.ForkRecorded {
		t.Fatalf("erasure records: %+v, torn %d, %v; want the loss and its acknowledgement", es, torn, err)
	}
}

// TestIntegrityRepairWALLossLabelled: a repair of a WAL damaged mid-log
// records the events of the unreadable record as lost before it cuts the
// log, and exactly those: the records after the damage, salvaged into
// segments, verify against their leaves.
func TestIntegrityRepairWALLossLabelled(t *testing.T) {
	src := t.TempDir()
	opts := integrityOpts()
	opts.WALMaxFileBytes = 512
	db := mustOpen(t, src, opts)
	want := map[uint64]string{}
	appendAll(t, db, bulk(60, "2024-03-01T00:00:00Z", 1), 3, want)
	if err := db.integrity.CatchUp(); err != nil { // the leaves written, as the background goroutine does
		t.Fatal(err)
	}
	dir := crashClone(t, src)
	db.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "wal", "*.wal"))
	offs, recs := walRecords(t, files[0])
	if len(recs) < 4 {
		t.Fatalf("want several records in %s, have %d", files[0], len(recs))
	}
	flipAt(t, files[0], offs[2]+walRecHeaderLen+2) // the third record's payload
	rep, err := Repair(dir, RepairOptions{})
	if err != nil || rep.WAL == nil || rep.TreeLost != uint64(recs[2].Count) {
		t.Fatalf("repair: %+v, %v; want the %d events of the damaged record lost", rep, err, recs[2].Count)
	}
	gone := missingSeqs(t, dir, want)
	r, by := chainFindings(t, dir)
	if r.ProblemCount != 0 || len(gone) != int(recs[2].Count) || !slices.Equal(slices.Sorted(maps.Keys(by)), gone) {
		t.Fatalf("verify: problems %v, lost %v; want %v", r.Problems, slices.Sorted(maps.Keys(by)), gone)
	}
}

// TestIntegrityCost: the statistics' integrity cost matches the files on
// disk (leaf log, HEADS, ERASURES, by their sizes) and counts the erased
// positions a delete records.
func TestIntegrityCost(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir, integrityOpts())
	defer db.Close()
	appendN(t, db, 0, 30, 10)
	for range 2 {
		if _, err := db.SignHead(); err != nil {
			t.Fatal(err)
		}
	}
	res, err := db.Delete(ctx, DeleteRequest{Filter: `message:"m3" or message:"m7" or message:"m11"`})
	if err != nil || res.Deleted != 3 {
		t.Fatalf("delete: %+v, %v", res, err)
	}
	if err := db.integrity.SyncThrough(db.published.Load()); err != nil {
		t.Fatal(err)
	}
	c := db.Stats().Integrity
	size := func(rel string) int64 {
		st, err := os.Stat(filepath.Join(dir, IntegrityDir, rel))
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	if c == nil || c.Leaves != 31 || c.Erased != 3 {
		t.Fatalf("cost %+v: want 31 leaves (30 events and the delete's record), 3 erased", c)
	}
	if c.LeafBytes != size("leaves/0000000000000000.leaves") || c.HeadBytes != size(integrity.HeadsFile) || c.ErasureBytes != size(integrity.ErasuresFile) {
		t.Fatalf("cost %+v: leaf log %d, heads %d, erasures %d bytes on disk", c, size("leaves/0000000000000000.leaves"), size(integrity.HeadsFile), size(integrity.ErasuresFile))
	}
	if c.BytesPerLeaf != float64(16+31*44)/31 || c.BytesPerErased != float64(c.ErasureBytes)/3 {
		t.Fatalf("cost %+v: bytes per leaf and per erased position", c)
	}
}
