package wal

import (
	"os"
	"path/filepath"
	"testing"
)

// TestSnapshotPinsFilesAgainstCheckpoint: a snapshot closes the active
// file, lists the files holding records after its floor with their final
// sizes, and keeps them from Checkpoint until released; later records go
// to a new file the snapshot does not list.
func TestSnapshotPinsFilesAgainstCheckpoint(t *testing.T) {
	opts := Options{Dir: t.TempDir(), Sync: SyncNone}
	w, _ := openLog(t, opts, 0)
	defer mustClose(t, w)
	first := appendN(t, w, 0, 3)
	if err := w.Rotate(); err != nil {
		t.Fatal(err)
	}
	second := appendN(t, w, 3, 2)
	lastFirst := second[0].seq - 1
	s, err := w.Snapshot(lastFirst) // the first file is wholly at or below the floor
	if err != nil {
		t.Fatal(err)
	}
	last := second[1].seq + uint64(second[1].count) - 1
	if s.LastSeq != last || len(s.Files) != 1 || filepath.Base(s.Files[0].Path) != fileName(second[0].seq) {
		t.Fatalf("snapshot: last %d files %+v, want last %d and only %s", s.LastSeq, s.Files, last, fileName(second[0].seq))
	}
	later := appendN(t, w, 5, 2)
	if later[0].seq != last+1 || len(walFiles(t, opts.Dir)) != 3 {
		t.Fatalf("after the snapshot: seq %d files %v, want a new file from %d", later[0].seq, walFiles(t, opts.Dir), last+1)
	}
	if err := w.Checkpoint(later[1].seq); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(s.Files[0].Path)
	if err != nil || info.Size() != s.Files[0].Size {
		t.Fatalf("pinned file after checkpoint: %v %v, want %d bytes", info, err, s.Files[0].Size)
	}
	if _, err := os.Stat(filepath.Join(opts.Dir, fileName(first[0].seq))); !os.IsNotExist(err) {
		t.Fatalf("the file below the floor survived the checkpoint: %v", err)
	}
	s.Release()
	s.Release() // idempotent
	if err := w.Checkpoint(later[0].seq - 1); err != nil {
		t.Fatal(err)
	}
	if files := walFiles(t, opts.Dir); len(files) != 1 || filepath.Base(files[0]) != fileName(later[0].seq) {
		t.Fatalf("after release and checkpoint: %v, want only %s", files, fileName(later[0].seq))
	}
}
