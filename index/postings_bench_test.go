package index

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// benchBuilder fills a builder of layout l with postings shaped like a
// realistic segment's (bench http's generator, 33,334 rows, one day):
// a skewed provider, action, outcome and log level on every row, one or
// two of 20 spaces, a user on a quarter of the rows and one or two refs
// drawn Zipf-skewed from 100,000 keys.
func benchBuilder(b *testing.B, l Layout, rows int) *Builder {
	r := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(r, 1.1, 1, 99_999)
	skewed := func(n int) string { return fmt.Sprint(min(n-1, int(r.ExpFloat64()*float64(n)/4))) }
	bl := NewBuilderFor(l)
	var terms []Term
	for row := range rows {
		terms = append(terms[:0],
			Term{"event.provider", skewed(8)}, Term{"event.action", skewed(30)},
			Term{"event.outcome", skewed(3)}, Term{"log.level", skewed(3)},
			Term{SpacesField, skewed(20)})
		if r.IntN(4) == 0 {
			terms = append(terms, Term{"user.name", skewed(320)})
		}
		for range 1 + r.IntN(2) {
			terms = append(terms, Term{RefField, RefKey(fmt.Sprintf("%08x-0000-4000-8000-000000000000", zipf.Uint64()), "alert", "default", true)})
		}
		if err := bl.Add(uint32(row), terms); err != nil {
			b.Fatal(err)
		}
	}
	return bl
}

// BenchmarkAppendTo measures writing a realistic segment's postings
// section (see benchBuilder) in the layout before the list kinds and in
// LayoutV8, which sizes every list in each kind and writes the smallest:
// the seal's cost of the encoding, per row, and the section's bytes a row.
func BenchmarkAppendTo(b *testing.B) {
	enc, _ := codecs(b)
	const rows = 33_334
	for _, l := range []Layout{LayoutV6, LayoutV8} {
		b.Run(fmt.Sprintf("layout=%d", l), func(b *testing.B) {
			bl := benchBuilder(b, l, rows)
			var sec []byte
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if sec, err = bl.AppendTo(sec[:0], enc); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/rows, "ns/row")
			b.ReportMetric(float64(len(sec))/rows, "B/row")
		})
	}
}

// BenchmarkLookupKinds measures a lookup of each of a realistic
// segment's event.action terms (see benchBuilder), whose lists are
// roaring bitmaps before LayoutV8 and mostly delta lists and bitsets in
// it: what a count by action pays per segment.
func BenchmarkLookupKinds(b *testing.B) {
	enc, dec := codecs(b)
	for _, l := range []Layout{LayoutV6, LayoutV8} {
		b.Run(fmt.Sprintf("layout=%d", l), func(b *testing.B) {
			sec, err := benchBuilder(b, l, 33_334).AppendTo(nil, enc)
			if err != nil {
				b.Fatal(err)
			}
			p, err := Open(sec, dec)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				for a := range 30 {
					if _, _, err := p.Lookup(Term{"event.action", fmt.Sprint(a)}); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
