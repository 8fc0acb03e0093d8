package timespan

import (
	"testing"
	"time"
)

// BenchmarkFloor measures Floor over a day of instants, in UTC (no zone
// lookups) and in a zone with DST.
func BenchmarkFloor(b *testing.B) {
	start := time.Date(2024, 10, 26, 12, 0, 0, 0, time.UTC).UnixNano()
	for _, zone := range []string{"UTC", "Europe/Berlin"} {
		for _, iv := range []string{"1m", "1h", "1d", "1M"} {
			bk := NewBucketer(mustInterval(b, iv), mustLoad(b, zone))
			b.Run(zone+"/"+iv, func(b *testing.B) {
				b.ReportAllocs()
				i := int64(0)
				for b.Loop() {
					bk.Floor(start + i%int64(24*time.Hour))
					i += 997_000_001
				}
			})
		}
	}
}
