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

// offloadTo is a writer's segment cache in miniature: OpenSegment reads
// the copies in src, and offload copies a segment there and writes its
// pinned part where a writer's cache keeps it (SegmentCacheDir).
type offloadTo struct {
	t        *testing.T
	dir, src string
	mu       sync.Mutex
	opened   map[string]int
}

func (o *offloadTo) open(name string) (*segment.Reader, error) {
	o.mu.Lock()
	o.opened[name]++
	o.mu.Unlock()
	return segment.Open(filepath.Join(o.src, name), segment.OpenOptions{})
}

func (o *offloadTo) offload(name string) {
	o.t.Helper()
	path := filepath.Join(o.dir, "segments", name)
	if err := os.Link(path, filepath.Join(o.src, name)); err != nil {
		o.t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		o.t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pin, err := segment.PinnedPart(f, st.Size())
	if err != nil {
		o.t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(o.dir, SegmentCacheDir), 0o755); err != nil {
		o.t.Fatal(err)
	}
	if err := os.WriteFile(offloadedPinPath(o.dir, name), pin, 0o644); err != nil {
		o.t.Fatal(err)
	}
}

// TestReopenSegmentsOffloads: a writer reopens a live segment through
// Options.OpenSegment (ReopenSegments), which removes its file from
// segments/. A read that held the segment before keeps reading all of
// it; its old reader is closed with that read. The writer then reads the
// segment through the hook, compacts it away (no file of its own to
// remove: the drop completes and retires nothing wrongly), and a reopen
// opens offloaded segments through the hook, while a store opened
// without it refuses, naming the segment; a name that is not live is
// skipped.
func TestReopenSegmentsOffloads(t *testing.T) {
	dir := t.TempDir()
	o := &offloadTo{t: t, dir: dir, src: t.TempDir(), opened: map[string]int{}}
	opts := Options{AllowUnregistered: true, MaintenanceInterval: -1, OpenSegment: o.open}
	w, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { w.Close() }()
	for i := range 3 {
		for j := range 10 {
			appendJSON(t, w, `{"@timestamp":"2024-05-01T10:%02d:%02dZ","event":{"provider":"p","action":"a"}}`, i, j)
		}
		if err := w.Roll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	segs := w.ManifestCommit().Segments
	rs, err := w.acquireSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	oldReader := rs.segments[0]
	o.offload(segs[0].Name)
	o.offload(segs[1].Name)
	if err := w.ReopenSegments(segs[0].Name, segs[1].Name, "999999999999.seg"); err != nil {
		t.Fatal(err)
	}
	for _, s := range segs[:2] {
		if _, err := os.Stat(s.Path); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s still in segments/ after its reopen (%v)", s.Name, err)
		}
	}
	if got := w.Offloaded(); len(got) != 2 || got[0] != segs[0].Name || got[1] != segs[1].Name {
		t.Fatalf("offloaded %v, want the first two segments", got)
	}
	if held := countEach(t, oldReader); held != 10 {
		t.Fatalf("the read in flight reads %d events of the reopened segment, want its 10", held)
	}
	rs.close()
	if n := oldReader.refs.Load(); n != 0 {
		t.Fatalf("the replaced reader has %d references after the read, want 0 (closed)", n)
	}
	if n, err := w.Count(ctx, FindRequest{}); err != nil || n != 30 {
		t.Fatalf("count %d, %v; want 30", n, err)
	}
	if _, err := w.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := w.Count(ctx, FindRequest{}); err != nil || n != 30 || len(w.Offloaded()) != 0 {
		t.Fatalf("after compacting the offloaded segments: count %d, %v, offloaded %v; want 30, none", n, err, w.Offloaded())
	}
	if len(w.removing) != 0 {
		t.Fatalf("segments still being removed after the compaction: %v", w.removing)
	}
	// Offload the compacted segment and reopen the store: it opens it
	// through the hook; without the hook it refuses.
	merged := w.ManifestCommit().Segments[0].Name
	o.offload(merged)
	if err := w.ReopenSegments(merged); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if _, err := Open(dir, Options{AllowUnregistered: true, MaintenanceInterval: -1}); err == nil || !strings.Contains(err.Error(), merged) || !strings.Contains(err.Error(), "offloaded") {
		t.Fatalf("opened without the hook: %v; want a refusal naming the offloaded %s", err, merged)
	}
	before := o.opened[merged]
	if w, err = Open(dir, opts); err != nil {
		t.Fatal(err)
	}
	if n, err := w.Count(ctx, FindRequest{}); err != nil || n != 30 || o.opened[merged] != before+1 {
		t.Fatalf("reopened: count %d, %v, hook opened %s %d times (before %d); want 30 and one more", n, err, merged, o.opened[merged], before)
	}
}
