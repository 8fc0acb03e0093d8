package segment

import (
	"math"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
)

// TestValidTimestampsLikeEveryRow: validTimestamps, which checks only the
// ends of a block whose rows share one format whose unit divides the
// scale, says what checking every row with event.DateFromParts says, for
// non-decreasing timestamps with deltas in multiples of the scale, near
// and past the ends of the valid range, under valid and invalid formats,
// one for the block or one a row.
func TestValidTimestampsLikeEveryRow(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		p := uint64(pow10[rapid.IntRange(0, 12).Draw(rt, "scale")])
		n := rapid.IntRange(1, 20).Draw(rt, "rows")
		// Formats: fraction digits 0-11 (10 and 11 invalid), an offset form
		// 0-3 and minutes (invalid with Z, or past a day).
		format := func(label string) event.Format {
			return event.Format(rapid.IntRange(0, 11).Draw(rt, label+"digits") |
				rapid.IntRange(0, 3).Draw(rt, label+"form")<<4 |
				rapid.SampledFrom([]int{0, 0, 0, 60, 24*60 - 1, 24 * 60}).Draw(rt, label+"minutes")<<6)
		}
		var fmts uniform
		if rapid.Bool().Draw(rt, "uniform") {
			fmts.v = uint64(format("block "))
		} else {
			for i := range n {
				fmts.vals = append(fmts.vals, uint64(format(string(rune('a'+i)))))
			}
		}
		edges := []int64{0, -1e18, math.MinInt64 / 2, 9e18, math.MaxInt64 - 1e12,
			-9214560000000000000, 9214646399999999999} // about 1678 and 2262
		ts := make([]int64, n)
		ts[0] = rapid.SampledFrom(edges).Draw(rt, "edge")
		if rapid.Bool().Draw(rt, "round") { // a whole number of some unit
			ts[0] += rapid.Int64Range(-3, 3).Draw(rt, "units") * pow10[rapid.IntRange(0, 9).Draw(rt, "unit")]
		} else {
			ts[0] += rapid.Int64Range(-3e9, 3e9).Draw(rt, "first")
		}
		// The rows between the ends can be less round than the ends are.
		// The last row stays within int64: past it the column could not
		// have been written, and the decoder fails before it checks.
		maxSpan := int64(5e9/p + 2)
		if ts[0] > 0 {
			maxSpan = min(maxSpan, (math.MaxInt64-ts[0])/int64(p))
		}
		span := rapid.Int64Range(0, maxSpan).Draw(rt, "span")
		if rapid.Bool().Draw(rt, "round span") {
			m := pow10[rapid.IntRange(0, 9).Draw(rt, "span unit")]
			span = span / m * m
		}
		steps := []int64{0, span}
		for range n - 2 {
			steps = append(steps, rapid.Int64Range(0, span).Draw(rt, "step"))
		}
		slices.Sort(steps)
		for i := 1; i < n; i++ {
			ts[i] = ts[0] + int64(p)*steps[i]
		}
		want := true
		for i := range ts {
			if _, ok := event.DateFromParts(ts[i], event.Format(fmts.at(i))); !ok {
				want = false
			}
		}
		if got := validTimestamps(ts, fmts, p); got != want {
			rt.Fatalf("validTimestamps(%v, %+v, %d) = %v, want %v", ts, fmts, p, got, want)
		}
	})
}

// TestValidTimestampsFinerThanTheFormat: ends that are whole milliseconds
// do not vouch for a row between them that is not when the deltas are
// only whole microseconds.
func TestValidTimestampsFinerThanTheFormat(t *testing.T) {
	ms, err := event.ParseDate("2026-01-01T00:00:00.000Z")
	if err != nil {
		t.Fatal(err)
	}
	f := event.Format(3 | 1<<4) // three digits, Z
	if _, ok := event.DateFromParts(ms.UnixNano(), f); !ok {
		t.Fatalf("format %d does not fit %s", f, ms)
	}
	base := ms.UnixNano()
	for _, c := range []struct {
		ts   []int64
		p    uint64
		want bool
	}{
		{[]int64{base, base + 1e6, base + 2e6}, 1e6, true},
		{[]int64{base, base + 1e6, base + 2e6}, 1e3, true},
		{[]int64{base, base + 1e3, base + 2e6}, 1e3, false},
		{[]int64{base, base + 1e6, base + 2e6 + 1e3}, 1e3, false},
	} {
		if got := validTimestamps(c.ts, uniform{v: uint64(f)}, c.p); got != c.want {
			t.Errorf("validTimestamps(%v, scale %d) = %v, want %v", c.ts, c.p, got, c.want)
		}
	}
}
