package tiering_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/bench"
	"github.com/eventlogdb/eventlog/objstore"
	"github.com/eventlogdb/eventlog/objstore/objstoretest"
	"github.com/eventlogdb/eventlog/query"
	"github.com/eventlogdb/eventlog/segment"
	"github.com/eventlogdb/eventlog/tiering"
)

// benchRTT is the delay the benchmark's proxy adds to every request.
const benchRTT = 10 * time.Millisecond

// benchQueries are the queries the cache benchmarks time: a page of one
// action's latest events, an aggregation over half the time span, and a
// count on an unindexed field (one column of every block).
func benchQueries(v vocabulary) map[string]query.Request {
	mid := v.minTS.Add(v.maxTS.Sub(v.minTS) / 2).Format(time.RFC3339)
	return map[string]query.Request{
		"page": {Filter: "event.action:" + v.actions[0], PerPage: 20, Sort: []query.SortField{{Field: "@timestamp", Order: "desc"}}},
		"aggs": {Start: mid, PerPage: 1, Aggs: map[string]query.Agg{
			"by_action": {Terms: &query.TermsAgg{Field: "event.action"}, Aggs: map[string]query.Agg{"dur": {Stats: &query.StatsAgg{Field: "event.duration"}}}}}},
		"count_unindexed": {Filter: "event.duration >= 1000000", PerPage: 1},
	}
}

