package index

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/klauspost/compress/zstd"
	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/cputime"
)

// idModel is what a section of client ids must answer: each id's rows.
type idModel map[string][]uint32

// buildIDs writes a section of layout l whose rows hold the model's ids
// beside a term of another field on every row (so the dictionary and the
// ids share the bitmaps area).
func buildIDs(t interface{ Fatal(...any) }, enc *zstd.Encoder, l Layout, rows int, idOf func(row int) string) ([]byte, idModel) {
	model := idModel{}
	b := NewBuilderFor(l)
	for row := range rows {
		terms := []Term{{"event.action", fmt.Sprint(row % 3)}, {"_index", "i"}}
		if id := idOf(row); id != "" {
			terms = append(terms, Term{event.ClientIDField, id})
			model[id] = append(model[id], uint32(row))
		}
		if err := b.Add(uint32(row), terms); err != nil {
			t.Fatal(err)
		}
	}
	sec, err := b.AppendTo(nil, enc)
	if err != nil {
		t.Fatal(err)
	}
	return sec, model
}

// TestIDsAnswerAsTheDictionary checks, on random ids (some on many rows,
// so stored as bitmaps; enough to fill several pages), that a LayoutV4 or
// LayoutV8 section answers every question about client ids as the model and as the
// LayoutV3 dictionary: Lookup of present and absent ids, EachPrefix and
// UnionWhere by prefix, Each (every term once, in order) and Len.
func TestIDsAnswerAsTheDictionary(t *testing.T) {
	enc, dec := codecs(t)
	rapid.Check(t, func(t *rapid.T) {
		rows := rapid.IntRange(1, 3000).Draw(t, "rows")
		ids := rapid.SliceOfN(rapid.StringMatching(`[a-c]{0,3}[0-9a-f]{1,40}`), 1, 1500).Draw(t, "ids")
		repeat := rapid.IntRange(0, 3).Draw(t, "repeat") // ids given to many rows
		idOf := func(row int) string {
			switch {
			case row%7 == 3:
				return "" // rows without a client id
			case row%5 == 0 && repeat > 0:
				return ids[row%repeat%len(ids)]
			}
			return ids[row%len(ids)]
		}
		// the paged layouts: LayoutV4, and LayoutV8, whose lists of more
		// than InlineMax rows take one of its kinds
		l := rapid.SampledFrom([]Layout{LayoutV4, LayoutV8}).Draw(t, "layout")
		sec4, model := buildIDs(t, enc, l, rows, idOf)
		sec3, _ := buildIDs(t, enc, LayoutV3, rows, idOf)
		if string(sec4[:4]) != magicOf(l) || string(sec3[:4]) != postingsMagic {
			t.Fatalf("magics %q %q", sec4[:4], sec3[:4])
		}
		p4, err := OpenLayout(sec4, dec, l)
		if err != nil {
			t.Fatal(err)
		}
		p3, err := OpenLayout(sec3, dec, LayoutV3)
		if err != nil {
			t.Fatal(err)
		}
		if p4.field(event.ClientIDField) >= 0 || p4.ids.count != len(model) {
			t.Fatalf("ids in the dictionary, or %d paged for %d", p4.ids.count, len(model))
		}
		for id, want := range model {
			bm, ok, err := p4.Lookup(Term{event.ClientIDField, id})
			if err != nil || !ok || !slices.Equal(bm.ToArray(), want) {
				t.Fatalf("Lookup(%q) = %v, %v, %v; want %v", id, bm, ok, err, want)
			}
		}
		for _, absent := range rapid.SliceOfN(rapid.StringMatching(`[a-d]{0,3}[0-9a-f]{0,40}`), 0, 50).Draw(t, "absent") {
			_, ok, err := p4.Lookup(Term{event.ClientIDField, absent})
			if _, in := model[absent]; ok != in || err != nil {
				t.Fatalf("Lookup(%q) = %v, %v; stored: %v", absent, ok, err, in)
			}
		}
		prefix := rapid.StringMatching(`[a-c]{0,2}[0-9a-f]{0,2}`).Draw(t, "prefix")
		var want []string
		for id := range model {
			if strings.HasPrefix(id, prefix) {
				want = append(want, id)
			}
		}
		slices.Sort(want)
		var got []string
		err = p4.EachPrefix(event.ClientIDField, prefix, func(v string, bm *roaring.Bitmap) error {
			if !slices.Equal(bm.ToArray(), model[v]) {
				return fmt.Errorf("%q: rows %v, want %v", v, bm.ToArray(), model[v])
			}
			got = append(got, v)
			return nil
		})
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("EachPrefix(%q) = %v, %v; want %v", prefix, got, err, want)
		}
		keep := func(v string) bool { return len(v)%2 == 0 }
		u4, err4 := p4.UnionWhere(event.ClientIDField, prefix, keep)
		u3, err3 := p3.UnionWhere(event.ClientIDField, prefix, keep)
		if err4 != nil || err3 != nil || !u4.Equals(u3) {
			t.Fatalf("UnionWhere(%q) = %v, %v; the dictionary's %v, %v", prefix, u4.ToArray(), err4, u3.ToArray(), err3)
		}
		if p4.Len() != p3.Len() {
			t.Fatalf("Len = %d, the dictionary's %d", p4.Len(), p3.Len())
		}
		if e4, e3 := eachTerms(t, p4), eachTerms(t, p3); !slices.Equal(e4, e3) {
			t.Fatalf("Each differs:\n v4 %v\n v3 %v", e4, e3)
		}
	})
}

