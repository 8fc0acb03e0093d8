package segment_test

import (
	"path/filepath"
	"testing"

	"github.com/eventlogdb/eventlog/event"
	. "github.com/eventlogdb/eventlog/segment" // the benchmarks read as in-package code
)

// BenchmarkWriteDecoded measures what sealing a head does per event:
// decode its binary form into one reused event and Add it.
func BenchmarkWriteDecoded(b *testing.B) {
	rows, jsonBytes := benchRows(benchEvents)
	bins := make([][]byte, len(rows))
	for i, r := range rows {
		bins[i] = event.AppendBinary(nil, r.Event)
	}
	enc := newBenchEncoder(b)
	path := filepath.Join(b.TempDir(), "seg")
	b.ReportAllocs()
	b.SetBytes(int64(jsonBytes))
	for b.Loop() {
		w, err := Create(path, WriteOptions{Encoder: enc})
		if err != nil {
			b.Fatal(err)
		}
		var ev event.Event
		for i, bin := range bins {
			if ev, err = event.DecodeBinary(bin); err != nil {
				b.Fatal(err)
			}
			if err := w.Add(Row{Seq: rows[i].Seq, Event: &ev}); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := w.Finish(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(rows)*b.N)/b.Elapsed().Seconds(), "events/s")
}
