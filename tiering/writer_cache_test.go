package tiering_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/bench"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/objstore"
	"github.com/eventlogdb/eventlog/objstore/objstoretest"
	"github.com/eventlogdb/eventlog/query"
	"github.com/eventlogdb/eventlog/tiering"
)

// openCachedWriter opens (or reopens) the store in dir tiered to s with a
// segment cache of maxBytes (serve --object-store --cache-max-bytes).
func openCachedWriter(t testing.TB, dir string, s objstore.Store, maxBytes int64, opts eventlog.Options) *writer {
	t.Helper()
	w := &writer{t: t, dir: dir, cacheMax: maxBytes}
	w.start(w.config(s, time.Hour), opts)
	return w
}

// waitOffloaded waits until the bucket holds the store's latest manifest
// and every live segment is read through the cache (offloaded): the
// cache's goroutine has caught up with the publication.
func (w *writer) waitOffloaded() {
	w.t.Helper()
	w.waitPublished()
	for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		var live []string
		for _, s := range w.db.ManifestCommit().Segments {
			live = append(live, s.Name)
		}
		// The cache removes a dropped segment's pinned part at the
		// publication that drops it.
		if slices.Equal(live, w.db.Offloaded()) && w.wc.Cache().Stats().PinnedSegments == len(live) {
			return
		}
		if time.Since(start) > 20*time.Second {
			w.t.Fatalf("after 20s, %d of the %d live segments are offloaded (%v of %v)", len(w.db.Offloaded()), len(live), w.db.Offloaded(), live)
		}
	}
}

// writerDisk is what a writer's data directory holds of segments: the
// bytes of distinct segment files (a file hard-linked into the cache
// counts once) in segments/ and in the cache, and of pinned parts.
type writerDisk struct {
	local, cached, pins int64
	localFiles          int
}

func diskOf(t testing.TB, dir string) writerDisk {
	t.Helper()
	var d writerDisk
	seen := map[uint64]bool{}
	for _, sub := range []string{"segments", eventlog.SegmentCacheDir} {
		err := filepath.WalkDir(filepath.Join(dir, sub), func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() {
				return err
			}
			info, err := e.Info()
			if err != nil {
				return err
			}
			switch ino := info.Sys().(*syscall.Stat_t).Ino; {
			case strings.HasSuffix(path, ".pin"):
				d.pins += info.Size()
			case !strings.HasSuffix(path, ".seg") || seen[ino]:
			case sub == "segments":
				seen[ino] = true
				d.local += info.Size()
				d.localFiles++
			default:
				seen[ino] = true
				d.cached += info.Size()
			}
			return nil
		})
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	return d
}

// checkWriterDisk checks the local disk bound of an offloaded writer: no
// segment file left in segments/ (all are published), whole files in the
// cache within maxBytes, and the pinned part of every live segment.
func checkWriterDisk(t testing.TB, w *writer, maxBytes int64) writerDisk {
	t.Helper()
	// Queries promote hot segments in the background: compare the disk
	// with the cache's figures once they agree (no download or eviction
	// between the two looks).
	var d writerDisk
	var st tiering.CacheStats
	for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		before := w.wc.Cache().Stats()
		d = diskOf(t, w.dir)
		if st = w.wc.Cache().Stats(); st == before && st.WholeBytes == d.cached && st.PinnedBytes == d.pins {
			break
		}
		if time.Since(start) > 20*time.Second {
			break // the checks below report the disagreement
		}
	}
	live := len(w.db.ManifestCommit().Segments)
	if d.localFiles != 0 || d.cached > maxBytes || st.WholeBytes != d.cached {
		t.Fatalf("writer disk %+v: want no file in segments/ and at most %d bytes whole in the cache (its stats: %+v)", d, maxBytes, st)
	}
	if st.PinnedSegments != live || d.pins != st.PinnedBytes {
		t.Fatalf("%d pinned parts (%d bytes on disk, stats %+v); want one per live segment (%d)", st.PinnedSegments, d.pins, st, live)
	}
	return d
}

