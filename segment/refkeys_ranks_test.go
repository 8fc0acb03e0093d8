package segment

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestRefKeyRanksLikeSortedKeys: ranks gives each key number the place
// of its key among the keys sorted bytewise, for keys that share long
// starts (every UUID key starts with its length byte), are shorter than
// the 8 bytes ranks compares as a number first, or hold NULs.
func TestRefKeyRanksLikeSortedKeys(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := newRefKeyWriter()
		key := rapid.StringOfN(rapid.SampledFrom([]rune{0, 1, '$', 'a', 'b', 0xe9}), 0, 14, -1)
		for _, k := range rapid.SliceOfNDistinct(key, 0, 50, rapid.ID[string]).Draw(t, "keys") {
			w.keys = append(w.keys, k)
		}
		sorted := slices.Sorted(slices.Values(w.keys))
		for n, r := range w.ranks() {
			if sorted[r] != w.keys[n] {
				t.Fatalf("key %d %q has rank %d, where the sorted keys hold %q", n, w.keys[n], r, sorted[r])
			}
		}
	})
}
