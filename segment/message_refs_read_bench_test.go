//go:build unix

package segment_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/eventlogdb/eventlog/event"

	. "github.com/eventlogdb/eventlog/segment" // the benchmarks read as in-package code
)

// BenchmarkDecodeMessageAlone decodes the message alone of every row of
// 24,576 realistic events (three blocks), as a sort on the message or a
// phrase query's check does, from format 8 and format 9 files: format 9
// decodes aside the columns the messages refer to. It reports the
// process's CPU time an event (getrusage) and allocations.
func BenchmarkDecodeMessageAlone(b *testing.B) {
	rows, _ := benchRows(3 * 8192)
	msg := []*event.Field{event.FieldByName("message")}
	for _, v := range []int{8, 9} {
		b.Run(fmt.Sprintf("v%d", v), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "seg")
			if _, err := Write(path, rows, WriteOptions{Version: v}); err != nil {
				b.Fatal(err)
			}
			r, err := Open(path, OpenOptions{})
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			b.ReportAllocs()
			before := cpuTime(b)
			for range b.N {
				for bi, blk := range r.Blocks() {
					want := make([]int, blk.Rows)
					out := make([]*event.Event, blk.Rows)
					evs := make([]event.Event, blk.Rows)
					for i := range want {
						want[i], out[i] = i, &evs[i]
					}
					if err := r.Decode(bi, want, msg, out); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64((cpuTime(b)-before).Nanoseconds())/float64(len(rows)*b.N), "cpu-ns/event")
		})
	}
}
