package eventlog

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/eventlogdb/eventlog/segment"
)

// TestOpenSegmentHook: a read-only store with Options.OpenSegment opens
// its segments through the hook, not from its data directory (which holds
// none): at Open, each segment once; at Reload, only those the new
// manifest adds. A read in flight keeps the replaced readers until it is
// done; then they are closed and no file is removed (the hook's files are
// not the store's). A hook error fails Open, and a read-only store
// refuses OpenSegmentFile (a writer's).
func TestOpenSegmentHook(t *testing.T) {
	wdir, ndir, src := t.TempDir(), t.TempDir(), t.TempDir()
	w, err := Open(wdir, Options{AllowUnregistered: true, MaintenanceInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i := range 2 {
		for j := range 10 {
			appendJSON(t, w, `{"@timestamp":"2024-05-01T10:%02d:%02dZ","event":{"provider":"p","action":"a"}}`, i, j)
		}
		if err := w.Roll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// install copies the writer's segments to src (where the hook reads)
	// and its manifest to ndir, without segment files.
	install := func() ManifestCommit {
		c := w.ManifestCommit()
		for _, s := range c.Segments {
			if err := os.Link(s.Path, filepath.Join(src, s.Name)); err != nil && !errors.Is(err, os.ErrExist) {
				t.Fatal(err)
			}
		}
		if err := InstallManifest(ndir, c.Data); err != nil {
			t.Fatal(err)
		}
		return c
	}
	first := install()
	var mu sync.Mutex
	opened := map[string]int{}
	hook := func(name string) (*segment.Reader, error) {
		mu.Lock()
		opened[name]++
		mu.Unlock()
		return segment.Open(filepath.Join(src, name), segment.OpenOptions{})
	}
	if _, err := Open(t.TempDir(), Options{ReadOnly: true, OpenSegment: hook, OpenSegmentFile: os.Open}); err == nil || !strings.Contains(err.Error(), "on a writer") {
		t.Fatalf("a read-only store with OpenSegmentFile: %v, want a refusal naming the writer", err)
	}
	if _, err := Open(ndir, Options{ReadOnly: true, OpenSegment: func(string) (*segment.Reader, error) { return nil, errors.New("bucket down") }}); err == nil || !strings.Contains(err.Error(), "bucket down") {
		t.Fatalf("open with a failing hook: %v, want its error", err)
	}
	node, err := Open(ndir, Options{ReadOnly: true, OpenSegment: hook})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	if n, err := node.Count(ctx, FindRequest{}); err != nil || n != 20 {
		t.Fatalf("node counts %d, %v; want 20", n, err)
	}
	for _, s := range first.Segments {
		if opened[s.Name] != 1 {
			t.Fatalf("segment %s opened %d times by the hook, want once (opened: %v)", s.Name, opened[s.Name], opened)
		}
	}
	rs, err := node.acquireSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for j := range 5 {
		appendJSON(t, w, `{"@timestamp":"2024-05-02T10:00:%02dZ","event":{"provider":"p","action":"b"}}`, j)
	}
	if err := w.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	second := install()
	if err := node.Reload(RetentionPolicy{}); err != nil {
		t.Fatal(err)
	}
	added := 0
	for _, s := range second.Segments {
		if opened[s.Name] != 1 {
			t.Fatalf("segment %s opened %d times, want once", s.Name, opened[s.Name])
		}
		added++
	}
	if len(opened) != len(first.Segments)+added {
		t.Fatalf("the hook opened %v; want the first manifest's segments and the second's, once each", opened)
	}
	held := 0
	for _, s := range rs.segments {
		held += countEach(t, s)
	}
	if held != 20 {
		t.Fatalf("the read in flight reads %d events after the reload, want its 20", held)
	}
	old := rs.segments
	if containsName(second, old[0].meta.Name) {
		t.Fatalf("compaction kept %s: the test needs a replaced segment", old[0].meta.Name)
	}
	rs.close()
	for _, s := range old {
		if n := s.refs.Load(); n != 0 && !containsName(second, s.meta.Name) {
			t.Fatalf("replaced segment %s still has %d references after its last read", s.meta.Name, n)
		}
		if _, err := os.Stat(filepath.Join(src, s.meta.Name)); err != nil {
			t.Fatalf("the store removed the hook's file of %s: %v", s.meta.Name, err)
		}
	}
	if n, err := node.Count(ctx, FindRequest{}); err != nil || n != 25 {
		t.Fatalf("after the reload the node counts %d, %v; want 25", n, err)
	}
}

func containsName(c ManifestCommit, name string) bool {
	for _, s := range c.Segments {
		if s.Name == name {
			return true
		}
	}
	return false
}
