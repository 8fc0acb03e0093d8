package timespan

import (
	"math"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func TestAuto(t *testing.T) {
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	const h = int64(time.Hour)
	for _, tc := range []struct {
		name     string
		min, max int64
		target   int
		want     string
	}{
		{"one day", day, day + 24*h, 100, "30m"},
		{"one hour", day, day + h, 100, "1m"},
		{"one hour, 60 buckets", day, day + h - 1, 60, "1m"},
		{"one hour, 50 buckets", day, day + h, 50, "5m"},
		{"one instant", day, day, 1, "1s"},
		{"swapped", day + h, day, 100, "1m"},
		{"target 0 as 1", day, day + 1, 0, "1s"},
		{"one year", day, day + 365*24*h, 100, "1w"},
		{"ten years", day, day + 3652*24*h, 130, "1M"},
		{"two centuries", day, day + 200*366*24*h, 100, "1y"},
		{"whole range", math.MinInt64, math.MaxInt64, 1000, "1y"},
	} {
		if got := Auto(tc.min, tc.max, tc.target).String(); got != tc.want {
			t.Errorf("%s: Auto = %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestAutoSmallest checks that Auto's pick fits the target and the rung
// below it does not.
func TestAutoSmallest(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		lo := rapid.Int64().Draw(t, "min")
		hi := rapid.OneOf(rapid.Int64(), rapid.Int64Range(0, int64(1000*time.Hour))).Draw(t, "max or span")
		if rapid.Bool().Draw(t, "span") {
			hi = addClamp(lo, hi)
		}
		target := rapid.IntRange(1, 2000).Draw(t, "target")
		iv := Auto(lo, hi, target)
		lo, hi = min(lo, hi), max(lo, hi)
		i := 0
		for autoLadder[i] != iv {
			i++
		}
		if n := bucketsUTC(iv, lo, hi); n > uint64(target) && i != len(autoLadder)-1 {
			t.Fatalf("Auto = %s with %d buckets > %d", iv, n, target)
		}
		if i > 0 {
			if n := bucketsUTC(autoLadder[i-1], lo, hi); n <= uint64(target) {
				t.Fatalf("Auto = %s, but %s gives %d <= %d buckets", iv, autoLadder[i-1], n, target)
			}
		}
	})
}