// eachTerms lists what Each visits, with each term's rows.
func eachTerms(t *rapid.T, p *Postings) []string {
	var out []string
	err := p.Each(func(ti TermInfo) error {
		out = append(out, fmt.Sprintf("%s=%s%v", ti.Field, ti.Value, ti.Rows.ToArray()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestIDFilterFalsePositives looks up ids that are not stored: the
// filter lets some through (at about the rate it is sized for, 1 %), and
// each of those reads its page and answers "absent", as every other does.
// A lookup answered from the filter alone would make this count zero
// pages read; a filter that failed to filter would read one per lookup.
func TestIDFilterFalsePositives(t *testing.T) {
	enc, dec := codecs(t)
	const n, probes = 20_000, 40_000
	sec, model := buildIDs(t, enc, LayoutV4, n, func(row int) string { return fmt.Sprintf("stored-%08x", row*2654435761%(1<<32)) })
	p, err := Open(sec, dec)
	if err != nil {
		t.Fatal(err)
	}
	passed := 0
	for i := range probes {
		id := fmt.Sprintf("absent-%08x", i)
		if p.ids.filter.TestString(id) {
			passed++
		}
		if _, ok, err := p.Lookup(Term{event.ClientIDField, id}); ok || err != nil {
			t.Fatalf("Lookup(%q) = %v, %v", id, ok, err)
		}
	}
	rate := float64(passed) / probes
	t.Logf("%d ids in %d pages; %d of %d absent ids passed the filter (%.2f %%)", len(model), len(p.ids.pages), passed, probes, 100*rate)
	if passed == 0 || rate > 0.02 {
		t.Errorf("false-positive rate %.4f, want about %.2f", rate, idFilterFP)
	}
}

// TestIDsOutOfMemory checks what a LayoutV4 section keeps in memory for
// its ids against the LayoutV3 dictionary that held them: on 40,000
// UUIDs, the filter and page directory take under 3 bytes an id where the
// dictionary took over 40 (the ids themselves); on disk the paged ids
// take no more than 10 % over the dictionary's zstd frame.
func TestIDsOutOfMemory(t *testing.T) {
	enc, dec := codecs(t)
	const n = 40_000
	idOf := func(row int) string { return uuidOf(row) }
	sec3, _ := buildIDs(t, enc, LayoutV3, n, idOf)
	sec4, _ := buildIDs(t, enc, LayoutV4, n, idOf)
	noIDs, _ := buildIDs(t, enc, LayoutV3, n, func(int) string { return "" })
	p3, err := Open(sec3, dec)
	if err != nil {
		t.Fatal(err)
	}
	p4, err := Open(sec4, dec)
	if err != nil {
		t.Fatal(err)
	}
	p0, err := Open(noIDs, dec)
	if err != nil {
		t.Fatal(err)
	}
	mem3 := float64(p3.MemoryBytes()-p0.MemoryBytes()) / n
	mem4 := float64(p4.MemoryBytes()-p0.MemoryBytes()) / n
	disk3 := float64(len(sec3)-len(noIDs)) / n
	disk4 := float64(len(sec4)-len(noIDs)) / n
	t.Logf("bytes an id: in memory %.2f (v3 dictionary) -> %.2f (v4 filter %.2f + directory); on disk %.2f -> %.2f; %d pages",
		mem3, mem4, float64(p4.ids.filterBytes)/n, disk3, disk4, len(p4.ids.pages))
	if mem4 > 3 || mem3 < 40 {
		t.Errorf("memory an id: v4 %.2f (want < 3), v3 %.2f (want > 40)", mem4, mem3)
	}
	if disk4 > disk3*1.1 {
		t.Errorf("disk an id: v4 %.2f, over 110 %% of v3's %.2f", disk4, disk3)
	}
}

// uuidOf returns a UUID-shaped id, scattered over the id space as random
// ids are.
func uuidOf(i int) string {
	x := uint64(i)*0x9E3779B97F4A7C15 + 1
	y := x*0xBF58476D1CE4E5B9 ^ x>>31
	return fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", uint32(x>>32), uint16(x>>16), uint16(x)&0xfff, uint16(y>>48)&0xfff, y&0xffffffffffff)
}

// TestIDsDamage flips every byte of the ids part of a section (and a
// sample of the rest): Open fails with ErrCorrupt, or every lookup and
// Each answer or fail with ErrCorrupt; nothing panics.
func TestIDsDamage(t *testing.T) {
	enc, dec := codecs(t)
	sec, model := buildIDs(t, enc, LayoutV4, 400, func(row int) string { return fmt.Sprintf("id-%d", row%150) })
	var sample []string
	for id := range model {
		if len(sample) < 12 {
			sample = append(sample, id)
		}
	}
	idsOff := int(sec[16]) | int(sec[17])<<8 | int(sec[18])<<16
	for off := range sec {
		if off < idsOff && off%17 != 0 {
			continue
		}
		d := slices.Clone(sec)
		d[off] ^= 0xa5
		p, err := Open(d, dec)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("byte %d: Open: %v", off, err)
			}
			continue
		}
		for _, id := range sample {
			if _, _, err := p.Lookup(Term{event.ClientIDField, id}); err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("byte %d: Lookup: %v", off, err)
			}
		}
		if err := p.Each(func(TermInfo) error { return nil }); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("byte %d: Each: %v", off, err)
		}
		if _, err := p.UnionWhere(event.ClientIDField, "id-1", nil); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("byte %d: UnionWhere: %v", off, err)
		}
	}
}

