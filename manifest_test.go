package eventlog

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// writeManifest writes TOMBSTONES and MANIFEST.prev before MANIFEST, and
// says (vfs.ErrMaybeReplaced) when a failure came after MANIFEST's rename.
func TestWriteManifestOrderAndFailures(t *testing.T) {
	tomb := &tombstone{Seq: 5, Bound: 4, Filter: "user.name:alice", Deleted: 1}
	if err := tomb.compile(); err != nil {
		t.Fatal(err)
	}
	first := &manifest{Version: manifestVersion, NextID: 2, SealedSeq: 3, Segments: []segmentMeta{{Name: segmentName(1), Events: 3, MinSeq: 1, MaxSeq: 3}}}
	second := first.clone()
	second.SealedSeq, second.Tombstones = 5, tombstones{tomb}
	isManifest := func(p string) bool { return strings.HasPrefix(filepath.Base(p), manifestFile+".tmp") }
	cases := map[string]struct {
		fail    vfs.Op
		renamed bool // the new MANIFEST is in place
	}{
		"rename fails":   {vfs.OpRename, false},
		"dir sync fails": {vfs.OpSync, true},
		"write fails":    {vfs.OpWrite, false},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			fsys := vfs.NewFaulty(vfs.OS{})
			if err := writeManifest(fsys, dir, first); err != nil {
				t.Fatal(err)
			}
			match := isManifest
			if c.fail == vfs.OpSync { // the directory fsync after the rename
				match = func(p string) bool { return p == dir && manifestRenamed(t, dir, second) }
			}
			fsys.FailIf(c.fail, syscall.EIO, match)
			err := writeManifest(fsys, dir, second)
			if !errors.Is(err, syscall.EIO) || errors.Is(err, vfs.ErrMaybeReplaced) != c.renamed {
				t.Fatalf("err = %v, want EIO and renamed = %v", err, c.renamed)
			}
			// Whatever happened, TOMBSTONES holds the new tombstone and
			// MANIFEST.prev the first manifest.
			ts, err := readTombstonesFile(vfs.OS{}, dir)
			if err != nil || len(ts) != 1 || ts[0].Seq != 5 {
				t.Fatalf("TOMBSTONES: %v, %v", ts, err)
			}
			prev, _, err := readManifestFile(vfs.OS{}, dir, manifestPrevFile)
			if err != nil || prev.SealedSeq != first.SealedSeq {
				t.Fatalf("MANIFEST.prev: %+v, %v", prev, err)
			}
			if got := manifestRenamed(t, dir, second); got != c.renamed {
				t.Fatalf("MANIFEST is the new one: %v, want %v", got, c.renamed)
			}
		})
	}
}

// manifestRenamed reports whether dir's MANIFEST is m.
func manifestRenamed(t *testing.T, dir string, m *manifest) bool {
	t.Helper()
	got, err := readManifest(vfs.OS{}, dir)
	return err == nil && got.SealedSeq == m.SealedSeq
}

// A store's first manifest leaves MANIFEST.prev beside it, so a MANIFEST
// lost later is told from a new store (whose open would remove every
// segment as a leftover). TestDeleteHidesAtOnceAndPurges checks that a
// retired tombstone's filter is left in no file.
func TestManifestPrevFromTheStart(t *testing.T) {
	dir := t.TempDir()
	m := &manifest{Version: manifestVersion, NextID: 1}
	if err := writeManifest(vfs.OS{}, dir, m); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, manifestFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := readManifest(vfs.OS{}, dir); !errors.Is(err, errManifest) || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("read a lost MANIFEST: %v", err)
	}
}
