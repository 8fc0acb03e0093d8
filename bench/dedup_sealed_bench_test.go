package bench

import (
	"context"
	"strconv"
	"testing"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
)

// BenchmarkDedupSealed measures the lookup of client ids in sealed
// segments, what idempotent ingest pays for every id it is given: a store
// of 8 or more sealed segments (8 rolls of 20,000 events with a client id each), then Append
// of batches of 1,000 generated events whose ids are all new (new: each id
// is looked up in every segment and found in none) or all stored (retry:
// each is found in one segment and answered Duplicate). It reports the
// process's CPU time per event (cpu-ns/event) beside wall time, and
// allocations. Nothing is written in the retry case; in the new case the
// batch is stored (SyncNone) in the head, which holds at most the run's
// batches.
func BenchmarkDedupSealed(b *testing.B) {
	const segments, perSegment, size = 8, 20_000, 1000
	events, _ := benchPool()
	db := openDB(b, b.TempDir(), eventlog.Options{Sync: eventlog.SyncNone, MaintenanceInterval: -1})
	ctx := context.Background()
	idOf := func(i int) string { return "evt-" + strconv.Itoa(i) }
	stored := make([]event.Event, segments*perSegment)
	for i := range stored {
		stored[i] = events[i%len(events)]
		stored[i].ClientID = idOf(i)
	}
	for s := range segments {
		for off := s * perSegment; off < (s+1)*perSegment; off += size {
			if _, err := db.Append(ctx, stored[off:off+size]...); err != nil {
				b.Fatal(err)
			}
		}
		if err := db.Roll(ctx); err != nil {
			b.Fatal(err)
		}
	}
	// A head also rolls at its share of the memory limit, so there may
	// be more segments than rolls.
	if n := db.Stats().Segments; n < segments {
		b.Fatalf("%d segments, want at least %d", n, segments)
	}
	b.Logf("%d sealed segments, %d client ids", db.Stats().Segments, len(stored))
	fresh := 0 // new ids are new across the runs of the sub-benchmark
	for _, retry := range []bool{false, true} {
		name := "ids=new"
		if retry {
			name = "ids=retry"
		}
		b.Run(name, func(b *testing.B) {
			batch := make([]event.Event, size)
			b.ReportAllocs()
			b.ResetTimer()
			cpu := selfUsage()
			for i := range b.N {
				if retry {
					off := i * size % len(stored)
					copy(batch, stored[off:off+size])
				} else {
					for k := range batch {
						batch[k] = events[(i*size+k)%len(events)]
						batch[k].ClientID = "new-" + strconv.Itoa(fresh)
						fresh++
					}
				}
				a, err := db.Append(ctx, batch...)
				if err != nil {
					b.Fatal(err)
				}
				want := eventlog.Created
				if retry {
					want = eventlog.Duplicate
				}
				if a.Items[0].Result != want || a.Items[size-1].Result != want {
					b.Fatalf("batch %d: %v, %v; want %v", i, a.Items[0].Result, a.Items[size-1].Result, want)
				}
			}
			b.StopTimer()
			used := selfUsage()
			b.ReportMetric(float64(used.user+used.sys-cpu.user-cpu.sys)/float64(b.N*size), "cpu-ns/event")
		})
	}
}
