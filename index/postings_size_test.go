package index

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"pgregory.net/rapid"
)

// TestDictSizeBounds: dictSize is at least the length of the raw
// dictionary encode writes, and at most the bitmaps' offsets and lengths,
// the fields' term counts and the field count (counted at their largest)
// above it, for terms of many lengths on lists
// inline and in bitmaps.
func TestDictSizeBounds(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := NewBuilder()
		nrows := rapid.IntRange(1, 2000).Draw(t, "rows")
		fields := []string{"event.action", "tags", "message"}
		r := uint32(0)
		for range nrows {
			var terms []Term
			seen := map[Term]bool{}
			for range rapid.IntRange(0, 4).Draw(t, "terms") {
				n := rapid.IntRange(0, 200).Draw(t, "valueLen")
				tm := Term{rapid.SampledFrom(fields).Draw(t, "f"), fmt.Sprintf("%0*d", n, rapid.IntRange(0, 40).Draw(t, "v"))}
				if !seen[tm] {
					seen[tm] = true
					terms = append(terms, tm)
				}
			}
			r += uint32(rapid.IntRange(1, 300).Draw(t, "gap"))
			if err := b.Add(r, terms); err != nil {
				t.Fatal(err)
			}
		}
		terms, lists, err := b.sorted()
		if err != nil {
			t.Fatal(err)
		}
		var bitmaps bytes.Buffer
		dict, err := b.encode(terms, lists, &bitmaps)
		if err != nil {
			t.Fatal(err)
		}
		bms, nfields := 0, 0
		for i := range lists {
			if lists[i].bm != nil {
				bms++
			}
			if i == 0 || terms[i].Field != terms[i-1].Field {
				nfields++
			}
		}
		if n := dictSize(terms, lists); n < len(dict) || n > len(dict)+(2*bms+nfields+1)*binary.MaxVarintLen64 {
			t.Fatalf("dictSize = %d for a dictionary of %d bytes with %d fields and %d bitmaps", n, len(dict), nfields, bms)
		}
	})
}