// TestS3WriterCacheAnswersAsWriter: a writer with a tiny cache
// (--cache-max-bytes 64 KiB: most published segments evicted to ranged
// reads) and a writer without one get the same random sequence of
// ingests and seals, deletes by query, compactions (which read evicted
// segments whole through the cache), retention at an advancing clock and
// restarts of the cached writer. After every step the cached writer
// answers every query of the project's query suite byte for byte as the
// other, and its local disk holds no published segment outside the
// cache, whole files within the limit, and a pinned part per segment.
// EVENTLOG_WRITER_CACHE_SEED replays a run.
func TestS3WriterCacheAnswersAsWriter(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s, err := strconv.ParseUint(os.Getenv("EVENTLOG_WRITER_CACHE_SEED"), 10, 64); err == nil {
		seed = s
	}
	t.Logf("seed %d (EVENTLOG_WRITER_CACHE_SEED=%d replays it)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	const n, maxBytes = 6000, 64 << 10
	wl, reqs := bench.SuiteRequests(1, n)
	srv := objstoretest.Start(t)
	clock := newFakeClock(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) // the workload spans January 2026
	opts := eventlog.Options{Now: clock.Now, RetentionRules: []eventlog.RetentionRule{{Filter: "event.outcome:failure", MaxAge: 20 * 24 * time.Hour}}}
	plain := openWriterOpts(t, t.TempDir(), srv.Store("plain", "w"), time.Hour, opts)
	cachedStore, cachedDir := srv.Store("cached", "w"), t.TempDir()
	cached := openCachedWriter(t, cachedDir, cachedStore, maxBytes, opts)
	both := func(f func(w *writer) error) {
		t.Helper()
		for _, w := range []*writer{plain, cached} {
			if err := f(w); err != nil {
				t.Fatal(err)
			}
		}
	}
	ctx := context.Background()
	var fetched, evictions int64
	for first, step := int64(0), 0; first < n; step++ {
		switch op := rng.IntN(10); {
		case op < 5:
			batch := make([]event.Event, min(200+rng.Int64N(600), n-first))
			wl.Fill(batch, first)
			first += int64(len(batch))
			both(func(w *writer) error {
				if _, err := w.db.Append(ctx, batch...); err != nil {
					return err
				}
				return w.db.Roll(ctx)
			})
			t.Logf("step %d: %d events sealed", step, len(batch))
		case op < 6:
			day := 1 + rng.IntN(28)
			req := eventlog.DeleteRequest{Filter: "event.outcome:success", Start: fmt.Sprintf("2026-01-%02dT00:00:00Z", day), End: fmt.Sprintf("2026-01-%02dT00:00:00Z", day+2)}
			both(func(w *writer) error { _, err := w.db.Delete(ctx, req); return err })
			t.Logf("step %d: delete %+v", step, req)
		case op < 8:
			both(func(w *writer) error { _, err := w.db.Compact(ctx); return err })
			t.Logf("step %d: compact", step)
		case op < 9:
			clock.Add(time.Duration(rng.IntN(4)) * 24 * time.Hour)
			both(func(w *writer) error { _, err := w.db.ApplyRetention(ctx); return err })
			t.Logf("step %d: retention at %s", step, clock.Now().Format(time.DateOnly))
		default:
			st := cached.wc.Cache().Stats()
			fetched, evictions = fetched+st.FetchedBytes, evictions+st.Evictions
			cached.close()
			cached = openCachedWriter(t, cachedDir, cachedStore, maxBytes, opts)
			t.Logf("step %d: cached writer restarted", step)
		}
		cached.waitOffloaded()
		for _, q := range reqs {
			want, _ := suiteAnswer(t, plain.db, q)
			got, _ := suiteAnswer(t, cached.db, q)
			if string(got) != string(want) {
				t.Fatalf("step %d: %s: the cached writer answers\n%.500s\nthe plain one\n%.500s", step, q.Name, got, want)
			}
		}
		checkWriterDisk(t, cached, maxBytes)
	}
	st := cached.wc.Cache().Stats()
	fetched, evictions = fetched+st.FetchedBytes, evictions+st.Evictions
	d := checkWriterDisk(t, cached, maxBytes)
	t.Logf("cached writer: %d live segments, disk %+v, %d bytes fetched, %d evictions; plain writer: %+v", len(cached.db.Offloaded()), d, fetched, evictions, diskOf(t, plain.dir))
	if fetched == 0 || evictions == 0 {
		t.Fatalf("%d bytes fetched, %d evictions: the evicted path was not exercised", fetched, evictions)
	}
	// The block cache is charged to the writer's memory budget, blocks
	// read while the store opened included.
	if used := cached.db.Memory().Usage()["object_store_block_cache"]; used != st.BlockCacheBytes || used == 0 {
		t.Fatalf("the memory budget charges %d bytes to the block cache, which holds %d", used, st.BlockCacheBytes)
	}
}

// exportAll exports req from db, as JSON lines.
func exportAll(t testing.TB, db *eventlog.DB, req query.Request) []byte {
	t.Helper()
	var out []byte
	err := db.Export(context.Background(), req, func(h query.Hit) error {
		b, err := json.Marshal(h)
		out = append(append(out, b...), '\n')
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// mapped reports whether this process maps a file whose path ends in
// suffix (a reader still holding an evicted file's blocks on disk).
func mapped(t testing.TB, suffix string) bool {
	t.Helper()
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(maps)) {
		if strings.HasSuffix(strings.TrimSuffix(strings.TrimSuffix(line, "\n"), " (deleted)"), suffix) {
			return true
		}
	}
	return false
}

// TestS3WriterCacheHotPromotion: a writer whose cache has room for one
// segment, every segment evicted, promotes a segment that reads keep
// fetching by ranged GETs to a whole local file while it is open (no
// restart, no new manifest): the same export then fetches nothing, and
// answers the same. Promoting a second one evicts the first, whose
// reader is reopened over its pinned part: no reader maps the evicted
// file any more, so its disk is freed, and the cache holds one segment.
func TestS3WriterCacheHotPromotion(t *testing.T) {
	srv := objstoretest.Start(t)
	s, dir := srv.Store("hot", "w"), t.TempDir()
	w := openCachedWriter(t, dir, s, 1, eventlog.Options{}) // room for none: all evicted
	for range 3 {
		w.appendSealed(300)
	}
	w.waitOffloaded()
	seq := w.seq
	w.close()
	m := latest(t, s)
	var largest int64
	for _, o := range m.Segments {
		largest = max(largest, o.Bytes)
	}
	// No block cache: a read the promotion did not move to local disk
	// fetches again.
	w = &writer{t: t, dir: dir, cacheMax: largest, blockCache: 1, seq: seq}
	w.start(w.config(s, time.Hour), eventlog.Options{})
	w.waitOffloaded()
	if st := w.wc.Cache().Stats(); st.WholeSegments != 0 {
		t.Fatalf("restarted with every segment evicted, the cache holds %+v", st)
	}
	ranges := []query.Request{ // the events of the first and second segments (appendSealed's stamps)
		{Start: "2024-05-01T14:00:01Z", End: "2024-05-01T14:05:00Z", PerPage: 1000},
		{Start: "2024-05-01T14:05:01Z", End: "2024-05-01T14:10:00Z", PerPage: 1000},
	}
	first := exportAll(t, w.db, ranges[0])
	waitCache(t, w, "the first segment promoted", func(st tiering.CacheStats) bool { return st.Downloads == 1 && st.WholeSegments == 1 })
	firstWhole := filepath.Join(eventlog.SegmentCacheDir, m.Segments[0].Name)
	for start := time.Now(); !mapped(t, firstWhole); time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("no reader maps the promoted %s: the store did not reopen it whole", firstWhole)
		}
	}
	before := w.wc.Cache().Stats()
	if again := exportAll(t, w.db, ranges[0]); string(again) != string(first) || strings.Count(string(first), "\n") != 300 {
		t.Fatalf("after promotion the export differs or is not the segment's 300 events:\n%.300s\nbefore:\n%.300s", again, first)
	}
	if st := w.wc.Cache().Stats(); st.FetchedBytes != before.FetchedBytes || st.BlockMisses != before.BlockMisses {
		t.Fatalf("the promoted segment was fetched again: %+v, before %+v", st, before)
	}
	exportAll(t, w.db, ranges[1])
	waitCache(t, w, "the second promoted, the first evicted", func(st tiering.CacheStats) bool { return st.Downloads == 2 && st.WholeSegments == 1 })
	for start := time.Now(); mapped(t, firstWhole); time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("the evicted %s is still mapped: its reader was not reopened over the pinned part", firstWhole)
		}
	}
	if d := checkWriterDisk(t, w, largest); d.cached != m.Segments[1].Bytes {
		t.Fatalf("the cache holds %d bytes whole; want the second segment's %d", d.cached, m.Segments[1].Bytes)
	}
	if again := exportAll(t, w.db, ranges[0]); string(again) != string(first) {
		t.Fatal("the evicted segment answers differently over ranged reads")
	}
}

