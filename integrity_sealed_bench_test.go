package eventlog

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/RoaringBitmap/roaring/v2/roaring64"

	"github.com/eventlogdb/eventlog/integrity"
	"github.com/eventlogdb/eventlog/internal/cputime"
)

// sealedBenchStore builds, once per benchmark, a store of two full leaf
// files and part of a third (the events of benchBatch, in segments of
// 20,000), closed before its tiles are sealed: each run copies it.
func sealedBenchStore(b *testing.B) string {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "store")
	db, err := Open(dir, Options{Integrity: true, AllowUnregistered: true, MaintenanceInterval: -1, Sync: SyncNone})
	if err != nil {
		b.Fatal(err)
	}
	for from := 0; from < sealedEvents; from += 1000 {
		if _, err := db.Append(ctx, benchBatch(min(1000, sealedEvents-from), from)...); err != nil {
			b.Fatal(err)
		}
		if (from+1000)%20000 == 0 {
			if err := db.Roll(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	// The store's goroutine sealed tiles after the seals: write every
	// tile's entries back, so that each copy starts unsealed (what Unpack
	// pins is forgotten at close; nothing erased them).
	l, _ := db.Integrity()
	if err := l.Unpack(roaring64.BitmapOf(func() []uint64 {
		out := make([]uint64, sealedEvents)
		for i := range out {
			out[i] = uint64(i + 1)
		}
		return out
	}()...)); err != nil {
		b.Fatal(err)
	}
	if c := l.Cost(); c.Sealed != 0 {
		b.Fatalf("%d positions still sealed", c.Sealed)
	}
	if err := db.Close(); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkPackSealed measures sealing the tiles of two full leaf files
// (131,072 events read back from the segments, hashed and checked): the
// CPU time per event is what sealing adds to ingest, off its path.
func BenchmarkPackSealed(b *testing.B) {
	src := sealedBenchStore(b)
	var cpu time.Duration
	var events int
	for range b.N {
		b.StopTimer()
		db := openStoreCopy(b, src)
		l, _ := db.Integrity()
		b.StartTimer()
		c0 := cputime.Process()
		st, err := l.PackSealed()
		cpu += cputime.Process() - c0
		b.StopTimer()
		if err != nil || st.Tiles != 2*integrity.LeavesPerFile/integrity.TileLeaves {
			b.Fatalf("sealed %+v, %v", st, err)
		}
		events += st.Events
		db.Close()
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(events), "cpu-ns/event")
	b.ReportMetric(float64(events)/float64(b.N), "events/op")
}

// BenchmarkInclusionSealed measures an inclusion proof's tree part (no
// event read back) for a leaf in a sealed tile, whose 256 leaves are
// recomputed from the segments (a different tile each time: the last one
// is cached), against a leaf in a tile of entries read from the leaf file.
func BenchmarkInclusionSealed(b *testing.B) {
	src := sealedBenchStore(b)
	db := openStoreCopy(b, src)
	defer db.Close()
	l, _ := db.Integrity()
	if _, err := l.PackSealed(); err != nil {
		b.Fatal(err)
	}
	size := l.Size()
	tiles := uint64(2 * integrity.LeavesPerFile / integrity.TileLeaves)
	for _, c := range []struct {
		name string
		seq  func(i int) uint64
	}{
		{"tile=sealed", func(i int) uint64 {
			return 1 + (uint64(i*37)%tiles)*integrity.TileLeaves + uint64(i)%integrity.TileLeaves
		}},
		{"tile=entries", func(i int) uint64 { return 2*integrity.LeavesPerFile + 1 + uint64(i*37)%4000 }},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := range b.N {
				if _, err := l.Inclusion(c.seq(i), size); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// openStoreCopy opens a copy of the store at src (sealedBenchStore's),
// which the benchmark may change.
func openStoreCopy(b *testing.B, src string) *DB {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "copy")
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		b.Fatal(err)
	}
	db, err := Open(dir, Options{Integrity: true, AllowUnregistered: true, MaintenanceInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	return db
}
