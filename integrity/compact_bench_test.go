package integrity

import (
	"os"
	"strconv"
	"testing"

	"github.com/RoaringBitmap/roaring/v2/roaring64"
)

// BenchmarkCompactErased measures what packing saves: a log of
// EVENTLOG_COMPACT_LEAVES leaves (default 1,000,000) with heads every
// 100,000 leaves and at the end, 9 tiles of every 10 erased whole by
// retention (90% of the positions, in aligned runs of 2,304 leaves), then
// one compaction. It reports the leaf log's bytes and the integrity bytes
// per erased position (Cost.BytesPerErasedEvent: leaf log share and
// erasure records) before and after, and per live position.
func BenchmarkCompactErased(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("EVENTLOG_COMPACT_LEAVES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	for range b.N {
		b.StopTimer()
		dir := b.TempDir()
		l, err := Open(dir, Options{})
		if err != nil {
			b.Fatal(err)
		}
		erased := roaring64.New()
		const batch = 10_000
		ds := make([]Hash, batch)
		for first := 1; first <= n; first += batch {
			k := min(batch, n-first+1)
			for i := range k {
				ds[i] = Digest([]byte(strconv.Itoa(first + i)))
				if (first+i-1)/tileLeaves%10 != 9 { // leaf index = seq - 1
					erased.Add(uint64(first + i))
				}
			}
			l.Commit(uint64(first), ds[:k])
			l.Durable(uint64(first + k - 1))
			if (first+k-1)%100_000 == 0 || first+k-1 == n {
				if _, err := l.Sign(); err != nil {
					b.Fatal(err)
				}
			}
		}
		if err := l.RecordErasure(Erasure{Eraser: uint64(n + 1), Kind: ErasedByRetention, Seqs: erased}); err != nil {
			b.Fatal(err)
		}
		before := l.Cost()
		b.StartTimer()
		st, err := l.CompactErased()
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		after := l.Cost()
		b.ReportMetric(float64(before.LeafBytes), "leafB_before")
		b.ReportMetric(float64(after.LeafBytes), "leafB_after")
		b.ReportMetric(before.BytesPerErasedEvent, "B/erased_before")
		b.ReportMetric(after.BytesPerErasedEvent, "B/erased_after")
		b.ReportMetric(after.BytesPerLiveEvent, "B/live_after")
		b.ReportMetric(float64(after.Compacted)/float64(after.Erased), "packed_share")
		b.ReportMetric(float64(st.Tiles), "tiles")
		l.Close()
		b.StartTimer()
	}
}
