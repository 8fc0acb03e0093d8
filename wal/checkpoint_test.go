package wal

import (
	"path/filepath"
	"testing"
)

func TestRotationAndCheckpoint(t *testing.T) {
	opts := Options{Dir: t.TempDir(), Sync: SyncNone, MaxFileBytes: 400}
	w, _ := openLog(t, opts, 0)
	want := appendN(t, w, 0, 40)
	files := walFiles(t, opts.Dir)
	if len(files) < 4 {
		t.Fatalf("expected rotation into several files, got %d", len(files))
	}
	// Every file is named by its first record and stays within the limit
	// (a file holds at least one record).
	firsts := map[string]bool{}
	for _, r := range want {
		firsts[fileName(r.seq)] = true
	}
	for _, f := range files {
		offs, size := recordOffsets(t, f)
		if !firsts[filepath.Base(f)] {
			t.Errorf("%s is not named after a record's first seq", f)
		}
		if size > opts.MaxFileBytes && len(offs) > 1 {
			t.Errorf("%s is %d bytes with %d records, over the limit", f, size, len(offs))
		}
	}
	if st := w.Stats(); st.Files != len(files) || st.Records != 40 {
		t.Fatalf("Stats %+v, want %d files, 40 records", st, len(files))
	}

	// Checkpoint at a seq inside file 2: only files 0 and 1 are wholly covered.
	second, _ := parseFileName(filepath.Base(files[2]))
	if err := w.Checkpoint(second); err != nil {
		t.Fatal(err)
	}
	left := walFiles(t, opts.Dir)
	if len(left) != len(files)-2 || left[0] != files[2] {
		t.Fatalf("after Checkpoint(%d): %v, want files from %s", second, left, files[2])
	}
	// A checkpoint below the last record keeps the active file.
	lastWritten := want[len(want)-1].seq + uint64(want[len(want)-1].count) - 1
	if err := w.Checkpoint(lastWritten - 1); err != nil {
		t.Fatal(err)
	}
	left = walFiles(t, opts.Dir)
	if len(left) != 1 || left[0] != files[len(files)-1] {
		t.Fatalf("Checkpoint(last-1) left %v, want only the active file", left)
	}
	// A checkpoint of everything written removes the active file too; the
	// next append starts a new one.
	if err := w.Checkpoint(lastWritten); err != nil {
		t.Fatal(err)
	}
	if left = walFiles(t, opts.Dir); len(left) != 0 {
		t.Fatalf("Checkpoint(all) left %v, want no files", left)
	}
	more := appendN(t, w, 40, 3)
	mustClose(t, w)

	last := more[len(more)-1]
	wantAfter := more
	w, got := openLog(t, opts, 0)
	defer mustClose(t, w)
	equalRecs(t, got, wantAfter)
	if w.NextSeq() != last.seq+uint64(last.count) {
		t.Fatalf("NextSeq %d after checkpoint+reopen", w.NextSeq())
	}
}

func TestCoveredFiles(t *testing.T) {
	files := []*logFile{{seq: 1}, {seq: 10}, {seq: 20}, {seq: 30}}
	for seq, want := range map[uint64]int{0: 0, 8: 0, 9: 1, 19: 2, 29: 3, 1000: 3} {
		if got := coveredFiles(files, seq); got != want {
			t.Errorf("coveredFiles(%d) = %d, want %d", seq, got, want)
		}
	}
	if coveredFiles(files[:1], 1000) != 0 {
		t.Error("the only file was covered")
	}
}

// TestLargeRecordOwnFile: a record larger than MaxFileBytes gets a file of
// its own and replays.
func TestLargeRecordOwnFile(t *testing.T) {
	opts := Options{Dir: t.TempDir(), Sync: SyncNone, MaxFileBytes: 100}
	w, _ := openLog(t, opts, 0)
	var want []rec
	for i, n := range []int{10, 500, 20, 700} {
		p := make([]byte, n)
		p[0] = byte(i)
		seq, err := w.Append(1, p, nil)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, rec{seq, 1, string(p)})
	}
	mustClose(t, w)
	equalRecs(t, replayAll(t, opts), want)
	if n := len(walFiles(t, opts.Dir)); n != 4 {
		t.Fatalf("%d files, want 4", n)
	}
}

// TestRotateLetsCheckpointRemoveRecords: after Rotate, later records go to
// a new file, and a checkpoint covering the rotated file's records removes
// it even while nothing was appended since (it is then the last file).
func TestRotateLetsCheckpointRemoveRecords(t *testing.T) {
	opts := Options{Dir: t.TempDir(), Sync: SyncNone}
	w, _ := openLog(t, opts, 0)
	defer mustClose(t, w)
	old := appendN(t, w, 0, 3)
	lastOld := old[len(old)-1].seq + uint64(old[len(old)-1].count) - 1
	if w.FirstSeq() != old[0].seq {
		t.Fatalf("FirstSeq %d, want %d", w.FirstSeq(), old[0].seq)
	}
	if err := w.Rotate(); err != nil {
		t.Fatal(err)
	}
	if err := w.Rotate(); err != nil { // nothing active: no-op
		t.Fatal(err)
	}
	if err := w.Checkpoint(lastOld); err != nil {
		t.Fatal(err)
	}
	if left := walFiles(t, opts.Dir); len(left) != 0 || w.FirstSeq() != 0 {
		t.Fatalf("checkpoint of the rotated file left %v (FirstSeq %d)", left, w.FirstSeq())
	}
	more := appendN(t, w, 3, 2)
	if err := w.Rotate(); err != nil {
		t.Fatal(err)
	}
	newer := appendN(t, w, 5, 2)
	if files := walFiles(t, opts.Dir); len(files) != 2 || w.FirstSeq() != more[0].seq {
		t.Fatalf("after rotating between appends: %v, FirstSeq %d", files, w.FirstSeq())
	}
	if err := w.Checkpoint(newer[0].seq - 1); err != nil {
		t.Fatal(err)
	}
	if left := walFiles(t, opts.Dir); len(left) != 1 || w.FirstSeq() != newer[0].seq {
		t.Fatalf("checkpoint past the rotated file left %v, FirstSeq %d", left, w.FirstSeq())
	}
}
