package event_test

import (
	"testing"

	"github.com/eventlogdb/eventlog/bench"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/cputime"
)

// realisticDocs returns n JSON documents of bench's realistic events:
// alerts, task runs and actions of several shapes, in one stream, as a
// _bulk body holds them.
func realisticDocs(n int) [][]byte {
	g := bench.NewGenerator(bench.GeneratorConfig{Seed: 1})
	docs := make([][]byte, n)
	for i := range docs {
		ev := g.Next()
		docs[i] = event.AppendJSON(nil, &ev)
	}
	return docs
}

// BenchmarkDecoderRealistic is one _bulk decode worker's JSON decoding:
// a reused Decoder reads realistic documents of mixed shapes, in chunks
// of 1024 (Reuse between chunks), as the server does. One op is one
// document; cpu-ns/doc is the process's CPU time, steadier than the wall
// time on a loaded machine.
//
//	go test ./event -run '^$' -bench DecoderRealistic -benchtime 400000x -count 5
func BenchmarkDecoderRealistic(b *testing.B) {
	const chunk = 1024
	docs := realisticDocs(16 * chunk)
	var size int
	for _, d := range docs {
		size += len(d)
	}
	b.SetBytes(int64(size / len(docs)))
	b.ReportAllocs()
	x := event.NewDecoder(event.DecodeOptions{Shared: true})
	i, cpu := 0, cputime.Process()
	for b.Loop() {
		if i%chunk == 0 {
			x.Reuse()
		}
		if _, err := x.Next(docs[i%len(docs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64((cputime.Process()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/doc")
}

// BenchmarkAppendBinaryRealistic is the binary encoding of a _bulk
// decode worker (BatchPart.Add): realistic events of mixed shapes
// encoded one after another into one buffer. There are 512 of them, so
// that they stay in the cache as an event the worker has just decoded
// does. One op is one event.
//
//	go test ./event -run '^$' -bench AppendBinaryRealistic -benchtime 2000000x -count 5
func BenchmarkAppendBinaryRealistic(b *testing.B) {
	docs := realisticDocs(512)
	events := make([]event.Event, len(docs))
	for i, d := range docs {
		var err error
		if events[i], err = event.Decode(d, event.Limits{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	var buf []byte
	i, cpu := 0, cputime.Process()
	for b.Loop() {
		buf = event.AppendBinary(buf[:0], &events[i%len(events)])
		i++
	}
	b.ReportMetric(float64((cputime.Process()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/event")
}

// BenchmarkRowDecoderRealistic is the sealer's decoding of a head's rows
// (event.RowDecoder): the binary forms of realistic events of mixed
// shapes, 16,384 of them, about a quarter of a head, decoded one after
// another by one reused RowDecoder. One op is one row.
//
//	go test ./event -run '^$' -bench RowDecoderRealistic -benchtime 2000000x -count 5
func BenchmarkRowDecoderRealistic(b *testing.B) {
	docs := realisticDocs(16 << 10)
	rows := make([][]byte, len(docs))
	for i, d := range docs {
		e, err := event.Decode(d, event.Limits{})
		if err != nil {
			b.Fatal(err)
		}
		rows[i] = event.AppendBinary(nil, &e)
	}
	b.ReportAllocs()
	var x event.RowDecoder
	i, cpu := 0, cputime.Process()
	for b.Loop() {
		if _, err := x.Decode(rows[i%len(rows)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64((cputime.Process()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/event")
}
