package bigbuf

import (
	"testing"

	"pgregory.net/rapid"
)

// TestPoolMatchesModel runs random Gets and Puts against a plain model: a
// list of the kept buffers' capacities. Get returns a kept buffer (empty,
// large enough) exactly when the model says one is there, else a new one
// with a quarter more room than asked (nil under the minimum), and the
// Pool never keeps more than its bound or a buffer outside its size range.
func TestPoolMatchesModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 4).Draw(t, "buffers")
		lo := rapid.IntRange(1, 64).Draw(t, "min")
		hi := lo + rapid.IntRange(0, 256).Draw(t, "span")
		p := New(n, lo, hi)
		var kept []int // capacities, in the order Get sees them (FIFO)
		for range rapid.IntRange(1, 60).Draw(t, "steps") {
			if rapid.Bool().Draw(t, "put") {
				c := rapid.IntRange(0, hi+64).Draw(t, "cap")
				b := make([]byte, rapid.IntRange(0, c).Draw(t, "len"), c)
				p.Put(b)
				if c >= lo && c <= hi && len(kept) < n {
					kept = append(kept, c)
				}
				continue
			}
			want := rapid.IntRange(0, hi+64).Draw(t, "want")
			b := p.Get(want)
			var expect int // capacity of the buffer the model hands out; 0 for nil
			if want >= lo && len(kept) > 0 {
				if kept[0] >= want {
					expect = kept[0]
				}
				kept = kept[1:]
			}
			if expect == 0 && want >= lo {
				expect = want + want/4 // a new one, with headroom
			}
			switch {
			case expect == 0 && b != nil:
				t.Fatalf("Get(%d) under the minimum %d returned a buffer of capacity %d", want, lo, cap(b))
			case expect != 0 && (b == nil || cap(b) != expect || len(b) != 0):
				t.Fatalf("Get(%d) = len %d cap %d (nil %v), want an empty buffer of capacity %d", want, len(b), cap(b), b == nil, expect)
			}
		}
		if p.Len() != len(kept) {
			t.Fatalf("pool keeps %d buffers, model %d", len(p.free), len(kept))
		}
	})
}

// TestNilPoolKeepsNothing: a nil Pool (a caller without one) is valid.
func TestNilPoolKeepsNothing(t *testing.T) {
	var p *Pool
	p.Put(make([]byte, 10))
	if b := p.Get(1); b != nil || p.Len() != 0 {
		t.Fatalf("nil pool returned %d bytes", cap(b))
	}
}
