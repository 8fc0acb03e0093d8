package tiering_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/memory"
	"github.com/eventlogdb/eventlog/objstore"
	"github.com/eventlogdb/eventlog/objstore/objstoretest"
	"github.com/eventlogdb/eventlog/query"
	"github.com/eventlogdb/eventlog/segment"
	"github.com/eventlogdb/eventlog/tiering"
)

// drawRequest draws a query over the generated events: term filters
// combined with and/or/not, a time range, a sort, a page and sometimes
// aggregations — the columns such queries decode vary with each.
func drawRequest(t *rapid.T, v vocabulary) query.Request {
	term := func(label string) string {
		switch rapid.IntRange(0, 4).Draw(t, label+"kind") {
		case 0:
			return "event.action:" + rapid.SampledFrom(v.actions).Draw(t, label+"action")
		case 1:
			return "event.provider:" + rapid.SampledFrom(v.providers).Draw(t, label+"provider")
		case 2:
			return "event.outcome:" + rapid.SampledFrom(v.outcomes).Draw(t, label+"outcome")
		case 3:
			return fmt.Sprintf("user.name:%q", rapid.SampledFrom(v.users).Draw(t, label+"user"))
		default:
			return "event.duration >= " + fmt.Sprint(rapid.IntRange(0, 5e9).Draw(t, label+"duration"))
		}
	}
	var req query.Request
	switch rapid.IntRange(0, 3).Draw(t, "filter") {
	case 1:
		req.Filter = term("a")
	case 2:
		req.Filter = term("a") + rapid.SampledFrom([]string{" and ", " or ", " and not "}).Draw(t, "op") + term("b")
	case 3:
		req.Filter = "not " + term("a")
	}
	span := v.maxTS.Sub(v.minTS)
	at := func(label string) string {
		f := rapid.Float64Range(0, 1).Draw(t, label)
		return v.minTS.Add(time.Duration(f * float64(span))).Format(time.RFC3339Nano)
	}
	if rapid.Bool().Draw(t, "start") {
		req.Start = at("startAt")
	}
	if rapid.Bool().Draw(t, "end") {
		req.End = at("endAt")
	}
	if req.Start > req.End && req.End != "" {
		req.Start, req.End = req.End, req.Start
	}
	switch rapid.IntRange(0, 2).Draw(t, "sort") {
	case 1:
		req.Sort = []query.SortField{{Field: "@timestamp", Order: "desc"}}
	case 2:
		req.Sort = []query.SortField{{Field: "event.duration", Order: rapid.SampledFrom([]string{"asc", "desc"}).Draw(t, "order")}}
	}
	req.PerPage = rapid.IntRange(1, 50).Draw(t, "perPage")
	req.Page = rapid.IntRange(1, 3).Draw(t, "page")
	if rapid.Bool().Draw(t, "aggs") {
		req.Aggs = map[string]query.Agg{
			"by_action": {Terms: &query.TermsAgg{Field: "event.action"}, Aggs: map[string]query.Agg{"dur": {Stats: &query.StatsAgg{Field: "event.duration"}}}},
			"per_5m":    {DateHistogram: &query.DateHistogramAgg{Interval: "5m"}},
		}
	}
	return req
}

