package tiering_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/objstore"
	"github.com/eventlogdb/eventlog/query"
	"github.com/eventlogdb/eventlog/tiering"
)

// followCached starts a follower of s with a cache of maxBytes in dir,
// closed at the end.
func followCached(t *testing.T, s objstore.Store, dir string, clock func() time.Time, poll time.Duration, maxBytes int64) *tiering.Follower {
	t.Helper()
	f, err := tiering.Follow(context.Background(), tiering.FollowConfig{Store: s, Dir: dir, PollInterval: poll, Now: clock,
		CacheMaxBytes: maxBytes, MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		Options: eventlog.Options{AllowUnregistered: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// nodeDisk sums the sizes of the files under dir: segment files (.seg,
// wherever they are), pinned parts (.pin) and the rest.
func nodeDisk(t *testing.T, dir string) (segs, pins, other int64) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case strings.HasSuffix(path, ".seg"):
			segs += info.Size()
		case strings.HasSuffix(path, ".pin"):
			pins += info.Size()
		default:
			other += info.Size()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return segs, pins, other
}

// checkCachedDisk requires a cached node's directory to hold at most
// maxBytes of whole segments (fewer than the manifest's) plus one pinned
// part per segment, and its queries to have read evicted segments by
// ranged GETs.
func checkCachedDisk(t *testing.T, node *tiering.Follower, dir string, m *tiering.BucketManifest, maxBytes int64) {
	t.Helper()
	var total int64
	for _, o := range m.Segments {
		total += o.Bytes
	}
	// A retired segment's pinned part goes when the last reader of it
	// closes, which a query that started before the new manifest may do
	// just after the node serves it: wait for that, within a bound.
	segs, pins, other := nodeDisk(t, dir)
	st := node.Cache().Stats()
	for deadline := time.Now().Add(10 * time.Second); st.PinnedSegments != len(m.Segments) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		segs, pins, other = nodeDisk(t, dir)
		st = node.Cache().Stats()
	}
	t.Logf("node directory: %d bytes of whole segments (limit %d, the manifest's %d), %d of pinned parts, %d other; cache %+v",
		segs, maxBytes, total, pins, other, st)
	if segs > maxBytes || segs >= total {
		t.Fatalf("the node holds %d bytes of whole segments; want at most the limit %d and fewer than all %d", segs, maxBytes, total)
	}
	if st.PinnedSegments != len(m.Segments) || pins != st.PinnedBytes {
		t.Fatalf("%d pinned parts of %d bytes on disk (stats %+v); want one per segment of the manifest (%d)", st.PinnedSegments, pins, st, len(m.Segments))
	}
	if entries, err := os.ReadDir(filepath.Join(dir, "segments")); err != nil || len(entries) != 0 {
		t.Fatalf("segments/ of a cached node holds %d files (%v); want none", len(entries), err)
	}
	if st.BlockMisses == 0 {
		t.Fatalf("no ranged read served a query (stats %+v): the evicted path was not exercised", st)
	}
}

// TestNodeCacheSegmentGone: a node with a cache lags (it polls hourly)
// while the writer compacts and, its grace past, deletes the segments
// the node serves. A query that needs their blocks fails with an error
// matching tiering.ErrSegmentGone (and objstore.ErrNotFound), and the
// node polls at once by itself: it then serves the latest manifest, and
// the same query answers as the writer's.
func TestNodeCacheSegmentGone(t *testing.T) {
	s := newDirStore(t)
	w := openWriter(t, t.TempDir(), s, time.Millisecond)
	w.appendSealed(30)
	w.appendSealed(30)
	w.waitPublished()
	first := latest(t, s)
	node := followCached(t, s, t.TempDir(), nil, time.Hour, 1) // 1 byte: every segment read by ranged GETs
	if st := node.Status(); st.Manifest != first.Number {
		t.Fatalf("node serves manifest %d, want %d", st.Manifest, first.Number)
	}
	// Every segment is open over its pinned part, heap memory the store
	// charges to its budget (segment.Reader.MemoryBytes).
	if used, pinned := node.DB().Memory().Usage()[eventlog.AccountSegments], node.Cache().Stats().PinnedBytes; used < pinned {
		t.Fatalf("the store charges %d bytes for its open segments, less than their pinned parts' %d", used, pinned)
	}
	if _, err := w.db.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.waitPublished()
	second := latest(t, s)
	waitDeleted(t, s, first.Segments)
	req := query.Request{PerPage: 100}
	_, err := node.DB().Query(context.Background(), req)
	if !errors.Is(err, tiering.ErrSegmentGone) || !errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("query over deleted segments: %v; want an error matching ErrSegmentGone and ErrNotFound", err)
	}
	waitServing(t, node, second.Number) // no Poll by the test: the 404 made it
	if st := node.Status(); st.Manifest != second.Number {
		t.Fatalf("node status %+v, want manifest %d", st, second.Number)
	}
	sameAnswers(t, w.db, node.DB())
	if n, err := node.DB().Count(context.Background(), eventlog.FindRequest{}); err != nil || n != 60 {
		t.Fatalf("node counts %d, %v; want 60", n, err)
	}
}

// TestNodeCacheMissingSegmentReloads: with a cache, a segment deleted
// from the bucket between the node reading a manifest and fetching the
// segment's pinned part (as the store reloads) makes the node read the
// latest manifest again and serve that one, as a node without a cache
// does when a download meets the 404.
func TestNodeCacheMissingSegmentReloads(t *testing.T) {
	checkMissingSegmentReloads(t, func(s objstore.Store) *tiering.Follower {
		return followCached(t, s, t.TempDir(), nil, time.Hour, 1) // polled by hand
	})
}

// TestNodeCacheRestarts: one node directory run in turn without a cache,
// with one, with one again, and without: switching to the cache takes the
// segments downloaded whole into it (within the limit) rather than
// fetching them again; a restart with the cache fetches nothing of the
// segments (whole files and pinned parts are on disk); switching back
// removes cache/. Every run answers as the writer.
func TestNodeCacheRestarts(t *testing.T) {
	s := newDirStore(t)
	w := openWriter(t, t.TempDir(), s, time.Hour)
	for range 4 {
		w.appendSealed(30)
	}
	w.waitPublished()
	m := latest(t, s)
	var largest int64
	for _, o := range m.Segments {
		largest = max(largest, o.Bytes)
	}
	limit := 2 * largest // room for two whole segments, not four
	dir := t.TempDir()
	// run starts the node and returns it with its cache's figures before
	// any query (the queries' ranged reads come after).
	run := func(cache int64) (*tiering.Follower, tiering.CacheStats) {
		t.Helper()
		f, err := tiering.Follow(context.Background(), tiering.FollowConfig{Store: s, Dir: dir, PollInterval: time.Hour, CacheMaxBytes: cache,
			Options: eventlog.Options{AllowUnregistered: true}})
		if err != nil {
			t.Fatal(err)
		}
		var st tiering.CacheStats
		if f.Cache() != nil {
			st = f.Cache().Stats()
		}
		sameAnswers(t, w.db, f.DB())
		return f, st
	}
	closeNode := func(f *tiering.Follower) {
		t.Helper()
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	f, _ := run(0)
	closeNode(f)
	if entries, _ := os.ReadDir(filepath.Join(dir, "segments")); len(entries) != len(m.Segments) {
		t.Fatalf("a node without a cache holds %d segment files, want %d", len(entries), len(m.Segments))
	}

	f, st := run(limit)
	segs, _, _ := nodeDisk(t, dir)
	if st.Downloads != 0 || st.WholeSegments != 2 || segs > limit {
		t.Fatalf("switched to a cache of %d bytes: %+v, %d bytes of whole segments; want two segments adopted, none downloaded", limit, st, segs)
	}
	if entries, _ := os.ReadDir(filepath.Join(dir, "segments")); len(entries) != 0 {
		t.Fatalf("segments/ still holds %d files with a cache", len(entries))
	}
	closeNode(f)

	f, st = run(limit)
	if st.GETs != 0 || st.WholeSegments != 2 || st.PinnedSegments != len(m.Segments) {
		t.Fatalf("restarted with its cache: %+v; want no GET of a segment before a query (all on disk)", st)
	}
	closeNode(f)

	f, _ = run(0)
	closeNode(f)
	if _, err := os.Stat(filepath.Join(dir, "cache")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("cache/ outlives a run without a cache: %v", err)
	}
}
