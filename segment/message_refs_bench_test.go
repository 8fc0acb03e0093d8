//go:build unix

package segment_test

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	. "github.com/eventlogdb/eventlog/segment" // the benchmarks read as in-package code
)

// BenchmarkWriteMessageRefs writes the realistic events as format 8 and
// as format 9 (message field references) at the seal's zstd level, with
// one encoder, and reports the file's bytes an event and the process's
// CPU time an event (getrusage: under load, wall time measures the
// machine's other work too).
func BenchmarkWriteMessageRefs(b *testing.B) {
	rows, jsonBytes := benchRows(benchEvents)
	for _, v := range []int{8, 9} {
		b.Run(fmt.Sprintf("v%d", v), func(b *testing.B) {
			enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithWindowSize(1<<20), zstd.WithEncoderConcurrency(1))
			if err != nil {
				b.Fatal(err)
			}
			defer enc.Close()
			before := cpuTime(b)
			benchWriteOpts(b, rows, jsonBytes, WriteOptions{Encoder: enc, Version: v})
			b.ReportMetric(float64((cpuTime(b)-before).Nanoseconds())/float64(len(rows)*b.N), "cpu-ns/event")
		})
	}
}

// cpuTime returns the user and system CPU time the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