// TestCacheRangedReadsAnswerAsLocal: ingest, seal and upload three
// segments of realistic events to versitygw; with every segment evicted
// (MaxBytes 0) a cache opens them over their pinned parts and ranged
// GETs, and random queries (filters, ranges, sorts, pages, aggregations)
// answer exactly what the writer's own files answer. The block cache is
// small, so ranges are evicted from memory and fetched again meanwhile.
func TestCacheRangedReadsAnswerAsLocal(t *testing.T) {
	srv := objstoretest.Start(t)
	s := srv.Store("cache", "q")
	tr := newTiered(t, s, 3, 10_000, time.Hour)
	local := tr.localReaders(t, tr.m)
	budget := memory.New(1 << 30)
	c := newCache(t, tiering.CacheConfig{Store: s, Dir: t.TempDir(), BlockCacheBytes: 256 << 10, Budget: budget})
	v := openView(t, c, tr.m)
	voc := vocabularyOf(tr.evs)
	var segBytes int64
	for _, o := range tr.m.Segments {
		segBytes += o.Bytes
	}
	rapid.Check(t, func(rt *rapid.T) {
		req := drawRequest(rt, voc)
		want, werr := answer(local, tr.m.SealedSeq, req)
		before := c.Stats()
		got, gerr := answer(v.Readers, tr.m.SealedSeq, req)
		if (werr == nil) != (gerr == nil) || got != want {
			rt.Fatalf("request %+v:\nevicted: %v %.400s\nlocal:   %v %.400s", req, gerr, got, werr, want)
		}
		if f := c.Stats().FetchedBytes - before.FetchedBytes; f > segBytes {
			rt.Fatalf("one query fetched %d bytes, more than the segments' %d", f, segBytes)
		}
	})
	st := c.Stats()
	if st.Hits != 0 || st.Misses != 3 || st.PinnedSegments != 3 || st.WholeSegments != 0 || st.BlockMisses == 0 || st.GETs < 9 {
		t.Fatalf("stats %+v: want 3 misses, 3 pinned parts, no whole segment, ranged reads", st)
	}
	if used := budget.Usage()["object_store_block_cache"]; used != st.BlockCacheBytes || used == 0 || used > 256<<10 {
		t.Fatalf("block cache holds %d bytes, charges the budget %d; want equal, within 256 KiB", st.BlockCacheBytes, used)
	}
	if used := budget.Usage()["object_store_pinned"]; used != st.PinnedBytes {
		t.Fatalf("the open view charges %d bytes of pinned parts, they hold %d", used, st.PinnedBytes)
	}
	v.Close()
	if used := budget.Usage()["object_store_pinned"]; used != 0 {
		t.Fatalf("after the view closed %d bytes of pinned parts stay charged", used)
	}
	t.Logf("stats after the random queries: %+v", st)
}

