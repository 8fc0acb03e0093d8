package segment_test

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/eventlogdb/eventlog/bench"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/internal/match"
	. "github.com/eventlogdb/eventlog/segment" // the benchmarks read as in-package code
)

const benchEvents = 100_000

// benchRows returns n realistic events (bench.Generator) sorted by
// (@timestamp, seq), seq being the generation order, and their total JSON
// size.
func benchRows(n int) ([]Row, int) {
	evs := make([]event.Event, n)
	bench.NewGenerator(bench.GeneratorConfig{Seed: 1}).Fill(evs)
	rows := make([]Row, n)
	jsonBytes := 0
	for i := range evs {
		rows[i] = Row{Seq: uint64(i + 1), Event: &evs[i]}
		jsonBytes += len(event.AppendJSON(nil, &evs[i]))
	}
	slices.SortFunc(rows, func(a, b Row) int {
		return match.Compare(match.Position{TS: a.Event.Timestamp.UnixNano(), Seq: a.Seq}, match.Position{TS: b.Event.Timestamp.UnixNano(), Seq: b.Seq})
	})
	return rows, jsonBytes
}

func newBenchEncoder(b *testing.B) *zstd.Encoder {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { enc.Close() })
	return enc
}

// BenchmarkWrite reports write throughput and the file size per event, for
// the flush level (SpeedFastest) and the compaction level
// (SpeedBetterCompression).
func BenchmarkWrite(b *testing.B) {
	rows, jsonBytes := benchRows(benchEvents)
	for _, lvl := range []zstd.EncoderLevel{zstd.SpeedFastest, zstd.SpeedBetterCompression} {
		b.Run(lvl.String(), func(b *testing.B) {
			enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(lvl))
			if err != nil {
				b.Fatal(err)
			}
			defer enc.Close()
			benchWrite(b, rows, jsonBytes, enc)
		})
	}
}

func benchWrite(b *testing.B, rows []Row, jsonBytes int, enc *zstd.Encoder) {
	path := filepath.Join(b.TempDir(), "seg")
	b.ReportAllocs()
	b.SetBytes(int64(jsonBytes))
	var info Info
	for b.Loop() {
		var err error
		if info, err = Write(path, rows, WriteOptions{Encoder: enc}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(info.FileBytes)/float64(len(rows)), "B/event")
	b.ReportMetric(float64(jsonBytes)/float64(len(rows)), "json-B/event")
	b.ReportMetric(float64(len(rows)*b.N)/b.Elapsed().Seconds(), "events/s")
}

func openBench(b *testing.B) (*Reader, []Row) {
	rows, _ := benchRows(benchEvents)
	path := filepath.Join(b.TempDir(), "seg")
	if _, err := Write(path, rows, WriteOptions{Encoder: newBenchEncoder(b)}); err != nil {
		b.Fatal(err)
	}
	r, err := Open(path, OpenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close() })
	return r, rows
}

func BenchmarkFind(b *testing.B) {
	r, rows := openBench(b)
	mid := rows[len(rows)/2].Event.Timestamp.UnixNano()
	cases := map[string]match.Query{
		"latest100":    {MinTS: match.MinTime, MaxTS: match.MaxTime, Desc: true, Limit: 100},
		"provider-all": {MinTS: match.MinTime, MaxTS: match.MaxTime, Groups: [][]index.Term{{{Field: "event.provider", Value: "actions"}}}},
		"failure-10s":  {MinTS: mid, MaxTS: mid + 10e9, Groups: [][]index.Term{{{Field: "event.outcome", Value: "failure"}}}},
		"ref":          {MinTS: match.MinTime, MaxTS: match.MaxTime, Groups: [][]index.Term{index.Terms(rows[0].Event)[len(index.Terms(rows[0].Event))-1:]}},
	}
	for name, q := range cases {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				hits, err := r.Find(q)
				if err != nil {
					b.Fatal(err)
				}
				n = len(hits)
			}
			b.ReportMetric(float64(n), "hits")
		})
	}
}

