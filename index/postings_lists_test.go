package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/internal/decbuf"
)

// kindOf returns the kind and stored length of term t's list in p (a
// LayoutV8 section's); ok false when the list is inline.
func kindOf(t interface{ Fatalf(string, ...any) }, p *Postings, term Term) (kind, length uint64, ok bool) {
	i, found := p.find(term)
	if !found {
		t.Fatalf("term %v not found", term)
	}
	d := decbuf.Buf{B: p.dict, Off: int(p.entries[i]), Invalid: ErrCorrupt}
	d.Bytes(d.Count(1))
	if d.Uvarint() <= InlineMax {
		return 0, 0, false
	}
	d.Uvarint()
	n := d.Uvarint()
	return n % 4, n / 4, true
}

// sizesModel is each kind's size for rows, computed apart from the writer.
func sizesModel(rows []uint32) (roar, deltas, bitset uint64) {
	bm := roaring.BitmapOf(rows...)
	bm.RunOptimize()
	roar = bm.GetSerializedSizeInBytes()
	var buf []byte
	prev := uint32(0)
	for _, r := range rows {
		buf = binary.AppendUvarint(buf, uint64(r-prev))
		prev = r
	}
	return roar, uint64(len(buf)), uint64(rows[len(rows)-1]/64+1) * 8
}

// drawRows draws a strictly increasing list of more than InlineMax rows:
// sparse, dense or in runs, over one or several 65,536-row chunks.
func drawRows(t *rapid.T) []uint32 {
	span := rapid.SampledFrom([]uint32{200, 5000, 70000, 300000}).Draw(t, "span")
	set := roaring.New()
	switch rapid.IntRange(0, 2).Draw(t, "shape") {
	case 0: // random, at some density
		per := rapid.SampledFrom([]uint32{2, 5, 30, 300}).Draw(t, "per")
		for range span / per {
			set.Add(rapid.Uint32Range(0, span-1).Draw(t, "row"))
		}
	case 1: // runs
		for range rapid.IntRange(1, 5).Draw(t, "runs") {
			lo := rapid.Uint32Range(0, span-1).Draw(t, "lo")
			set.AddRange(uint64(lo), uint64(min(span, lo+rapid.Uint32Range(1, 9000).Draw(t, "len"))))
		}
	default: // every k-th row
		k := rapid.Uint32Range(1, 200).Draw(t, "k")
		for r := rapid.Uint32Range(0, 50).Draw(t, "first"); r < span; r += k {
			set.Add(r)
		}
	}
	for set.GetCardinality() <= InlineMax {
		set.Add(rapid.Uint32Range(0, span-1).Draw(t, "more"))
	}
	return set.ToArray()
}

// TestListKinds: every list of a LayoutV8 section reads back as its rows,
// through Lookup and UnionWhere, and is stored in the smallest kind (on a
// tie: roaring, then the bitset), whose length is that kind's size
// computed apart.
func TestListKinds(t *testing.T) {
	enc, dec := codecs(t)
	rapid.Check(t, func(t *rapid.T) {
		b := NewBuilderFor(LayoutV8)
		var lists [][]uint32
		for i := range rapid.IntRange(1, 4).Draw(t, "terms") {
			rows := drawRows(t)
			lists = append(lists, rows)
			if err := b.AddRows(Term{"f", fmt.Sprint(i)}, rows); err != nil {
				t.Fatal(err)
			}
		}
		p := openBuilt(t, b, enc, dec)
		all := roaring.New()
		for i, want := range lists {
			term := Term{"f", fmt.Sprint(i)}
			bm, ok, err := p.Lookup(term)
			if err != nil || !ok || !slices.Equal(bm.ToArray(), want) {
				t.Fatalf("Lookup(%v) = %d rows, %v, %v; want %d rows", term, bm.GetCardinality(), ok, err, len(want))
			}
			if err := bm.Validate(); err != nil {
				t.Fatalf("Lookup(%v): %v", term, err)
			}
			all.AddMany(want)
			kind, length, _ := kindOf(t, p, term)
			r, d, s := sizesModel(want)
			wantKind, wantLen := uint64(listRoaring), r
			switch {
			case r <= s && r <= d:
			case s <= d:
				wantKind, wantLen = listBitset, s
			default:
				wantKind, wantLen = listDeltas, d
			}
			if kind != wantKind || length != wantLen {
				t.Fatalf("%v: kind %d of %d bytes; sizes roaring %d, deltas %d, bitset %d", term, kind, length, r, d, s)
			}
		}
		got, err := p.UnionWhere("f", "", nil)
		if err != nil || !got.Equals(all) {
			t.Fatalf("UnionWhere = %d rows, %v; want %d", got.GetCardinality(), err, all.GetCardinality())
		}
	})
}

// TestListKindsOfShapes pins the kind of three lists on 150 rows after
// 9 others (the rows golden-v8.seg adds): every eighth row is a delta
// list, the others a bitset, each half a run (roaring).
func TestListKindsOfShapes(t *testing.T) {
	enc, dec := codecs(t)
	b := NewBuilderFor(LayoutV8)
	var sparse, dense, half []uint32
	for k := range uint32(150) {
		if k%8 == 0 {
			sparse = append(sparse, 9+k)
		} else {
			dense = append(dense, 9+k)
		}
		if k < 75 {
			half = append(half, 9+k)
		}
	}
	for i, rows := range [][]uint32{sparse, dense, half} {
		if err := b.AddRows(Term{"f", fmt.Sprint(i)}, rows); err != nil {
			t.Fatal(err)
		}
	}
	p := openBuilt(t, b, enc, dec)
	for i, want := range []uint64{listDeltas, listBitset, listRoaring} {
		if kind, _, ok := kindOf(t, p, Term{"f", fmt.Sprint(i)}); !ok || kind != want {
			t.Errorf("list %d: kind %d (inline %v), want %d", i, kind, !ok, want)
		}
	}
}

