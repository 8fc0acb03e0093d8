package eventlog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/eventlogdb/eventlog/event"
)

// followerOf copies what a bucket manifest carries of the writer's
// latest commit into dir (segments linked: they never change), as
// package tiering's follower installs one.
func followerOf(t *testing.T, writer *DB, dir string) ManifestCommit {
	t.Helper()
	c := writer.ManifestCommit()
	if err := os.MkdirAll(filepath.Join(dir, "segments"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range c.Segments {
		dst := filepath.Join(dir, "segments", s.Name)
		if _, err := os.Stat(dst); errors.Is(err, fs.ErrNotExist) {
			if err := os.Link(s.Path, dst); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := InstallManifest(dir, c.Data); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestReloadSwapsUnderReaders: a read holding the previous view keeps
// its segments (open, their files on disk) across a Reload that drops
// them; the files go when it lets go, and a new read sees the new set.
// A writable store refuses Reload.
func TestReloadSwapsUnderReaders(t *testing.T) {
	wdir, ndir := t.TempDir(), t.TempDir()
	w, err := Open(wdir, Options{AllowUnregistered: true, MaintenanceInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Reload(RetentionPolicy{}); err == nil {
		t.Fatal("a writable store reloaded")
	}
	for i := range 2 {
		for j := range 10 {
			appendJSON(t, w, `{"@timestamp":"2024-05-01T10:%02d:%02dZ","event":{"provider":"p","action":"a"}}`, i, j)
		}
		if err := w.Roll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	first := followerOf(t, w, ndir)
	if len(first.Segments) != 2 {
		t.Fatalf("%d segments, want 2", len(first.Segments))
	}
	node, err := Open(ndir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	rs, err := node.acquireSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	second := followerOf(t, w, ndir)
	if len(second.Segments) != 1 {
		t.Fatalf("after compaction %d segments, want 1", len(second.Segments))
	}
	if err := node.Reload(RetentionPolicy{}); err != nil {
		t.Fatal(err)
	}
	held := 0
	for _, s := range rs.segments {
		if _, err := os.Stat(s.path); err != nil {
			t.Fatalf("segment %s of a read in flight is gone: %v", s.meta.Name, err)
		}
		held += s.meta.Events
		if n := countEach(t, s); n != s.meta.Events {
			t.Fatalf("the old view reads %d events of %s, want %d", n, s.meta.Name, s.meta.Events)
		}
	}
	if held != 20 {
		t.Fatalf("the old view holds %d events, want 20", held)
	}
	rs.close()
	for _, s := range first.Segments {
		if _, err := os.Stat(filepath.Join(ndir, "segments", s.Name)); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("dropped segment %s still on disk after its last reader: %v", s.Name, err)
		}
	}
	if n, err := node.Count(ctx, FindRequest{}); err != nil || n != 20 || len(node.Segments()) != 1 {
		t.Fatalf("after the reload the node counts %d, %v over %d segments; want 20 over 1", n, err, len(node.Segments()))
	}
}

// countEach counts the events s holds.
func countEach(t *testing.T, s *liveSegment) int {
	t.Helper()
	n := 0
	if err := s.r.Each(func(uint64, *event.Event) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// appendJSON appends the event format describes.
func appendJSON(t *testing.T, db *DB, format string, args ...any) {
	t.Helper()
	ev, err := event.Decode(fmt.Appendf(nil, format, args...), event.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Append(ctx, ev); err != nil {
		t.Fatal(err)
	}
}
