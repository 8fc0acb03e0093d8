package segment

import (
	"testing"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/decbuf"
)

// TestSelectRowsLikeCounting: for a column with absent rows (presence
// bits), selectRows gives each wanted row that has a value the number of
// values before it, and the column's value count, as counting the rows
// one by one does; blocks of up to 300 rows, so that ranks cross whole
// words of bits.
func TestSelectRowsLikeCounting(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		rows := rapid.IntRange(1, 300).Draw(rt, "rows")
		density := rapid.IntRange(0, 100).Draw(rt, "density")
		present := make([]bool, rows)
		raw := []byte{1} // presence mode: bits
		bits := make([]byte, (rows+7)/8)
		for i := range present {
			present[i] = rapid.IntRange(0, 99).Draw(rt, "p") < density
			if present[i] {
				bits[i/8] |= 1 << (i % 8)
			}
		}
		raw = append(raw, bits...)
		var want []int
		var out []*event.Event
		wanted := rapid.SampledFrom([]int{0, 5, 30, 300}).Draw(rt, "wanted") // in 1,000
		for i := range rows {
			if rapid.IntRange(0, 999).Draw(rt, "w") < wanted {
				want = append(want, i)
				out = append(out, &event.Event{})
			}
		}
		var wantIdx []int
		var wantEvs []*event.Event
		count := 0
		for i := range rows {
			if j := indexOf(want, i); j >= 0 && present[i] {
				wantIdx, wantEvs = append(wantIdx, count), append(wantEvs, out[j])
			}
			if present[i] {
				count++
			}
		}
		d := decbuf.New(raw, errInvalid)
		sel, n := selectRows(&d, rows, want, out, &selection{})
		if d.Err != nil || n != count || len(sel.idx) != len(wantIdx) {
			rt.Fatalf("selectRows: %d values, %d selected (err %v); want %d, %d", n, len(sel.idx), d.Err, count, len(wantIdx))
		}
		for k := range wantIdx {
			if sel.idx[k] != wantIdx[k] || sel.evs[k] != wantEvs[k] {
				rt.Fatalf("selection %d: value %d, want %d (or another event)", k, sel.idx[k], wantIdx[k])
			}
		}
	})
}

func indexOf(s []int, v int) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}