func BenchmarkCount(b *testing.B) {
	r, _ := openBench(b)
	q := match.Query{MinTS: match.MinTime, MaxTS: match.MaxTime, Groups: [][]index.Term{{{Field: "event.provider", Value: "actions"}}}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Count(q); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvents materializes one row, 20 rows spread over one block
// (block 2), 20 and 100 rows spread evenly over the segment, and one whole
// block.
func BenchmarkEvents(b *testing.B) {
	r, rows := openBench(b)
	blk := r.Blocks()[min(2, len(r.Blocks())-1)]
	cluster := make([]uint32, 20)
	for i := range cluster {
		cluster[i] = blk.FirstRow + uint32(i*int(blk.Rows)/len(cluster))
	}
	cases := []struct {
		name string
		rows []uint32
	}{
		{"one", []uint32{blk.FirstRow + blk.Rows/2}},
		{"cluster20", cluster},
		{"spread20", spreadRows(len(rows), 20)},
		{"spread100", spreadRows(len(rows), 100)},
		{"block", benchAllRows(int(r.Blocks()[0].Rows))},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Events(c.rows); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(c.rows)), "ns/event")
		})
	}
}

// spreadRows returns n row numbers spread evenly over events rows.
func spreadRows(events, n int) []uint32 {
	out := make([]uint32, n)
	for i := range out {
		out[i] = uint32(i * events / n)
	}
	return out
}

// BenchmarkFindEvents runs the product's point queries on one segment,
// Find then Events: the newest 20 events of the most frequent saved-object
// ref, and every event of a rare ref (one seen 2-4 times).
func BenchmarkFindEvents(b *testing.B) {
	r, rows := openBench(b)
	freq, rare := refTerms(rows)
	cases := []struct {
		name string
		q    match.Query
	}{
		{"newest20-frequent-ref", match.Query{MinTS: match.MinTime, MaxTS: match.MaxTime, Desc: true, Limit: 20, Groups: [][]index.Term{{freq}}}},
		{"all-rare-ref", match.Query{MinTS: match.MinTime, MaxTS: match.MaxTime, Groups: [][]index.Term{{rare}}}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				hits, err := r.Find(c.q)
				if err != nil {
					b.Fatal(err)
				}
				want := make([]uint32, len(hits))
				for i, h := range hits {
					want[i] = h.Row
				}
				if _, err := r.Events(want); err != nil {
					b.Fatal(err)
				}
				n = len(hits)
			}
			b.ReportMetric(float64(n), "hits")
		})
	}
}

// refTerms returns the postings terms of the most frequent saved-object ref
// of rows and of the first one seen 2-4 times.
func refTerms(rows []Row) (freq, rare index.Term) {
	counts := map[index.Term]int{}
	var order []index.Term
	for _, r := range rows {
		for _, t := range index.Terms(r.Event) {
			if t.Field == index.RefField {
				if counts[t] == 0 {
					order = append(order, t)
				}
				counts[t]++
			}
		}
	}
	for _, t := range order {
		if counts[t] > counts[freq] {
			freq = t
		}
		if rare.Field == "" && counts[t] >= 2 && counts[t] <= 4 {
			rare = t
		}
	}
	return freq, rare
}

// BenchmarkEachSeqRangeAll walks every row of the benchmark segment in
// sequence order, as a tail far behind does.
func BenchmarkEachSeqRangeAll(b *testing.B) {
	r, rows := openBench(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := r.EachSeqRange(0, math.MaxUint64, func(uint64, *event.Event) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(rows)*b.N)/b.Elapsed().Seconds(), "events/s")
}

// benchAllRows is 0..n-1.
func benchAllRows(n int) []uint32 {
	out := make([]uint32, n)
	for i := range out {
		out[i] = uint32(i)
	}
	return out
}
