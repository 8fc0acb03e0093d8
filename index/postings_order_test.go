package index

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestTermOrderLikeCompareTerms: termOrder puts terms in the order
// slices.SortFunc with compareTerms gives, whatever their fields and
// values: values sharing long prefixes (ref keys all start alike), shorter
// than 8 bytes, holding NULs (which the zero padding of prefix8 must not
// confuse with the end of a value), and repeated terms (which sort
// together, so sorted still finds them).
func TestTermOrderLikeCompareTerms(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		fields := []string{"event.action", "tags", RefField, "a", ""}
		value := rapid.StringOfN(rapid.SampledFrom([]rune{0, 1, 'a', 'b', 0x7f, 0xe9}), 0, 12, -1)
		keys := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) Term {
			return Term{Field: rapid.SampledFrom(fields).Draw(t, "field"), Value: rapid.SampledFrom([]string{"", "\x24abcdefgh", "\x24abcdefg"}).Draw(t, "start") + value.Draw(t, "value")}
		}), 0, 60).Draw(t, "terms")
		want := slices.Clone(keys)
		slices.SortFunc(want, compareTerms)
		order := termOrder(keys)
		got := make([]Term, len(order))
		for k, o := range order {
			got[k] = keys[o.i]
		}
		if !slices.Equal(got, want) {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
}