// TestListDecodersRefuseDamage: damaged delta lists and bitsets fail with
// ErrCorrupt, saying why.
func TestListDecodersRefuseDamage(t *testing.T) {
	word := func(ws ...uint64) []byte {
		var b []byte
		for _, w := range ws {
			b = binary.LittleEndian.AppendUint64(b, w)
		}
		return b
	}
	cases := []struct {
		name string
		err  error
	}{}
	add := func(name string, bm *roaring.Bitmap, err error) {
		if err == nil {
			err = fmt.Errorf("decoded to %v", bm)
		}
		cases = append(cases, struct {
			name string
			err  error
		}{name, err})
	}
	bm, err := decodeDeltas([]byte{1, 2, 0}, 3)
	add("zero delta after the first", bm, err)
	bm, err = decodeDeltas([]byte{1, 2, 3, 4}, 3)
	add("bytes after the rows", bm, err)
	bm, err = decodeDeltas([]byte{1, 0x80}, 2)
	add("cut uvarint", bm, err)
	bm, err = decodeDeltas([]byte{1, 2}, 3)
	add("fewer bytes than rows", bm, err)
	bm, err = decodeDeltas([]byte{0xff, 0xff, 0xff, 0xff, 0x0f, 1}, 2)
	add("row past 2^32-1", bm, err)
	bm, err = decodeBitset(word(3, 0), 2)
	add("last word zero", bm, err)
	bm, err = decodeBitset(word(3)[:7], 2)
	add("length not words", bm, err)
	bm, err = decodeBitset(word(7), 2)
	add("card mismatch", bm, err)
	bm, err = decodeBitset(nil, 1)
	add("empty bitset", bm, err)
	for _, c := range cases {
		if !errors.Is(c.err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", c.name, c.err)
		}
	}
	if bm, err := decodeDeltas([]byte{0, 0xff, 0xff, 0x03}, 2); err != nil || !slices.Equal(bm.ToArray(), []uint32{0, 65535}) {
		t.Errorf("decodeDeltas(0, 65535) = %v, %v", bm, err)
	}
	if bm, err := decodeBitset(word(1<<63, 0, 1), 2); err != nil || !slices.Equal(bm.ToArray(), []uint32{63, 128}) {
		t.Errorf("decodeBitset(63, 128) = %v, %v", bm, err)
	}
}

// FuzzListDecoders: any bytes and card decode to a valid bitmap of card
// rows or fail with ErrCorrupt, never a panic.
func FuzzListDecoders(f *testing.F) {
	f.Add([]byte{3, 1, 1, 200, 1}, uint32(4), true)
	f.Add(binary.LittleEndian.AppendUint64(nil, 0xf0f0), uint32(8), false)
	f.Fuzz(func(t *testing.T, data []byte, card uint32, deltas bool) {
		if card <= InlineMax && deltas {
			card += InlineMax + 1 // what a reader asks of a list
		}
		var bm *roaring.Bitmap
		var err error
		if deltas {
			bm, err = decodeDeltas(data, uint64(card))
		} else {
			bm, err = decodeBitset(data, uint64(card))
		}
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v is not ErrCorrupt", err)
			}
			return
		}
		if bm.GetCardinality() != uint64(card) {
			t.Fatalf("%d rows, want %d", bm.GetCardinality(), card)
		}
		if err := bm.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestDecodedListsKept: a LayoutV8 dictionary keeps each delta list and
// bitset once decoded (the same bitmap answers the next lookup), and
// counts them in MemoryBytes from Open on, no less than the bitmaps'
// own size once all are decoded.
func TestDecodedListsKept(t *testing.T) {
	enc, dec := codecs(t)
	rapid.Check(t, func(t *rapid.T) {
		b := NewBuilderFor(LayoutV8)
		var lists [][]uint32
		for i := range rapid.IntRange(1, 6).Draw(t, "terms") {
			rows := drawRows(t)
			lists = append(lists, rows)
			if err := b.AddRows(Term{"f", fmt.Sprint(i)}, rows); err != nil {
				t.Fatal(err)
			}
		}
		p := openBuilt(t, b, enc, dec)
		before := p.MemoryBytes()
		var decodedSize uint64
		for i, want := range lists {
			term := Term{"f", fmt.Sprint(i)}
			bm1, _, err1 := p.Lookup(term)
			bm2, _, err2 := p.Lookup(term)
			if err1 != nil || err2 != nil || !slices.Equal(bm2.ToArray(), want) {
				t.Fatalf("Lookup(%v): %v, %v", term, err1, err2)
			}
			if kind, _, _ := kindOf(t, p, term); kind != listRoaring {
				if bm1 != bm2 {
					t.Fatalf("%v: list of kind %d decoded again", term, kind)
				}
				decodedSize += bm1.GetSizeInBytes()
			}
		}
		if p.MemoryBytes() != before {
			t.Fatalf("MemoryBytes %d after the lookups, %d before", p.MemoryBytes(), before)
		}
		if uint64(p.decoded.bytes) < decodedSize {
			t.Fatalf("decoded lists counted as %d bytes, take %d", p.decoded.bytes, decodedSize)
		}
	})
}
