package index

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/klauspost/compress/zstd"
	"pgregory.net/rapid"
)

// openBuilt writes b's section with enc and opens it with dec.
func openBuilt(t interface{ Fatal(...any) }, b *Builder, enc *zstd.Encoder, dec *zstd.Decoder) *Postings {
	sec, err := b.AppendTo(nil, enc)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Open(sec, dec)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func codecs(t testing.TB) (*zstd.Encoder, *zstd.Decoder) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		t.Fatal(err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderMaxMemory(64<<20))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { enc.Close(); dec.Close() })
	return enc, dec
}

func TestPostingsRoundTrip(t *testing.T) {
	enc, dec := codecs(t)
	fields := []string{"event.action", "tags", RefField}
	rapid.Check(t, func(t *rapid.T) {
		model := map[Term][]uint32{}
		b := NewBuilder()
		nrows := rapid.IntRange(1, 300).Draw(t, "rows")
		for row := range nrows {
			var terms []Term
			for range rapid.IntRange(0, 3).Draw(t, "terms") {
				tm := Term{rapid.SampledFrom(fields).Draw(t, "f"), fmt.Sprint(rapid.IntRange(0, 5).Draw(t, "v"))}
				terms = append(terms, tm)
				if rs := model[tm]; len(rs) == 0 || rs[len(rs)-1] != uint32(row) {
					model[tm] = append(rs, uint32(row))
				}
			}
			if err := b.Add(uint32(row), terms); err != nil {
				t.Fatal(err)
			}
		}
		sec, err := b.AppendTo(make([]byte, 0), enc)
		if err != nil {
			t.Fatal(err)
		}
		p, err := Open(sec, dec)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if p.Len() != len(model) {
			t.Fatalf("Len = %d, want %d", p.Len(), len(model))
		}
		for tm, want := range model {
			bm, ok, err := p.Lookup(tm)
			if err != nil || !ok || !slices.Equal(bm.ToArray(), want) {
				t.Fatalf("Lookup(%v) = %v, %v, %v; want %v", tm, bm, ok, err, want)
			}
		}
		if _, ok, err := p.Lookup(Term{"tags", "missing"}); ok || err != nil {
			t.Fatalf("Lookup(missing) = %v, %v", ok, err)
		}
		if _, ok, _ := p.Lookup(Term{"nofield", "1"}); ok {
			t.Fatal("Lookup(unknown field) found")
		}
		var prev *Term
		err = p.Each(func(ti TermInfo) error {
			if prev != nil && compareTerms(*prev, ti.Term) >= 0 {
				return fmt.Errorf("terms out of order: %v then %v", *prev, ti.Term)
			}
			prev = &ti.Term
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestBuilderRejectsRowOrder(t *testing.T) {
	b := NewBuilder()
	if err := b.Add(3, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Add(3, nil); err == nil {
		t.Fatal("repeated row accepted")
	}
}

// TestPostingsBitmapsAligned checks the 8-byte alignment of every bitmap
// relative to the section start.
func TestPostingsBitmapsAligned(t *testing.T) {
	enc, dec := codecs(t)
	b := NewBuilder()
	for row := range uint32(2000) {
		b.Add(row, []Term{{"a", fmt.Sprint(row % 7)}, {"b", fmt.Sprint(row % 3)}})
	}
	sec, err := b.AppendTo(nil, enc)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Open(sec, dec)
	if err != nil {
		t.Fatal(err)
	}
	bmStart := cap(sec) - cap(p.bitmaps) // p.bitmaps is sec[bmStart:bmEnd]
	if bmStart%8 != 0 {
		t.Fatalf("bitmaps start at %d", bmStart)
	}
	n := 0
	err = p.Each(func(ti TermInfo) error {
		if ti.Bytes > 0 {
			n++
		}
		return nil
	})
	if err != nil || n != 10 {
		t.Fatalf("Each: %d bitmaps, %v", n, err)
	}
}

// TestPostingsDamage flips every byte of a section: Open or Lookup fail
// with ErrCorrupt or answer; nothing panics.
func TestPostingsDamage(t *testing.T) {
	enc, dec := codecs(t)
	b := NewBuilder()
	for row := range uint32(300) {
		b.Add(row, []Term{{"a", fmt.Sprint(row % 5)}, {"r", fmt.Sprint(row % 40)}})
	}
	sec, _ := b.AppendTo(nil, enc)
	for off := range sec {
		d := slices.Clone(sec)
		d[off] ^= 0xa5
		p, err := Open(d, dec)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("byte %d: Open: %v", off, err)
			}
			continue
		}
		err = p.Each(func(TermInfo) error { return nil })
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("byte %d: Each: %v", off, err)
		}
	}
}

// TestUnionWhere checks UnionWhere against the union of the model's rows
// of the terms with the prefix that keep accepts, with lists both inline
// and as bitmaps.
func TestUnionWhere(t *testing.T) {
	enc, dec := codecs(t)
	rapid.Check(t, func(t *rapid.T) {
		model := map[string]map[uint32]bool{}
		b := NewBuilder()
		for row := range rapid.IntRange(1, 400).Draw(t, "rows") {
			var terms []Term
			for range rapid.IntRange(0, 3).Draw(t, "terms") {
				v := rapid.SampledFrom([]string{"a", "ab", "abc", "b", "ba", "c"}).Draw(t, "v")
				terms = append(terms, Term{"f", v})
				if model[v] == nil {
					model[v] = map[uint32]bool{}
				}
				model[v][uint32(row)] = true
			}
			terms = append(terms, Term{"g", "a"})
			if err := b.Add(uint32(row), terms); err != nil {
				t.Fatal(err)
			}
		}
		p := openBuilt(t, b, enc, dec)
		prefix := rapid.SampledFrom([]string{"", "a", "ab", "b", "z"}).Draw(t, "prefix")
		kept := rapid.SliceOfDistinct(rapid.SampledFrom([]string{"a", "ab", "abc", "b", "ba", "c"}), func(s string) string { return s }).Draw(t, "kept")
		keep := func(v string) bool { return slices.Contains(kept, v) }
		got, err := p.UnionWhere("f", prefix, keep)
		if err != nil {
			t.Fatal(err)
		}
		var want []uint32
		for v, rows := range model {
			if len(v) >= len(prefix) && v[:len(prefix)] == prefix && keep(v) {
				for r := range rows {
					if !slices.Contains(want, r) {
						want = append(want, r)
					}
				}
			}
		}
		slices.Sort(want)
		if !slices.Equal(got.ToArray(), want) {
			t.Fatalf("UnionWhere(f, %q, %v) = %v, want %v", prefix, kept, got.ToArray(), want)
		}
	})
}

// TestLookupAnswersAlike flips each byte of a section's bitmaps: every
// lookup of a term answers as the first did (a damaged bitmap is an error
// each time, not only until a load has checked it), and a good roaring
// bitmap is remembered as checked. In LayoutV8 the same rows are bitsets,
// checked as they are decoded, each time.
func TestLookupAnswersAlike(t *testing.T) {
	for _, l := range []Layout{LayoutV6, LayoutV8} {
		t.Run(fmt.Sprint(l), func(t *testing.T) { lookupAnswersAlike(t, l) })
	}
}

func lookupAnswersAlike(t *testing.T, l Layout) {
	enc, dec := codecs(t)
	b := NewBuilderFor(l)
	for row := range uint32(3000) {
		b.Add(row, []Term{{"a", fmt.Sprint(row % 3)}})
	}
	sec, err := b.AppendTo(nil, enc)
	if err != nil {
		t.Fatal(err)
	}
	good, err := Open(sec, dec)
	if err != nil {
		t.Fatal(err)
	}
	start := cap(sec) - cap(good.bitmaps)
	damaged := 0
	for off := start; off < start+len(good.bitmaps); off++ {
		d := slices.Clone(sec)
		d[off] ^= 0x5a
		p, err := Open(d, dec)
		if err != nil {
			t.Fatalf("byte %d: Open: %v", off, err)
		}
		for v := range 3 {
			term := Term{"a", fmt.Sprint(v)}
			bm1, _, err1 := p.Lookup(term)
			bm2, _, err2 := p.Lookup(term)
			if (err1 == nil) != (err2 == nil) || (err1 != nil && !errors.Is(err1, ErrCorrupt)) {
				t.Fatalf("byte %d, %v: %v then %v", off, term, err1, err2)
			}
			if err1 != nil {
				damaged++
				continue
			}
			if !bm1.Equals(bm2) {
				t.Fatalf("byte %d, %v: %v then %v", off, term, bm1, bm2)
			}
			i, _ := p.find(term)
			if l < LayoutV8 && !p.wasChecked(i) {
				t.Fatalf("byte %d, %v: not remembered as checked", off, term)
			}
		}
	}
	if damaged == 0 {
		t.Fatal("no flipped byte was found damaged")
	}
}

// TestAddRowsWritesWhatAddWrites holds AddRows (a term's rows at once, in
// any order of terms) to the section Add (a row's terms at once) writes
// for the same postings: byte for byte, with terms on a few rows (inline),
// on more than InlineMax (bitmaps) and on more than 4,096 rows of a
// bitmap's 65,536-row chunk (its container changes kind there).
func TestAddRowsWritesWhatAddWrites(t *testing.T) {
	enc, _ := codecs(t)
	fields := []string{"event.action", "tags", RefField, "_id"}
	rapid.Check(t, func(t *rapid.T) {
		nrows := rapid.OneOf(rapid.IntRange(1, 300), rapid.IntRange(4_500, 12_000)).Draw(t, "rows")
		rng := rand.New(rand.NewPCG(rapid.Uint64().Draw(t, "seed"), 0))
		density := []float64{0.9, 0.3, 0.06, 0.001}
		byRow := NewBuilder()
		model := map[Term][]uint32{}
		for row := range uint32(nrows) {
			var terms []Term
			for i, f := range fields {
				if rng.Float64() < density[i] {
					tm := Term{f, fmt.Sprint(rng.IntN(3 + i*i*40))}
					terms = append(terms, tm)
					if rs := model[tm]; len(rs) == 0 || rs[len(rs)-1] != row {
						model[tm] = append(rs, row)
					}
				}
			}
			if err := byRow.Add(row, terms); err != nil {
				t.Fatal(err)
			}
		}
		byTerm := NewBuilder()
		for tm, rows := range model { // map order: terms in any order
			if err := byTerm.AddRows(tm, rows); err != nil {
				t.Fatal(err)
			}
		}
		if byTerm.MaxRow() != byRow.MaxRow() || byTerm.Len() != byRow.Len() {
			t.Fatalf("MaxRow %d, Len %d by term; %d, %d by row", byTerm.MaxRow(), byTerm.Len(), byRow.MaxRow(), byRow.Len())
		}
		want, err := byRow.AppendTo(nil, enc)
		if err != nil {
			t.Fatal(err)
		}
		got, err := byTerm.AppendTo(nil, enc)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("AddRows wrote %d bytes, Add %d: they differ", len(got), len(want))
		}
	})
}

func TestAddRowsRefusesMisuse(t *testing.T) {
	enc, _ := codecs(t)
	tm := Term{"tags", "a"}
	for name, f := range map[string]func(b *Builder) error{
		"rows not increasing": func(b *Builder) error { return b.AddRows(tm, []uint32{3, 3}) },
		"term twice": func(b *Builder) error {
			if b.AddRows(tm, []uint32{1}) != nil || b.AddRows(tm, []uint32{2}) != nil {
				return nil // not the error under test: the test fails on nil
			}
			_, err := b.AppendTo(nil, enc)
			return err
		},
		"Add after AddRows": func(b *Builder) error {
			if err := b.AddRows(tm, []uint32{1}); err != nil {
				return nil
			}
			return b.Add(2, []Term{tm})
		},
		"AddRows after Add": func(b *Builder) error {
			if err := b.Add(1, []Term{tm}); err != nil {
				return nil
			}
			return b.AddRows(Term{"tags", "b"}, []uint32{2})
		},
	} {
		if err := f(NewBuilder()); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
