package bench

import (
	"context"
	"fmt"
	"testing"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
)

// BenchmarkIngestKept measures what keeping fields outside the schema
// costs: realistic events as JSON lines, decoded (event.DecodeWith with
// KeepUnknown) and appended in batches of 1,000 (SyncNone), then sealed.
// "schema" lines hold only schema fields; "kept" lines add what a shipper
// adds, four objects of eight fields (agent, process, syslog, cloud) with
// values that vary per event. It reports events/s of decode+append and the
// segment bytes per event once everything is sealed.
//
//	go test ./bench -run '^$' -bench IngestKept -benchtime 50000x
func BenchmarkIngestKept(b *testing.B) {
	events, _ := benchPool()
	for _, kept := range []bool{false, true} {
		name := "schema"
		if kept {
			name = "kept"
		}
		lines := make([][]byte, len(events))
		for i := range events {
			lines[i] = event.AppendJSON(nil, &events[i])
			if kept {
				lines[i] = append(lines[i][:len(lines[i])-1], fmt.Sprintf(
					`,"agent":{"name":"vector","version":"0.%d.1"},"process":{"pid":%d,"name":"kibana"},"syslog":{"facility":"local%d","severity":%d},"cloud":{"region":"eu-west-%d","provider":"aws"}}`,
					30+i%5, 1000+i%30000, i%8, i%8, 1+i%3)...)
			}
		}
		b.Run(name, func(b *testing.B) { benchIngestLines(b, lines) })
	}
}

func benchIngestLines(b *testing.B, lines [][]byte) {
	const batch = 1000
	db := openDB(b, b.TempDir(), eventlog.Options{Sync: eventlog.SyncNone})
	opts := event.DecodeOptions{KeepUnknown: true}
	buf := make([]event.Event, 0, batch)
	size := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		line := lines[i%len(lines)]
		size += len(line)
		ev, err := event.DecodeWith(line, opts)
		if err != nil {
			b.Fatal(err)
		}
		if buf = append(buf, ev); len(buf) == batch || i == b.N-1 {
			if _, err := db.Append(context.Background(), buf...); err != nil {
				b.Fatal(err)
			}
			buf = buf[:0]
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(size)/float64(b.N), "JSON-B/event")
	if err := db.Roll(context.Background()); err != nil {
		b.Fatal(err)
	}
	var bytes int64
	var n int
	for _, s := range db.Segments() {
		bytes, n = bytes+s.Bytes, n+s.Events
	}
	if n != b.N {
		b.Fatalf("segments hold %d events, want %d", n, b.N)
	}
	b.ReportMetric(float64(bytes)/float64(n), "segment-B/event")
}