// TestOpenLayout: a file's version says its postings layout; a section of
// the other layout is damage.
func TestOpenLayout(t *testing.T) {
	enc, dec := codecs(t)
	sec3, _ := buildIDs(t, enc, LayoutV3, 10, func(row int) string { return fmt.Sprint(row) })
	sec4, _ := buildIDs(t, enc, LayoutV4, 10, func(row int) string { return fmt.Sprint(row) })
	for _, c := range []struct {
		sec []byte
		l   Layout
		ok  bool
	}{{sec3, LayoutV3, true}, {sec3, LayoutV2, true}, {sec3, LayoutV4, false}, {sec4, LayoutV4, true}, {sec4, LayoutV3, false}} {
		_, err := OpenLayout(c.sec, dec, c.l)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrCorrupt)) {
			t.Errorf("OpenLayout(%q section, layout %d) = %v", c.sec[:4], c.l, err)
		}
	}
}

// FuzzPostings feeds Open arbitrary sections, seeded with sections of
// the three section layouts (LayoutV8's with lists of its kinds); whatever opens must answer lookups, Each and prefix
// unions with rows or ErrCorrupt, never a panic.
func FuzzPostings(f *testing.F) {
	enc, dec := codecs(f)
	for _, l := range []Layout{LayoutV3, LayoutV4, LayoutV8} {
		sec, _ := buildIDs(f, enc, l, 60, func(row int) string { return fmt.Sprintf("id-%d", row%25) })
		f.Add(sec)
	}
	// a LayoutV8 section with a list of each kind, and ids on more than
	// InlineMax rows
	sec, _ := buildIDs(f, enc, LayoutV8, 400, func(row int) string {
		if row%20 == 0 {
			return "sparse"
		}
		return fmt.Sprintf("id-%d", row%3)
	})
	f.Add(sec)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Open(data, dec)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open: %v", err)
			}
			return
		}
		for _, id := range []string{"id-1", "id-24", "x"} {
			if _, _, err := p.Lookup(Term{event.ClientIDField, id}); err != nil && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Lookup: %v", err)
			}
		}
		if err := p.Each(func(TermInfo) error { return nil }); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Each: %v", err)
		}
		if _, err := p.UnionWhere(event.ClientIDField, "", nil); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("UnionWhere: %v", err)
		}
		_ = p.MemoryBytes()
	})
}

// BenchmarkLookupClientID measures the lookup of one client id in a
// segment's postings of 100,000 UUIDs, in the LayoutV3 dictionary (in
// memory) and in LayoutV4's pages (filter, then one page decompressed):
// an id that is there (hit) and one that is not (miss: the filter answers,
// but for its 1 % of false positives). It reports the bytes an id takes in
// memory and in the section.
func BenchmarkLookupClientID(b *testing.B) {
	enc, dec := codecs(b)
	const n = 100_000
	noIDs, _ := buildIDs(b, enc, LayoutV3, n, func(int) string { return "" })
	p0, err := Open(noIDs, dec)
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range []Layout{LayoutV3, LayoutV4} {
		sec, _ := buildIDs(b, enc, l, n, uuidOf)
		p, err := Open(sec, dec)
		if err != nil {
			b.Fatal(err)
		}
		for _, hit := range []bool{true, false} {
			name := fmt.Sprintf("layout=v%d/hit=%v", l, hit)
			b.Run(name, func(b *testing.B) {
				ids := make([]string, min(b.N, n))
				for i := range ids {
					if ids[i] = uuidOf(i); !hit {
						ids[i] = "x" + ids[i]
					}
				}
				b.ReportAllocs()
				b.ResetTimer()
				cpu := cputime.Process()
				for i := range b.N {
					id := ids[i%len(ids)]
					if _, ok, err := p.Lookup(Term{event.ClientIDField, id}); ok != hit || err != nil {
						b.Fatalf("Lookup(%s) = %v, %v", id, ok, err)
					}
				}
				b.ReportMetric(float64(cputime.Process()-cpu)/float64(b.N), "cpu-ns/op")
				b.ReportMetric(float64(p.MemoryBytes()-p0.MemoryBytes())/n, "mem-B/id")
				b.ReportMetric(float64(len(sec)-len(noIDs))/n, "disk-B/id")
			})
		}
	}
}
