package segment_test

import (
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/eventlogdb/eventlog/bench"
	"github.com/eventlogdb/eventlog/event"
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
	benchWriteOpts(b, rows, jsonBytes, WriteOptions{Encoder: enc})
}

// benchWriteVersion is benchWrite of format version v at SpeedFastest.
func benchWriteVersion(b *testing.B, rows []Row, jsonBytes int, v int) {
	benchWriteOpts(b, rows, jsonBytes, WriteOptions{Encoder: newBenchEncoder(b), Version: v})
}

func benchWriteOpts(b *testing.B, rows []Row, jsonBytes int, opts WriteOptions) {
	path := filepath.Join(b.TempDir(), "seg")
	b.ReportAllocs()
	b.SetBytes(int64(jsonBytes))
	var info Info
	for b.Loop() {
		var err error
		if info, err = Write(path, rows, opts); err != nil {
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