// BenchmarkCacheQuery times queries over 4 segments of 25,000 realistic
// events in versitygw on loopback, read four ways, each over a view held
// open as a query node holds one while the manifest stays: local (the
// writer's own mapped files, no cache), warm (the segments whole in the
// local cache: the view maps the cache's files), cold (every segment
// evicted, pinned parts local, a new cache and view before each query,
// untimed: every column the query decodes is a ranged GET) and
// cold_blocks_cached (evicted, the block cache filled by one earlier run
// of the query). cold_rtt_10ms is cold through a proxy that delays every
// request by 10 ms, a cloud bucket's time to first byte. It reports the
// bytes and GETs each query fetched.
// open_view_cold times opening the view of the 4 evicted segments from
// their local pinned parts.
func BenchmarkCacheQuery(b *testing.B) {
	srv := objstoretest.Start(b)
	s := srv.Store("bench", "q")
	proxy := objstoretest.NewProxy(b, srv.Addr())
	proxy.Delay(func(*http.Request) time.Duration { return benchRTT })
	farCfg := srv.ConfigExisting("bench", "q")
	farCfg.Endpoint = "http://" + proxy.Addr()
	far, err := objstore.NewS3(farCfg)
	if err != nil {
		b.Fatal(err)
	}
	w := openWriter(b, b.TempDir(), s, time.Hour)
	g := bench.NewGenerator(bench.GeneratorConfig{Start: genStart, Rate: genRate})
	tr := &tiered{w: w}
	for range 4 {
		tr.evs = append(tr.evs, w.appendGenerated(g, 25_000)...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	w.waitPublished()
	m, err := tiering.ReadLatest(ctx, s)
	if err != nil {
		b.Fatal(err)
	}
	tr.m = m
	local := tr.localReaders(b, m)
	warmDir, coldDir := b.TempDir(), b.TempDir()
	warm, err := tiering.NewCache(tiering.CacheConfig{Store: s, Dir: warmDir, MaxBytes: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	for _, o := range m.Segments {
		if err := warm.Add(o, filepath.Join(w.dir, "segments", o.Name)); err != nil {
			b.Fatal(err)
		}
	}
	blocksCached, err := tiering.NewCache(tiering.CacheConfig{Store: s, Dir: coldDir})
	if err != nil {
		b.Fatal(err)
	}
	warmView, err := warm.OpenView(ctx, m)
	if err != nil {
		b.Fatal(err)
	}
	defer warmView.Close()
	cachedView, err := blocksCached.OpenView(ctx, m)
	if err != nil {
		b.Fatal(err)
	}
	defer cachedView.Close()
	var segBytes int64
	for _, o := range m.Segments {
		segBytes += o.Bytes
	}
	b.Run("open_view_cold", func(b *testing.B) {
		for b.Loop() {
			c, err := tiering.NewCache(tiering.CacheConfig{Store: s, Dir: coldDir})
			if err != nil {
				b.Fatal(err)
			}
			v, err := c.OpenView(ctx, m)
			if err != nil {
				b.Fatal(err)
			}
			v.Close()
		}
		b.ReportMetric(float64(segBytes), "segment-B")
		b.ReportMetric(float64(len(m.Segments)), "segments")
	})
	for qname, req := range benchQueries(vocabularyOf(tr.evs)) {
		want, err := answer(local, m.SealedSeq, req)
		if err != nil {
			b.Fatal(err)
		}
		// run times req over the readers view gives, which may make a
		// new cache: c returns the cache whose counters the query moves.
		run := func(name string, view func() ([]*segment.Reader, *tiering.Cache)) {
			b.Run(qname+"/"+name, func(b *testing.B) {
				var fetched, gets int64
				for b.Loop() {
					b.StopTimer()
					readers, c := view()
					var before tiering.CacheStats
					if c != nil {
						before = c.Stats()
					}
					b.StartTimer()
					got, err := answer(readers, m.SealedSeq, req)
					if err != nil || got != want {
						b.Fatalf("%s %s: %v, answer differs: %v", qname, name, err, got != want)
					}
					if c != nil {
						after := c.Stats()
						fetched += after.FetchedBytes - before.FetchedBytes
						gets += after.GETs - before.GETs
					}
				}
				b.ReportMetric(float64(fetched)/float64(b.N), "fetched-B/op")
				b.ReportMetric(float64(gets)/float64(b.N), "GETs/op")
			})
		}
		run("local", func() ([]*segment.Reader, *tiering.Cache) { return local, nil })
		run("warm", func() ([]*segment.Reader, *tiering.Cache) { return warmView.Readers, warm })
		var coldView *tiering.View
		cold := func(s objstore.Store) func() ([]*segment.Reader, *tiering.Cache) {
			return func() ([]*segment.Reader, *tiering.Cache) {
				if coldView != nil {
					coldView.Close()
				}
				c, err := tiering.NewCache(tiering.CacheConfig{Store: s, Dir: coldDir})
				if err != nil {
					b.Fatal(err)
				}
				if coldView, err = c.OpenView(ctx, m); err != nil {
					b.Fatal(err)
				}
				return coldView.Readers, c
			}
		}
		run("cold", cold(s))
		run("cold_rtt_10ms", cold(far))
		if _, err := answer(cachedView.Readers, m.SealedSeq, req); err != nil { // fills the block cache
			b.Fatal(err)
		}
		run("cold_blocks_cached", func() ([]*segment.Reader, *tiering.Cache) { return cachedView.Readers, blocksCached })
	}
}

// BenchmarkPinnedPartPerMillion ingests EVENTLOG_BENCH_EVENTS (default
// 1,000,000) events of the realistic generator into a store with the
// default segment size, seals them, and reports the size of the pinned
// parts (header, block index, postings, sequence index, footer) the
// local cache always keeps, per million events, beside the segments'.
func BenchmarkPinnedPartPerMillion(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("EVENTLOG_BENCH_EVENTS"); v != "" {
		fmt.Sscan(v, &n)
	}
	for b.Loop() {
		dir := b.TempDir()
		db, err := eventlog.Open(dir, eventlog.Options{AllowUnregistered: true, MaintenanceInterval: -1})
		if err != nil {
			b.Fatal(err)
		}
		g := bench.NewGenerator(bench.GeneratorConfig{Rate: bench.SpreadRate(int64(n))})
		batch := make([]eventlog.Event, 1000)
		for i := 0; i < n; i += len(batch) {
			g.Fill(batch)
			if _, err := db.Append(context.Background(), batch...); err != nil {
				b.Fatal(err)
			}
		}
		if err := db.Roll(context.Background()); err != nil {
			b.Fatal(err)
		}
		if err := db.Close(); err != nil {
			b.Fatal(err)
		}
		var pinned, total int64
		var segs int
		entries, _ := os.ReadDir(filepath.Join(dir, "segments"))
		for _, e := range entries {
			f, err := os.Open(filepath.Join(dir, "segments", e.Name()))
			if err != nil {
				b.Fatal(err)
			}
			st, _ := f.Stat()
			pin, err := segment.PinnedPart(f, st.Size())
			f.Close()
			if err != nil {
				b.Fatal(err)
			}
			pinned, total, segs = pinned+int64(len(pin)), total+st.Size(), segs+1
		}
		b.ReportMetric(float64(pinned)/float64(n)*1e6/(1<<20), "pinned-MiB/Mevent")
		b.ReportMetric(float64(total)/float64(n)*1e6/(1<<20), "segment-MiB/Mevent")
		b.ReportMetric(float64(segs), "segments")
	}
}
