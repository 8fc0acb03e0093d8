package query

import (
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"pgregory.net/rapid"
)

// TestAndCardinality checks the count of an intersection taken without
// building it (andCardinality: by roaring's container counts or as bit
// sets) against the size of the intersection roaring builds, for sets of
// any density over one or several containers, in array, bitmap and run
// form.
func TestAndCardinality(t *testing.T) {
	var dense []uint64 // shared, as by one executor's sources
	rapid.Check(t, func(rt *rapid.T) {
		span := rapid.Uint64Range(1, 3<<16).Draw(rt, "span")
		parts := rapid.SliceOfN(rapid.Custom(func(rt *rapid.T) *roaring.Bitmap {
			return genRows(rt, span)
		}), 1, 4).Draw(rt, "parts")
		want := parts[0].GetCardinality()
		if len(parts) > 1 {
			want = roaring.FastAnd(parts...).GetCardinality()
		}
		if got := andCardinality(parts, &dense); got != want {
			rt.Fatalf("andCardinality = %d, want %d", got, want)
		}
	})
}

// genRows draws a set of rows below span: rows at a drawn density, some
// runs, optionally run-optimised.
func genRows(rt *rapid.T, span uint64) *roaring.Bitmap {
	bm := roaring.New()
	// One row in every: dense enough for bit sets, or as sparse as a
	// rare object.
	every := rapid.OneOf(rapid.Uint64Range(1, 64), rapid.Uint64Range(65, 5000)).Draw(rt, "every")
	seed := rapid.Uint64().Draw(rt, "seed")
	for r := uint64(0); r < span; r++ {
		seed = seed*6364136223846793005 + 1442695040888963407
		if (seed>>33)%every == 0 {
			bm.Add(uint32(r))
		}
	}
	for range rapid.IntRange(0, 3).Draw(rt, "runs") {
		lo := rapid.Uint64Range(0, span-1).Draw(rt, "lo")
		bm.AddRange(lo, min(span, lo+rapid.Uint64Range(1, 5000).Draw(rt, "len")))
	}
	if rapid.Bool().Draw(rt, "optimise") {
		bm.RunOptimize()
	}
	return bm
}