// waitCache waits until the writer's cache figures satisfy ok.
func waitCache(t testing.TB, w *writer, what string, ok func(tiering.CacheStats) bool) {
	t.Helper()
	for start := time.Now(); !ok(w.wc.Cache().Stats()); time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("after 20s, not %s: %+v", what, w.wc.Cache().Stats())
		}
	}
}

// TestS3WriterCacheBackupVerifyRepair: with every published segment of a
// writer evicted (a 1-byte cache), compaction merges them through
// ranged reads and keeps every event; eventlog.Verify finds the data
// directory healthy (checking the pinned parts the cache keeps); Backup
// fetches the offloaded files back into a complete copy that verifies
// and opens alone with the same events; the directory opened without
// its cache refuses, naming the offloaded segment; Repair refuses
// rather than drop the offloaded segments, and changes nothing.
func TestS3WriterCacheBackupVerifyRepair(t *testing.T) {
	srv := objstoretest.Start(t)
	s, dir := srv.Store("backup", "w"), t.TempDir()
	w := openCachedWriter(t, dir, s, 1, eventlog.Options{})
	for range 4 {
		w.appendVaried(150)
	}
	w.waitOffloaded()
	ctx := context.Background()
	all := query.Request{Sort: []query.SortField{{Field: "event.sequence"}}, PerPage: 1000}
	want := exportAll(t, w.db, all)
	if strings.Count(string(want), "\n") != 600 {
		t.Fatalf("the writer exports %d events, want 600", strings.Count(string(want), "\n"))
	}
	fetched := w.wc.Cache().Stats().FetchedBytes
	res, err := w.db.Compact(ctx)
	if err != nil || res.Merges == 0 {
		t.Fatalf("compact: %+v, %v; want segments merged", res, err)
	}
	w.waitOffloaded()
	if got := exportAll(t, w.db, all); string(got) != string(want) {
		t.Fatal("after compacting evicted segments the export differs")
	}
	if w.wc.Cache().Stats().FetchedBytes == fetched {
		t.Fatal("compaction fetched nothing: it did not read the evicted segments")
	}
	checkWriterDisk(t, w, 1)
	if problems := eventlog.Verify(dir); len(problems) != 0 {
		t.Fatalf("verify of the offloaded writer: %v", problems)
	}
	backup := t.TempDir()
	if _, err := w.db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if problems := eventlog.Verify(backup); len(problems) != 0 {
		t.Fatalf("verify of the backup: %v", problems)
	}
	b, err := eventlog.Open(backup, eventlog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	got := exportAll(t, b, all)
	b.Close()
	if string(got) != string(want) {
		t.Fatal("the backup exports other events than the writer")
	}
	w.close()
	manifest, err := os.ReadFile(filepath.Join(dir, "MANIFEST"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eventlog.Open(dir, eventlog.Options{AllowUnregistered: true}); err == nil || !strings.Contains(err.Error(), "offloaded to the object store") {
		t.Fatalf("opened without its cache: %v; want a refusal naming the offloaded segment", err)
	}
	if _, err := eventlog.Repair(dir, eventlog.RepairOptions{}); err == nil || !strings.Contains(err.Error(), "offloaded") {
		t.Fatalf("repair: %v; want a refusal naming an offloaded segment", err)
	}
	if after, err := os.ReadFile(filepath.Join(dir, "MANIFEST")); err != nil || string(after) != string(manifest) {
		t.Fatalf("the refused open or repair changed the MANIFEST (%v)", err)
	}
	w = openCachedWriter(t, dir, s, 1, eventlog.Options{})
	if got := exportAll(t, w.db, all); string(got) != string(want) {
		t.Fatal("reopened with its cache, the writer exports other events")
	}
}

// TestNodeCacheHotPromotion: a query node whose cache has room for one
// segment (the newest, downloaded at start) promotes an older segment
// that an export keeps reading by ranged GETs to a whole file while it
// serves the same manifest: the node reopens it over the downloaded file
// (which it then maps), the newest is evicted and reopened over its
// pinned part (no longer mapped), and the same export answers the same
// while fetching nothing (the node runs without a block cache).
func TestNodeCacheHotPromotion(t *testing.T) {
	srv := objstoretest.Start(t)
	s := srv.Store("nodehot", "w")
	w := openWriter(t, t.TempDir(), s, time.Hour)
	for range 3 {
		w.appendSealed(300)
	}
	w.waitPublished()
	m := latest(t, s)
	var largest int64
	for _, o := range m.Segments {
		largest = max(largest, o.Bytes)
	}
	node, err := tiering.Follow(context.Background(), tiering.FollowConfig{Store: s, Dir: t.TempDir(), PollInterval: time.Hour,
		CacheMaxBytes: largest, BlockCacheBytes: 1, Options: eventlog.Options{AllowUnregistered: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	newest := filepath.Join("cache", m.Segments[2].Name)
	oldest := filepath.Join("cache", m.Segments[0].Name)
	if !mapped(t, newest) || mapped(t, oldest) {
		t.Fatalf("at start the node maps the newest segment %v and the oldest %v; want only the newest", mapped(t, newest), mapped(t, oldest))
	}
	req := query.Request{Start: "2024-05-01T14:00:01Z", End: "2024-05-01T14:05:00Z", PerPage: 1000}
	want := exportAll(t, w.db, req)
	if got := exportAll(t, node.DB(), req); string(got) != string(want) {
		t.Fatal("the node exports the first segment differently")
	}
	for start := time.Now(); !mapped(t, oldest) || mapped(t, newest); time.Sleep(5 * time.Millisecond) {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("after 20s the node maps the oldest %v, the newest %v; want the oldest promoted, the newest evicted (%+v)",
				mapped(t, oldest), mapped(t, newest), node.Cache().Stats())
		}
	}
	before := node.Cache().Stats()
	if got := exportAll(t, node.DB(), req); string(got) != string(want) {
		t.Fatal("after the promotion the node exports the segment differently")
	}
	if st := node.Cache().Stats(); st.FetchedBytes != before.FetchedBytes || st.Downloads != 2 {
		t.Fatalf("after the promotion: %+v, before %+v; want nothing fetched, two downloads (the newest at start, the promoted)", st, before)
	}
}

// TestS3WriterCacheKeepsUnpublished: with the object store down, a writer
// whose cache has room for nothing keeps the segments it sealed meanwhile
// whole in segments/ (they are only on its disk), however small the
// cache; once the store is back they are published, then offloaded, and
// every event is still there.
func TestS3WriterCacheKeepsUnpublished(t *testing.T) {
	srv := objstoretest.Start(t)
	s, dir := srv.Store("unpublished", "w"), t.TempDir()
	w := openCachedWriter(t, dir, s, 1, eventlog.Options{})
	w.appendSealed(100)
	w.waitOffloaded()
	srv.Stop()
	w.appendSealed(100)
	w.appendSealed(100)
	w.waitStatus("a backlog and failed attempts", func(st statusView) bool { return st.backlog == 2 && st.errors >= 2 })
	live := w.db.ManifestCommit().Segments
	if d := diskOf(t, dir); d.localFiles != 2 || d.local != live[1].Bytes+live[2].Bytes || len(w.db.Offloaded()) != 1 {
		t.Fatalf("with the store down: disk %+v, offloaded %v; want the two unpublished segments whole in segments/ (%d bytes), only the first offloaded",
			d, w.db.Offloaded(), live[1].Bytes+live[2].Bytes)
	}
	srv.Restart()
	w.waitOffloaded()
	checkWriterDisk(t, w, 1)
	if n, err := w.db.Count(context.Background(), eventlog.FindRequest{}); err != nil || n != 300 {
		t.Fatalf("count %d, %v; want 300", n, err)
	}
	if got := strings.Count(string(exportAll(t, w.db, query.Request{PerPage: 1000})), "\n"); got != 300 {
		t.Fatalf("export holds %d events, want 300", got)
	}
}
