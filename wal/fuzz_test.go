package wal

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzReplay opens a log directory whose single file holds arbitrary bytes.
// It must never panic or hang; read-only, read-write and mapped
// (MapPayloads) opens must agree; and after a read-write open (which
// truncates a torn tail) the log must take an append and replay cleanly.
func FuzzReplay(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, fileName(1)), data, 0o644); err != nil {
			t.Fatal(err)
		}
		w, roGot, roErr := tryOpen(Options{Dir: dir, ReadOnly: true}, 0)
		if roErr == nil {
			w.Close()
			checkIncreasing(t, roGot)
		}
		mapped := copyDir(t, dir)
		w, mappedGot, mappedErr := tryOpen(Options{Dir: mapped, Sync: SyncNone, KeepPayloads: true, MapPayloads: true}, 0)
		if (mappedErr == nil) != (roErr == nil) {
			t.Fatalf("read-only open: %v; mapped open: %v", roErr, mappedErr)
		}
		if mappedErr == nil {
			mustClose(t, w)
			equalRecs(t, mappedGot, roGot)
		}
		w, got, err := tryOpen(Options{Dir: dir, Sync: SyncNone}, 0)
		if (err == nil) != (roErr == nil) {
			t.Fatalf("read-only open: %v; read-write open: %v", roErr, err)
		}
		if err != nil {
			return
		}
		equalRecs(t, got, roGot)
		more := appendN(t, w, 0, 1)
		mustClose(t, w)
		equalRecs(t, replayAll(t, Options{Dir: dir}), append(got, more...))
	})
}
