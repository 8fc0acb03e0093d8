package index

import (
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestFieldTerms checks FieldTerms and FieldTerm against a model: each
// field's distinct values sorted bytewise, nothing past the end, nothing
// for a field without terms.
func TestFieldTerms(t *testing.T) {
	enc, dec := codecs(t)
	fields := []string{"event.action", "tags", RefField}
	rapid.Check(t, func(t *rapid.T) {
		model := map[string][]string{}
		b := NewBuilder()
		for row := range rapid.IntRange(1, 100).Draw(t, "rows") {
			var terms []Term
			for range rapid.IntRange(0, 3).Draw(t, "terms") {
				tm := Term{rapid.SampledFrom(fields).Draw(t, "f"), fmt.Sprint(rapid.IntRange(0, 30).Draw(t, "v"))}
				terms = append(terms, tm)
				if !slices.Contains(model[tm.Field], tm.Value) {
					model[tm.Field] = append(model[tm.Field], tm.Value)
				}
			}
			if err := b.Add(uint32(row), terms); err != nil {
				t.Fatal(err)
			}
		}
		p := openBuilt(t, b, enc, dec)
		for _, f := range append(fields, "user.name") {
			want := slices.Clone(model[f])
			slices.Sort(want)
			if n := p.FieldTerms(f); n != len(want) {
				t.Fatalf("FieldTerms(%s) = %d, want %d", f, n, len(want))
			}
			for i := -1; i <= len(want); i++ {
				v, ok := p.FieldTerm(f, i)
				if inRange := i >= 0 && i < len(want); ok != inRange || (ok && v != want[i]) {
					t.Fatalf("FieldTerm(%s, %d) = %q, %v; want %v", f, i, v, ok, want)
				}
			}
			var walked []string
			if err := p.FieldValues(f, func(v string) error { walked = append(walked, v); return nil }); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(walked, want) && len(walked)+len(want) > 0 {
				t.Fatalf("FieldValues(%s) = %q, want %q", f, walked, want)
			}
			calls, stop := 0, fmt.Errorf("stop")
			if err := p.FieldValues(f, func(string) error { calls++; return stop }); (err == stop) != (len(want) > 0) || calls != min(1, len(want)) {
				t.Fatalf("FieldValues(%s) stopping at once: %v after %d calls", f, err, calls)
			}
		}
	})
}
