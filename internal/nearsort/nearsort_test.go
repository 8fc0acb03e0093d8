package nearsort

import (
	"cmp"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// nearly draws a slice that is sorted but for some elements moved a few
// places, or (sometimes) anything: both must come out sorted.
func nearly(t *rapid.T) []uint64 {
	n := rapid.IntRange(0, 600).Draw(t, "n")
	s := make([]uint64, n)
	if rapid.Bool().Draw(t, "random") {
		for i := range s {
			s[i] = rapid.Uint64Range(0, 50).Draw(t, "v")
		}
		return s
	}
	for i := range s {
		s[i] = uint64(i) * rapid.Uint64Range(0, 3).Draw(t, "step")
	}
	for range rapid.IntRange(0, n).Draw(t, "moves") {
		i := rapid.IntRange(0, n-1).Draw(t, "from")
		j := min(n-1, i+rapid.IntRange(0, 8).Draw(t, "by")*rapid.SampledFrom([]int{1, 1, 1, 100}).Draw(t, "far"))
		s[i], s[j] = s[j], s[i]
	}
	return s
}

func TestSortLikeSlicesSort(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := nearly(t)
		want := slices.Sorted(slices.Values(s))
		Sort(s)
		if !slices.Equal(s, want) {
			t.Fatalf("got %v, want %v", s, want)
		}
	})
}

func TestSortFuncLikeSlicesSortFunc(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := nearly(t)
		// A permutation sorted by the values it points to, as seqRuns
		// sorts rows by sequence number: distinct keys, one answer.
		perm := make([]uint32, len(s))
		for i := range perm {
			perm[i] = uint32(i)
		}
		by := func(a, b uint32) int { return cmp.Or(cmp.Compare(s[a], s[b]), cmp.Compare(a, b)) }
		want := slices.Clone(perm)
		slices.SortFunc(want, by)
		SortFunc(perm, by)
		if !slices.Equal(perm, want) {
			t.Fatalf("got %v, want %v", perm, want)
		}
	})
}
