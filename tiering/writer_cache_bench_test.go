package tiering_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/bench"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/objstore/objstoretest"
	"github.com/eventlogdb/eventlog/query"
)

// BenchmarkWriterCache writes the same 4 segments of 25,000 realistic
// events to three writers on versitygw (loopback): local (no cache:
// every segment whole in segments/), warm (a 1 GiB --cache-max-bytes:
// every published segment whole in its cache) and cold (a 1-byte cache
// and block cache: every segment evicted, each column a query decodes a
// ranged GET). "disk" reports the segment bytes each keeps on local disk
// (disk-B: whole files; pinned-B: pinned parts). Then it times the
// cache benchmarks' queries on each writer's DB, answers checked equal,
// reporting the bytes and GETs each query fetched from the bucket.
func BenchmarkWriterCache(b *testing.B) {
	srv := objstoretest.Start(b)
	g := bench.NewGenerator(bench.GeneratorConfig{Start: genStart, Rate: genRate})
	evs := make([]event.Event, 100_000)
	g.Fill(evs)
	writers := map[string]*writer{}
	for _, c := range []struct {
		name            string
		max, blockCache int64
	}{{"local", 0, 0}, {"warm", 1 << 30, 0}, {"cold", 1, 1}} {
		w := &writer{t: b, dir: b.TempDir(), cacheMax: c.max, blockCache: c.blockCache}
		w.start(w.config(srv.Store("wc-"+c.name, "w"), time.Hour), eventlog.Options{})
		for seg := range 4 {
			part := evs[seg*25_000 : (seg+1)*25_000]
			for i := 0; i < len(part); i += 1000 {
				if _, err := w.db.Append(context.Background(), part[i:i+1000]...); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.db.Roll(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
		if w.wc != nil {
			w.waitOffloaded()
		} else {
			w.waitPublished()
		}
		writers[c.name] = w
	}
	for _, name := range []string{"local", "warm", "cold"} {
		b.Run("disk/"+name, func(b *testing.B) {
			var d writerDisk
			for b.Loop() {
				d = diskOf(b, writers[name].dir)
			}
			b.ReportMetric(float64(d.local+d.cached), "disk-B")
			b.ReportMetric(float64(d.pins), "pinned-B")
		})
	}
	for qname, req := range benchQueries(vocabularyOf(evs)) {
		want := writerAnswer(b, writers["local"].db, req)
		for _, name := range []string{"local", "warm", "cold"} {
			w := writers[name]
			b.Run(qname+"/"+name, func(b *testing.B) {
				var fetched, gets int64
				for b.Loop() {
					var before, after int64
					var beforeGETs, afterGETs int64
					if w.wc != nil {
						st := w.wc.Cache().Stats()
						before, beforeGETs = st.FetchedBytes, st.GETs
					}
					if got := writerAnswer(b, w.db, req); got != want {
						b.Fatalf("%s on the %s writer answers differently", qname, name)
					}
					if w.wc != nil {
						st := w.wc.Cache().Stats()
						after, afterGETs = st.FetchedBytes, st.GETs
					}
					fetched, gets = fetched+after-before, gets+afterGETs-beforeGETs
				}
				b.ReportMetric(float64(fetched)/float64(b.N), "fetched-B/op")
				b.ReportMetric(float64(gets)/float64(b.N), "GETs/op")
			})
		}
	}
}

// writerAnswer is db's answer to req, as JSON.
func writerAnswer(b *testing.B, db *eventlog.DB, req query.Request) string {
	b.Helper()
	res, err := db.Query(context.Background(), req)
	if err != nil {
		b.Fatal(err)
	}
	out, err := json.Marshal(res)
	if err != nil {
		b.Fatal(err)
	}
	return string(out)
}