// TestCacheConcurrentOpens: queries racing to open the same evicted
// segments fetch each pinned part once (3 GETs each) and all answer as
// the local files do.
func TestCacheConcurrentOpens(t *testing.T) {
	s := newDirStore(t)
	tr := newTiered(t, s, 3, 2_000, time.Hour)
	req := query.Request{Filter: "event.outcome:success", PerPage: 15, Sort: []query.SortField{{Field: "event.duration", Order: "desc"}}}
	want, err := answer(tr.localReaders(t, tr.m), tr.m.SealedSeq, req)
	if err != nil {
		t.Fatal(err)
	}
	c := newCache(t, tiering.CacheConfig{Store: s, Dir: t.TempDir()})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := c.Do(context.Background(), tr.m, func(v *tiering.View) error {
				got, err := answer(v.Readers, tr.m.SealedSeq, req)
				if err == nil && got != want {
					err = fmt.Errorf("answer differs:\n got %.300s\nwant %.300s", got, want)
				}
				return err
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	st := c.Stats()
	if st.PinnedSegments != 3 || st.Misses != 24 || st.GETs-st.BlockMisses != 9 {
		t.Fatalf("stats %+v: want 24 misses and 9 GETs of pinned parts (3 per segment)", st)
	}
}

// TestCacheFetchesOnlyWhatAQueryReads: a count answered by postings
// fetches no block at all; a count on an unindexed field fetches that
// column of every block, a small part of the segments; a page of 10 hits
// fetches the columns of the blocks holding them, not the other segment;
// the same page again is served by the block cache without a GET.
func TestCacheFetchesOnlyWhatAQueryReads(t *testing.T) {
	s := newDirStore(t)
	tr := newTiered(t, s, 2, 10_000, time.Hour)
	c := newCache(t, tiering.CacheConfig{Store: s, Dir: t.TempDir()})
	v := openView(t, c, tr.m)
	voc := vocabularyOf(tr.evs)
	opened := c.Stats()
	count := query.Request{Filter: "event.provider:" + voc.providers[0]}
	res, err := query.Execute(context.Background(), query.Snapshot{Sources: sources(v.Readers), MaxSeq: tr.m.SealedSeq}, count, query.Options{NoHits: true})
	if err != nil || res.Total == 0 {
		t.Fatalf("count: %+v, %v", res, err)
	}
	if st := c.Stats(); st.GETs != opened.GETs {
		t.Fatalf("a count from postings made %d GETs", st.GETs-opened.GETs)
	}
	var segBytes int64
	for _, o := range tr.m.Segments {
		segBytes += o.Bytes
	}
	// A count on an unindexed field decodes that column of every block.
	dur := query.Request{Filter: "event.duration >= 1000000"}
	wantDur, _ := query.Execute(context.Background(), query.Snapshot{Sources: sources(tr.localReaders(t, tr.m)), MaxSeq: tr.m.SealedSeq}, dur, query.Options{NoHits: true})
	res, err = query.Execute(context.Background(), query.Snapshot{Sources: sources(v.Readers), MaxSeq: tr.m.SealedSeq}, dur, query.Options{NoHits: true})
	if err != nil || res.Total != wantDur.Total || res.Total == 0 {
		t.Fatalf("count on event.duration: %+v, %v; local %d", res, err, wantDur.Total)
	}
	counted := c.Stats()
	if f := counted.FetchedBytes - opened.FetchedBytes; f == 0 || f > segBytes/10 {
		t.Fatalf("a count on one unindexed field fetched %d bytes of %d; want one column's, under a tenth", f, segBytes)
	}
	t.Logf("segments %d bytes; a count on event.duration fetched %d bytes in %d GETs", segBytes, counted.FetchedBytes-opened.FetchedBytes, counted.GETs-opened.GETs)
	opened = counted
	page := query.Request{Filter: "event.provider:" + voc.providers[0], PerPage: 10}
	want, _ := answer(tr.localReaders(t, tr.m), tr.m.SealedSeq, page)
	got, err := answer(v.Readers, tr.m.SealedSeq, page)
	if err != nil || got != want {
		t.Fatalf("page: %v\n got %.300s\nwant %.300s", err, got, want)
	}
	first := c.Stats()
	fetched := first.FetchedBytes - opened.FetchedBytes
	if fetched == 0 || fetched > segBytes/2 {
		t.Fatalf("a page of 10 fetched %d bytes of %d; want some, under half (the hits' blocks' columns)", fetched, segBytes)
	}
	if _, err := answer(v.Readers, tr.m.SealedSeq, page); err != nil {
		t.Fatal(err)
	}
	if again := c.Stats(); again.GETs != first.GETs || again.BlockHits == first.BlockHits {
		t.Fatalf("the same page again made %d GETs and %d block hits; want 0 GETs", again.GETs-first.GETs, again.BlockHits-first.BlockHits)
	}
	t.Logf("segments %d bytes; a page of 10 fetched %d bytes in %d GETs", segBytes, fetched, first.GETs-opened.GETs)
}

func sources(rs []*segment.Reader) []query.Source {
	out := make([]query.Source, len(rs))
	for i, r := range rs {
		out[i] = r
	}
	return out
}

// TestCacheLRUModel: random opens of segments through a cache whose
// MaxBytes holds some of them keep whole on disk exactly the most
// recently opened ones that fit (a hot one, whose ranged reads fetched
// half its blocks' bytes, is downloaded back), against a list model; every reader
// answers the segment's events whichever way it was opened.
func TestCacheLRUModel(t *testing.T) {
	s := newDirStore(t)
	w := openWriter(t, t.TempDir(), s, time.Hour)
	for range 5 {
		w.appendSealed(30)
	}
	w.waitPublished()
	m := latest(t, s)
	size := m.Segments[0].Bytes
	for _, o := range m.Segments {
		size = max(size, o.Bytes)
	}
	rapid.Check(t, func(rt *rapid.T) {
		keep := rapid.IntRange(0, 3).Draw(rt, "keep")
		dir := t.TempDir()
		c, err := tiering.NewCache(tiering.CacheConfig{Store: s, Dir: dir, MaxBytes: int64(keep) * size})
		if err != nil {
			rt.Fatal(err)
		}
		defer c.Close()
		for _, o := range m.Segments { // as a writer adds what it uploaded
			if err := c.Add(o, filepath.Join(w.dir, "segments", o.Name)); err != nil {
				rt.Fatal(err)
			}
		}
		var model []string // most recent first, whole on disk
		for _, o := range m.Segments {
			model = touch(model, o.Name, keep)
		}
		fetched := map[string]bool{}
		for range rapid.IntRange(1, 30).Draw(rt, "steps") {
			i := rapid.IntRange(0, len(m.Segments)-1).Draw(rt, "segment")
			o := m.Segments[i]
			before := c.Stats()
			r, err := c.Open(context.Background(), o)
			if err != nil {
				rt.Fatal(err)
			}
			wasWhole := slices.Contains(model, o.Name)
			st := c.Stats()
			if wasWhole != (st.Hits == before.Hits+1) {
				rt.Fatalf("open %s: whole in the model %v, cache hits %d -> %d", o.Name, wasWhole, before.Hits, st.Hits)
			}
			if wasWhole || (fetched[o.Name] && keep > 0) {
				model = touch(model, o.Name, keep)
			}
			evs, err := r.Events(allRows(r.Info().Events))
			r.Close()
			if err != nil || len(evs) != 30 || !strings.Contains(evs[0].Message, "event ") {
				rt.Fatalf("events of %s: %d, %v", o.Name, len(evs), err)
			}
			if !wasWhole {
				fetched[o.Name] = true // every column of its one block
			}
			if onDisk := wholeFiles(rt, dir); !slices.Equal(onDisk, sorted(model)) {
				rt.Fatalf("after opening %s: whole on disk %v, model %v", o.Name, onDisk, sorted(model))
			}
		}
		if st := c.Stats(); st.PinnedSegments != len(m.Segments) || st.WholeSegments != len(model) {
			rt.Fatalf("stats %+v, model %v", st, model)
		}
	})
}

// touch moves name to the front of the model, keeping the first keep.
func touch(model []string, name string, keep int) []string {
	model = slices.DeleteFunc(model, func(s string) bool { return s == name })
	model = append([]string{name}, model...)
	return model[:min(len(model), keep)]
}

func wholeFiles(t *rapid.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".seg") {
			out = append(out, e.Name())
		}
	}
	return out
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

func allRows(n int) []uint32 {
	rows := make([]uint32, n)
	for i := range rows {
		rows[i] = uint32(i)
	}
	return rows
}

// TestCacheReloadsAfter404: a view of manifest N whose segments the
// writer compacted away (manifest N+1) and deleted after the grace meets
// 404 mid-query; Do reads the latest manifest and answers from it, the
// same as before the compaction. A 404 on the latest manifest is an
// error, not a loop.
func TestCacheReloadsAfter404(t *testing.T) {
	s := newDirStore(t)
	tr := newTiered(t, s, 3, 3_000, 50*time.Millisecond)
	req := query.Request{Filter: "not event.outcome:unknown", PerPage: 20, Sort: []query.SortField{{Field: "@timestamp", Order: "desc"}}}
	want, err := answer(tr.localReaders(t, tr.m), tr.m.SealedSeq, req)
	if err != nil {
		t.Fatal(err)
	}
	c := newCache(t, tiering.CacheConfig{Store: s, Dir: t.TempDir()})
	old := tr.m
	v, err := c.OpenView(context.Background(), old) // pinned parts now local
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	if res, err := tr.w.db.Compact(context.Background()); err != nil || res.Merges == 0 {
		t.Fatalf("compact: %+v, %v", res, err)
	}
	tr.w.waitPublished()
	waitDeleted(t, s, old.Segments)
	var got string
	used, err := c.Do(context.Background(), old, func(v *tiering.View) error {
		var err error
		got, err = answer(v.Readers, v.Manifest.SealedSeq, req)
		return err
	})
	if err != nil || got != want {
		t.Fatalf("Do after the old segments were deleted: %v\n got %.300s\nwant %.300s", err, got, want)
	}
	if used.Number <= old.Number || c.Stats().Reloads != 1 {
		t.Fatalf("answered from manifest %d (old %d), %d reloads; want a newer one, 1 reload", used.Number, old.Number, c.Stats().Reloads)
	}
	if err := c.Retain(used); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.PinnedSegments != len(used.Segments) {
		t.Fatalf("after Retain %d pinned parts, want %d", st.PinnedSegments, len(used.Segments))
	}
	// The bucket loses an object its latest manifest names: an error.
	if err := s.Delete(context.Background(), used.Segments[0].Key); err != nil {
		t.Fatal(err)
	}
	if err := c.Retain(&tiering.BucketManifest{}); err != nil { // forget the local pinned parts
		t.Fatal(err)
	}
	_, err = c.Do(context.Background(), nil, func(v *tiering.View) error { return nil })
	if !errors.Is(err, objstore.ErrNotFound) || !strings.Contains(err.Error(), "the latest") {
		t.Fatalf("Do with an object of the latest manifest missing: %v", err)
	}
}

// TestCacheRangedGetFailsMidQuery: with every ranged GET of a block
// failing (500 through the fault proxy, past the client's retries) after
// the view opened, a query fails with an error, never a wrong or short
// answer, and not as damage; once the server answers again the same query
// answers as the local files do.
func TestCacheRangedGetFailsMidQuery(t *testing.T) {
	srv := objstoretest.Start(t)
	proxy := objstoretest.NewProxy(t, srv.Addr())
	s, err := objstore.NewS3(srv.Config("faults", "q", proxy.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	direct, err := objstore.NewS3(srv.ConfigExisting("faults", "q"))
	if err != nil {
		t.Fatal(err)
	}
	tr := newTiered(t, direct, 2, 10_000, time.Hour)
	c := newCache(t, tiering.CacheConfig{Store: s, Dir: t.TempDir(), RequestTimeout: 5 * time.Second})
	v := openView(t, c, tr.m)
	var failing atomic.Bool
	failing.Store(true)
	proxy.Fail(func(r *http.Request) int {
		if failing.Load() && r.Method == http.MethodGet && r.Header.Get("Range") != "" && strings.Contains(r.URL.Path, "/segments/") {
			return http.StatusInternalServerError
		}
		return 0
	})
	req := query.Request{Filter: "event.outcome:failure", PerPage: 30, Aggs: map[string]query.Agg{"a": {Terms: &query.TermsAgg{Field: "event.action"}}}}
	got, err := answer(v.Readers, tr.m.SealedSeq, req)
	if err == nil || errors.Is(err, segment.ErrCorrupt) || errors.Is(err, objstore.ErrNotFound) {
		t.Fatalf("query with ranged GETs failing: %v (answer %.200s); want an I/O error", err, got)
	}
	if proxy.Faults() == 0 {
		t.Fatal("the proxy failed no request")
	}
	failing.Store(false)
	want, _ := answer(tr.localReaders(t, tr.m), tr.m.SealedSeq, req)
	if got, err := answer(v.Readers, tr.m.SealedSeq, req); err != nil || got != want {
		t.Fatalf("after the faults: %v\n got %.300s\nwant %.300s", err, got, want)
	}
}

// TestCacheRefusesBadInput: a manifest entry that is not a segment, or
// whose size is wrong, is an error naming it, and the cache keeps
// nothing of it.
func TestCacheRefusesBadInput(t *testing.T) {
	s := newDirStore(t)
	tr := newTiered(t, s, 1, 500, time.Hour)
	dir := t.TempDir()
	c := newCache(t, tiering.CacheConfig{Store: s, Dir: dir})
	o := tr.m.Segments[0]
	for name, bad := range map[string]tiering.Object{
		"key outside segments/": {Name: o.Name, Key: "manifest/LATEST", Bytes: o.Bytes, SHA256: o.SHA256},
		"too short":             {Name: o.Name, Key: o.Key, Bytes: 100, SHA256: o.SHA256},
		"too long":              {Name: o.Name, Key: o.Key, Bytes: o.Bytes + 4096, SHA256: o.SHA256},
		"shifted":               {Name: o.Name, Key: o.Key, Bytes: o.Bytes - 1, SHA256: o.SHA256},
	} {
		if r, err := c.Open(context.Background(), bad); err == nil {
			r.Close()
			t.Errorf("%s: opened", name)
		} else if !strings.Contains(err.Error(), o.Name) && !strings.Contains(err.Error(), o.Key) {
			t.Errorf("%s: error %q does not name the object", name, err)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("the cache kept %v after refusing every open", entries)
	}
	if _, err := tiering.NewCache(tiering.CacheConfig{Store: s, Dir: dir, MaxBytes: -1}); err == nil {
		t.Fatal("a negative MaxBytes was accepted")
	}
}

// newCache opens a cache with cfg, closed when the test ends.
func newCache(t testing.TB, cfg tiering.CacheConfig) *tiering.Cache {
	t.Helper()
	c, err := tiering.NewCache(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// openView opens c's view of m, closed (before c) when the test ends.
func openView(t testing.TB, c *tiering.Cache, m *tiering.BucketManifest) *tiering.View {
	t.Helper()
	v, err := c.OpenView(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	return v
}
