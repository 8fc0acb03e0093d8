package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
)

// benchPoolSize is the number of pre-generated events the append benchmarks
// cycle through; a multiple of every batch size. They measure the append
// path, not generating; BenchmarkRun and `eventlog bench` append distinct
// events throughout.
const benchPoolSize = 50_000

// benchPool holds the events the append benchmarks reuse, generated once per
// process, and their average JSON size.
var benchPool = sync.OnceValues(func() ([]event.Event, float64) {
	events := make([]event.Event, benchPoolSize)
	total := GeneratedWorkload(GeneratorConfig{Seed: 1}).Fill(events, 0)
	return events, float64(total) / benchPoolSize
})

// appendCase is one configuration of BenchmarkAppend.
type appendCase struct {
	sync    eventlog.SyncPolicy
	batch   int
	writers int
	// headOnly keeps the head from rolling during the run, measuring the
	// head + WAL path alone (sealing into segments is BenchmarkSeal's).
	headOnly bool
}

var syncPolicies = []struct {
	name   string
	policy eventlog.SyncPolicy
}{
	{"always", eventlog.SyncAlways},
	{"interval", eventlog.SyncInterval},
	{"none", eventlog.SyncNone},
}

// BenchmarkAppend measures Append throughput for each sync policy and batch
// size, with one writer and with four concurrent writers (which group commit
// should reward). One op is one batch; events/s and MB/s (of the events' JSON)
// are the throughput figures.
func BenchmarkAppend(b *testing.B) {
	for _, sp := range syncPolicies {
		for _, batch := range []int{1, 100, 1000} {
			for _, writers := range []int{1, 4} {
				name := fmt.Sprintf("sync=%s/batch=%d/writers=%d", sp.name, batch, writers)
				b.Run(name, func(b *testing.B) {
					benchAppend(b, appendCase{sync: sp.policy, batch: batch, writers: writers})
				})
			}
		}
	}
	for _, writers := range []int{1, 4} {
		b.Run(fmt.Sprintf("sync=always/batch=1000/writers=%d/head-only", writers), func(b *testing.B) {
			benchAppend(b, appendCase{sync: eventlog.SyncAlways, batch: 1000, writers: writers, headOnly: true})
		})
	}
}

// benchAppend has c.writers goroutines share b.N batches of c.batch events.
func benchAppend(b *testing.B, c appendCase) {
	events, avgJSON := benchPool()
	opts := eventlog.Options{Sync: c.sync}
	if c.headOnly {
		opts.SegmentMaxBytes = 1 << 40
	}
	db := openDB(b, b.TempDir(), opts)
	b.SetBytes(int64(avgJSON * float64(c.batch)))
	b.ReportAllocs()
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		errs = make(chan error, c.writers)
	)
	b.ResetTimer()
	for range c.writers {
		wg.Go(func() { errs <- appendBatches(db, events, c.batch, b.N, &next) })
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*c.batch)/b.Elapsed().Seconds(), "events/s")
}

// appendBatches appends batches of size events, taking batch numbers from
// next until n are taken. Batch i is the i-th slice of events, cyclically.
func appendBatches(db *eventlog.DB, events []event.Event, size, n int, next *atomic.Int64) error {
	ctx := context.Background()
	for {
		i := int(next.Add(1) - 1)
		if i >= n {
			return nil
		}
		off := i * size % len(events)
		if _, err := db.Append(ctx, events[off:off+size]...); err != nil {
			return fmt.Errorf("append batch %d: %w", i, err)
		}
	}
}
