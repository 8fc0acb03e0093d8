package timespan

import (
	"math"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func TestCivil(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		day := rapid.Int64Range(-2_000_000, 2_000_000).Draw(t, "day")
		y, m, d := civilFromDays(day)
		if got := daysFromCivil(y, m, d); got != day {
			t.Fatalf("daysFromCivil(civilFromDays(%d)) = %d", day, got)
		}
		ty, tm, td := time.Unix(day*86400, 0).UTC().Date()
		if y != int64(ty) || m != int64(tm) || d != int64(td) {
			t.Fatalf("day %d: %d-%d-%d, time says %d-%d-%d", day, y, m, d, ty, tm, td)
		}
	})
}

func TestSecToNs(t *testing.T) {
	for _, tc := range []struct{ sec, nsec, want int64 }{
		{0, 0, 0},
		{-1, 999_999_999, -1},
		{9223372036, 854775807, math.MaxInt64},
		{9223372036, 854775808, math.MaxInt64},
		{9223372037, 0, math.MaxInt64},
		{-9223372037, 145224192, math.MinInt64},
		{-9223372037, 145224193, math.MinInt64 + 1},
		{-9223372037, 0, math.MinInt64},
		{-9223372038, 999_999_999, math.MinInt64},
	} {
		if got := secToNs(tc.sec, tc.nsec); got != tc.want {
			t.Errorf("secToNs(%d, %d) = %d, want %d", tc.sec, tc.nsec, got, tc.want)
		}
	}
}
