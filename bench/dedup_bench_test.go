package bench

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
)

// BenchmarkAppendClientIDs measures what idempotent ingest costs: Append of
// the same distinct generated events with a unique client id each
// (ids=client) against without (ids=none), one writer, batches of 1,000.
// Both copy each batch out of the pool (the client case to set its ids),
// so the difference is the ids' lookup, storage and postings. Under
// sync=none the WAL's fsync does not hide the CPU cost; sync=always is what
// a server runs by default.
func BenchmarkAppendClientIDs(b *testing.B) {
	for _, sp := range []struct {
		name   string
		policy eventlog.SyncPolicy
	}{{"none", eventlog.SyncNone}, {"always", eventlog.SyncAlways}} {
		for _, ids := range []bool{false, true} {
			name := fmt.Sprintf("sync=%s/ids=none", sp.name)
			if ids {
				name = fmt.Sprintf("sync=%s/ids=client", sp.name)
			}
			b.Run(name, func(b *testing.B) { benchAppendIDs(b, sp.policy, ids) })
		}
	}
}

func benchAppendIDs(b *testing.B, policy eventlog.SyncPolicy, ids bool) {
	const size = 1000
	events, avgJSON := benchPool()
	db := openDB(b, b.TempDir(), eventlog.Options{Sync: policy})
	b.SetBytes(int64(avgJSON * size))
	b.ReportAllocs()
	batch := make([]event.Event, size)
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		off := i * size % len(events)
		copy(batch, events[off:off+size])
		if ids {
			for k := range batch {
				// Unique across the run, so every event is Created:
				// the pool repeats its contents, not its ids.
				batch[k].ClientID = "evt-" + strconv.Itoa(i*size+k)
			}
		}
		if _, err := db.Append(ctx, batch...); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkAppendClientIDsConcurrent is BenchmarkAppendClientIDs with
// four writers appending at once (b.N batches in all), so that appends can
// share the WAL's fsync (group commit): under sync=always it shows whether
// appends with client ids still group with each other, which one writer
// cannot.
func BenchmarkAppendClientIDsConcurrent(b *testing.B) {
	for _, sp := range []struct {
		name   string
		policy eventlog.SyncPolicy
	}{{"none", eventlog.SyncNone}, {"always", eventlog.SyncAlways}} {
		for _, ids := range []bool{false, true} {
			name := fmt.Sprintf("sync=%s/ids=none", sp.name)
			if ids {
				name = fmt.Sprintf("sync=%s/ids=client", sp.name)
			}
			b.Run(name, func(b *testing.B) { benchAppendIDsConcurrent(b, sp.policy, ids, 4) })
		}
	}
}

func benchAppendIDsConcurrent(b *testing.B, policy eventlog.SyncPolicy, ids bool, writers int) {
	const size = 1000
	events, avgJSON := benchPool()
	db := openDB(b, b.TempDir(), eventlog.Options{Sync: policy})
	b.SetBytes(int64(avgJSON * size))
	b.ReportAllocs()
	ctx := context.Background()
	var next atomic.Int64 // the next batch number to append
	errs := make(chan error, writers)
	b.ResetTimer()
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() { // owned here: waited for below
			defer wg.Done()
			batch := make([]event.Event, size)
			for i := int(next.Add(1) - 1); i < b.N; i = int(next.Add(1) - 1) {
				off := i * size % len(events)
				copy(batch, events[off:off+size])
				if ids {
					for k := range batch {
						batch[k].ClientID = "evt-" + strconv.Itoa(i*size+k)
					}
				}
				if _, err := db.Append(ctx, batch...); err != nil {
					errs <- fmt.Errorf("batch %d: %w", i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "events/s")
}
