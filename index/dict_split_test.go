package index

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// TestSplitDictionary builds the same rows in LayoutV4 and LayoutV8:
// every term answers as the model says in both, and the split dictionary
// splits and unsplits back to its plain bytes.
func TestSplitDictionary(t *testing.T) {
	enc, dec := codecs(t)
	rapid.Check(t, func(t *rapid.T) {
		model := map[Term][]uint32{}
		v4, v8 := NewBuilderFor(LayoutV4), NewBuilderFor(LayoutV8)
		for row := range rapid.IntRange(1, 200).Draw(t, "rows") {
			var terms []Term
			for range rapid.IntRange(0, 4).Draw(t, "terms") {
				tm := Term{"event.action", rapid.SampledFrom([]string{"execute", "run"}).Draw(t, "action")}
				if rapid.IntRange(0, 3).Draw(t, "kind") > 0 {
					tm = Term{RefField, RefKey(drawRefID(t), rapid.SampledFrom([]string{"alert", "action", ""}).Draw(t, "type"),
						rapid.SampledFrom([]string{"default", "s2"}).Draw(t, "space"), rapid.Bool().Draw(t, "primary"))}
				}
				terms = append(terms, tm)
				if rs := model[tm]; len(rs) == 0 || rs[len(rs)-1] != uint32(row) {
					model[tm] = append(rs, uint32(row))
				}
			}
			if err := errors.Join(v4.Add(uint32(row), terms), v8.Add(uint32(row), terms)); err != nil {
				t.Fatal(err)
			}
		}
		for _, b := range []*Builder{v4, v8} {
			p := openBuilt(t, b, enc, dec)
			got, err := unsplitDict(splitDict(p.dict))
			if err != nil || !bytes.Equal(got, p.dict) {
				t.Fatalf("unsplitDict(splitDict(d)) != d: %v", err)
			}
			if cap(got) != len(got) {
				t.Fatalf("unsplitDict made %d bytes in a buffer of %d: not sized exactly (unsplitSize)", len(got), cap(got))
			}
			for tm, want := range model {
				bm, ok, err := p.Lookup(tm)
				if err != nil || !ok || !slices.Equal(bm.ToArray(), want) {
					t.Fatalf("layout %d: Lookup(%q) = %v, %v, %v; want %v", b.Layout(), tm, bm, ok, err, want)
				}
			}
		}
	})
}

// splitOf returns the split dictionary of ref terms on row 0.
func splitOf(t testing.TB, keys ...string) []byte {
	t.Helper()
	b := NewBuilderFor(LayoutV8)
	var terms []Term
	for _, k := range keys {
		terms = append(terms, Term{RefField, k})
	}
	if err := b.Add(0, terms); err != nil {
		t.Fatal(err)
	}
	terms, lists, err := b.sorted()
	if err != nil {
		t.Fatal(err)
	}
	dict, err := b.encode(terms, lists, new(bytes.Buffer))
	if err != nil {
		t.Fatal(err)
	}
	return splitDict(dict)
}

// TestUnsplitDictDamage: a damaged split dictionary is an error naming
// the problem, never a panic or a wrong key; two keys of one type and
// space share their pair.
func TestUnsplitDictDamage(t *testing.T) {
	const a, b = "9a0a3de3-2aa2-4914-b84d-fef884dadc2f", "9a0a3de3-2aa2-4914-b84d-fef884dadc30"
	good := splitOf(t, RefKey(a, "alert", "default", true), RefKey(b, "alert", "default", false))
	// heads: 1 field "kibana.saved_objects" of 2 terms; then 1 pair
	pairsAt := 1 + 1 + len(RefField) + 1
	if good[pairsAt] != 1 {
		t.Fatalf("%d pairs for one type and space", good[pairsAt])
	}
	if _, err := unsplitDict(good); err != nil {
		t.Fatal(err)
	}
	valuesAt := pairsAt + 1 + 1 + len("alert") + 1 + len("default")
	secondPair := valuesAt + 1 + (2 + 16 + 1) + 2 + 1 // the second key shares 15 bytes
	for name, c := range map[string]struct {
		data []byte
		want string
	}{
		"pair out of range": {func() []byte { d := slices.Clone(good); d[secondPair] = 1; return d }(), "pair 1 of 1"},
		"trailing bytes":    {append(slices.Clone(good), 0), "trailing bytes"},
		"cut short":         {good[:len(good)-1], ""},
		"values too long":   {func() []byte { d := slices.Clone(good); d[valuesAt]++; return d }(), ""},
	} {
		_, err := unsplitDict(c.data)
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrCorrupt saying %q", name, err, c.want)
		}
	}
}

// FuzzUnsplitDict: any bytes unsplit to a dictionary or an ErrCorrupt
// error, never a panic.
func FuzzUnsplitDict(f *testing.F) {
	f.Add(splitOf(f, RefKey("9a0a3de3-2aa2-4914-b84d-fef884dadc2f", "alert", "default", true), RefKey("a-1", "action", "s2", false)))
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		out, err := unsplitDict(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v is not ErrCorrupt", err)
			}
			return
		}
		if len(out) > MaxDictBytes {
			t.Fatalf("%d bytes unpacked", len(out))
		}
		if cap(out) != len(out) {
			t.Fatalf("%d bytes unpacked into a buffer of %d (unsplitSize)", len(out), cap(out))
		}
	})
}
