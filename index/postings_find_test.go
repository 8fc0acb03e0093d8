package index

import (
	"slices"
	"sort"
	"testing"

	"pgregory.net/rapid"
)

// TestFindNarrowed checks find, which narrows its search by the sampled
// 8-byte prefixes of the dictionary's values (Postings.narrow), against a
// search of every entry of the field: for values of several fields,
// drawn to share long prefixes (or to be each other's prefixes), present
// and absent terms alike find the same entry, and only present ones are
// found.
func TestFindNarrowed(t *testing.T) {
	enc, dec := codecs(t)
	rapid.Check(t, func(t *rapid.T) {
		fields := []string{"event.action", "tags", "user.name"}
		alphabet := rapid.SampledFrom([]string{"", "a", "ab", "abcdefgh", "abcdefgi", "abcdefg", "\x00", "\xff", "z"})
		draw := func(label string) Term {
			v := ""
			for range rapid.IntRange(1, 4).Draw(t, label+" parts") {
				v += alphabet.Draw(t, label)
			}
			if v == "" {
				v = "x"
			}
			return Term{rapid.SampledFrom(fields).Draw(t, label+" field"), v}
		}
		b := NewBuilderFor(LayoutV8)
		present := map[Term]bool{}
		for row := range rapid.IntRange(1, 300).Draw(t, "rows") {
			var terms []Term
			for range rapid.IntRange(1, 3).Draw(t, "terms") {
				tm := draw("term")
				if !slices.Contains(terms, tm) {
					terms = append(terms, tm)
				}
				present[tm] = true
			}
			if err := b.Add(uint32(row), terms); err != nil {
				t.Fatal(err)
			}
		}
		p := openBuilt(t, b, enc, dec)
		check := func(tm Term) {
			got, found := p.find(tm)
			fi := p.field(tm.Field)
			if fi < 0 {
				if found || present[tm] {
					t.Fatalf("find(%q) = %d, %v in a dictionary without the field", tm, got, found)
				}
				return
			}
			f := p.fields[fi]
			want := f.first + sort.Search(f.end-f.first, func(i int) bool { return p.value(f.first+i) >= tm.Value })
			if got != want || found != present[tm] {
				t.Fatalf("find(%q) = %d, %v; want %d, %v", tm, got, found, want, present[tm])
			}
		}
		for tm := range present {
			check(tm)
		}
		for range 50 {
			check(draw("probe"))
		}
	})
}
