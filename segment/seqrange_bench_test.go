package segment_test

import (
	"fmt"
	"testing"

	"github.com/eventlogdb/eventlog/event"
)

// BenchmarkEachSeqRange walks the benchmark segment (5% of events late by
// up to five minutes) in consecutive ranges of 8,192 sequence numbers, as
// a tail does.
func BenchmarkEachSeqRange(b *testing.B) {
	r, rows := openBench(b)
	const width = 8192
	b.ReportAllocs()
	for b.Loop() {
		for lo := uint64(1); lo <= uint64(len(rows)); lo += width {
			if err := r.EachSeqRange(lo, lo+width-1, func(uint64, *event.Event) error { return nil }); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(rows)*b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkSeqCursor is BenchmarkEachSeqRange with one cursor keeping up
// to budget rows for later ranges.
func BenchmarkSeqCursor(b *testing.B) {
	r, rows := openBench(b)
	const width = 8192
	for _, budget := range []int{width, 2 * width} {
		b.Run(fmt.Sprint("budget=", budget), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c := r.SeqCursor(1)
				for c.Next() <= uint64(len(rows)) {
					if err := c.Each(c.Next()+width-1, budget, func(uint64, *event.Event) error { return nil }); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(len(rows)*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
