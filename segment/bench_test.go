package segment

import (
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/eventlogdb/eventlog/bench"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/internal/match"
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
	sortRows(rows)
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

// BenchmarkEvents materializes 100 rows spread over the segment, then one
// whole block.
func BenchmarkEvents(b *testing.B) {
	r, rows := openBench(b)
	spread := make([]uint32, 100)
	for i := range spread {
		spread[i] = uint32(i * len(rows) / len(spread))
	}
	for name, want := range map[string][]uint32{"spread100": spread, "block": allRows(int(r.blocks[0].Rows))} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Events(want); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(want)), "ns/event")
		})
	}
}

func BenchmarkScanSeq(b *testing.B) {
	r, rows := openBench(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := r.ScanSeq(0, func(uint64, *event.Event) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(rows)*b.N)/b.Elapsed().Seconds(), "events/s")
}
