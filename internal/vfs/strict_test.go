package vfs

import (
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// tree reads every file under dir into a map of relative path → content.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			out[rel+"/"] = ""
			return nil
		}
		b, err := os.ReadFile(p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func writeSynced(t *testing.T, s *Strict, path, data string, sync bool) File {
	t.Helper()
	f, err := s.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
	if sync {
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// TestStrictKeepsOnlyWhatWasSynced walks the cases of Linux's fsync
// contract, each checked against the tree a power cut must leave.
func TestStrictKeepsOnlyWhatWasSynced(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "old"), []byte("before"), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := NewStrict(OS{}, root)
	if err != nil {
		t.Fatal(err)
	}
	j := func(p string) string { return filepath.Join(root, p) }
	cases := []struct {
		name string
		step func()
		want map[string]string
	}{
		{"existing files are durable", func() {}, map[string]string{"old": "before"}},
		{"a synced file without a synced directory is gone", func() {
			writeSynced(t, s, j("a"), "A", true).Close()
		}, map[string]string{"old": "before"}},
		{"a synced directory names it", func() {
			s.SyncDir(root)
		}, map[string]string{"old": "before", "a": "A"}},
		{"unsynced appends are dropped", func() {
			writeSynced(t, s, j("a"), "more", false).Close()
		}, map[string]string{"old": "before", "a": "A"}},
		{"a rename needs its directory synced", func() {
			s.Rename(j("a"), j("b"))
		}, map[string]string{"old": "before", "a": "A"}},
		{"and then holds the file's synced data", func() {
			s.SyncDir(root)
		}, map[string]string{"old": "before", "b": "A"}},
		{"a new directory needs its parent synced", func() {
			s.MkdirAll(j("d/e"), 0o755)
			s.SyncDir(j("d"))
		}, map[string]string{"old": "before", "b": "A"}},
		{"parent synced: directories and synced entries appear", func() {
			writeSynced(t, s, j("d/e/f"), "F", true).Close()
			s.SyncDir(j("d/e"))
			s.SyncDir(root)
		}, map[string]string{"old": "before", "b": "A", "d/": "", "d/e/": "", "d/e/f": "F"}},
		{"a remove without a synced directory leaves the file", func() {
			s.Remove(j("old"))
		}, map[string]string{"old": "before", "b": "A", "d/": "", "d/e/": "", "d/e/f": "F"}},
		{"with it the file goes", func() {
			s.SyncDir(root)
		}, map[string]string{"b": "A", "d/": "", "d/e/": "", "d/e/f": "F"}},
	}
	for i, c := range cases {
		c.step()
		dst := filepath.Join(t.TempDir(), "clone")
		if err := s.CrashClone(dst, nil); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := tree(t, dst); !maps.Equal(got, c.want) {
			t.Fatalf("step %d, %s: clone holds %v, want %v", i, c.name, got, c.want)
		}
	}
}

// TestStrictTearsAppendsAndCutsAtOps: a torn clone keeps the synced
// content and a prefix of the unsynced append; a hook cuts power just
// before a chosen operation.
func TestStrictTearsAppendsAndCutsAtOps(t *testing.T) {
	root := t.TempDir()
	s, err := NewStrict(OS{}, root)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, "log")
	f := writeSynced(t, s, path, "synced|", true)
	s.SyncDir(root)
	if _, err := f.Write([]byte("unsynced")); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i := range 50 {
		dst := filepath.Join(t.TempDir(), "c")
		if err := s.CrashClone(dst, rand.New(rand.NewPCG(uint64(i), 0))); err != nil {
			t.Fatal(err)
		}
		got := tree(t, dst)["log"]
		if len(got) < len("synced|") || got != "synced|unsynced"[:len(got)] {
			t.Fatalf("torn clone holds %q", got)
		}
		seen[got] = true
	}
	if len(seen) < 3 {
		t.Fatalf("50 torn clones gave only %v", seen)
	}
	f.Close()

	var cuts []Op
	s.OnOp(func(op Op, p string, n int) {
		cuts = append(cuts, op)
		if op == OpSync && p == path {
			if err := s.CrashCloneLocked(filepath.Join(root+"-cut"), nil); err != nil {
				t.Error(err)
			}
		}
	})
	t.Cleanup(func() { os.RemoveAll(root + "-cut") })
	writeSynced(t, s, path, "second", true).Close()
	if want := []Op{OpCreate, OpWrite, OpSync}; !slices.Equal(cuts, want) {
		t.Fatalf("ops %v, want %v", cuts, want)
	}
	if got := tree(t, root+"-cut")["log"]; got != "synced|" {
		t.Fatalf("cut before the second sync left %q", got)
	}
}

// TestStrictRenamedDirectory: a file synced after its directory was renamed
// is found under the new name.
func TestStrictRenamedDirectory(t *testing.T) {
	root := t.TempDir()
	s, err := NewStrict(OS{}, root)
	if err != nil {
		t.Fatal(err)
	}
	j := func(p string) string { return filepath.Join(root, p) }
	if err := s.MkdirAll(j("d"), 0o755); err != nil {
		t.Fatal(err)
	}
	f := writeSynced(t, s, j("d/f"), "one", true)
	s.SyncDir(j("d"))
	if err := s.Rename(j("d"), j("e")); err != nil {
		t.Fatal(err)
	}
	s.SyncDir(root)
	if _, err := f.Write([]byte("two")); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	dst := filepath.Join(t.TempDir(), "clone")
	if err := s.CrashClone(dst, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := tree(t, dst), map[string]string{"e/": "", "e/f": "onetwo"}; !maps.Equal(got, want) {
		t.Fatalf("clone holds %v, want %v", got, want)
	}
}
