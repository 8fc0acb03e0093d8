package index

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/klauspost/compress/zstd"
)

// The postings section, as segments store it (all integers little-endian;
// uvarint = unsigned LEB128):
//
//	section    := header dictFrame pad bitmaps
//	header     := u32 magic "PST1" | u32 dictFrameLen | u32 dictRawLen | u32 terms
//	dictFrame  := zstd frame of dict (dictFrameLen bytes, dictRawLen decoded)
//	pad        := zero bytes up to the next multiple of 8 from the section start
//	bitmaps    := roaring bitmaps (portable RoaringFormatSpec, run-optimized),
//	              each starting at a multiple of 8 from the section start,
//	              zero padding between them
//
//	dict       := uvarint(fields) fieldHead* entry*
//	fieldHead  := string(name) uvarint(terms)     names strictly increasing
//	entry      := string(value) uvarint(card) payload
//	                                             entries grouped by field in
//	                                             fieldHead order, values
//	                                             strictly increasing (bytewise)
//	payload    := card <= InlineMax: card × uvarint(row delta), the first
//	                                 delta from 0, later ones >= 1
//	              card >  InlineMax: uvarint(offset/8) uvarint(length)
//	                                 offset relative to the bitmaps start
//	string     := uvarint(len) bytes
//
// The section carries no checksum of its own: the file holding it checks it
// (the segment footer keeps a CRC-32C of the whole section).

// InlineMax is the largest posting list stored inline in the dictionary as
// row deltas instead of as a roaring bitmap. Wire constant.
const InlineMax = 16

// postingsMagic opens a postings section. Wire constant.
const postingsMagic = "PST1"

const headerLen = 16

// Builder accumulates the postings of rows added in increasing row order.
// The zero value is not usable; call NewBuilder.
//
// A term's rows are a plain list while they would be stored inline (at most
// InlineMax), then a roaring bitmap: a segment's memory while it is written
// grows with its rows, and a bitmap holds a common term in 2 bytes a row or
// less (1 bit once it is in most rows) where a list took 4 to 8, so a large
// compaction merge holds a fraction of what it did.
type Builder struct {
	rows    map[Term]postingList
	lastRow int64
}

// postingList is one term's rows: small until it grows past InlineMax,
// then bm.
type postingList struct {
	small []uint32
	bm    *roaring.Bitmap
	last  uint32 // the last row added
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	return &Builder{rows: map[Term]postingList{}, lastRow: -1}
}

// Add records that row has terms. Rows must be added in strictly increasing
// order; a repeated term within one row is recorded once.
func (b *Builder) Add(row uint32, terms []Term) error {
	if int64(row) <= b.lastRow {
		return fmt.Errorf("index: row %d added after row %d", row, b.lastRow)
	}
	b.lastRow = int64(row)
	for _, t := range terms {
		pl, ok := b.rows[t]
		if ok && pl.last == row {
			continue
		}
		pl.add(row)
		b.rows[t] = pl
	}
	return nil
}

func (pl *postingList) add(row uint32) {
	pl.last = row
	switch {
	case pl.bm != nil:
		pl.bm.Add(row)
	case len(pl.small) < InlineMax:
		pl.small = append(pl.small, row)
	default:
		pl.bm = roaring.BitmapOf(pl.small...)
		pl.bm.Add(row)
		pl.small = nil
	}
}

// card is the number of rows.
func (pl *postingList) card() int {
	if pl.bm != nil {
		return int(pl.bm.GetCardinality())
	}
	return len(pl.small)
}

// Len returns the number of distinct terms.
func (b *Builder) Len() int { return len(b.rows) }

// AppendTo appends the postings section to dst, compressing the dictionary
// with enc. Bitmaps are 8-byte aligned relative to the section start, so the
// caller places the section at an 8-byte aligned file offset. The output is a
// pure function of the added rows.
func (b *Builder) AppendTo(dst []byte, enc *zstd.Encoder) ([]byte, error) {
	terms := b.sortedTerms()
	dict, bitmaps, err := b.encode(terms)
	if err != nil {
		return dst, err
	}
	frame := enc.EncodeAll(dict, nil)
	start := len(dst)
	dst = append(dst, postingsMagic...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(frame)))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(dict)))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(terms)))
	dst = append(dst, frame...)
	dst = pad8(dst, start)
	return append(dst, bitmaps...), nil
}

func pad8(dst []byte, start int) []byte {
	for (len(dst)-start)%8 != 0 {
		dst = append(dst, 0)
	}
	return dst
}

func (b *Builder) sortedTerms() []Term {
	terms := make([]Term, 0, len(b.rows))
	for t := range b.rows {
		terms = append(terms, t)
	}
	slices.SortFunc(terms, compareTerms)
	return terms
}

func compareTerms(a, c Term) int {
	if n := strings.Compare(a.Field, c.Field); n != 0 {
		return n
	}
	return strings.Compare(a.Value, c.Value)
}

// encode returns the raw dictionary and the bitmaps area.
func (b *Builder) encode(terms []Term) (dict, bitmaps []byte, err error) {
	dict = appendFieldHeads(nil, terms)
	var buf bytes.Buffer
	for _, t := range terms {
		pl := b.rows[t]
		dict = appendString(dict, t.Value)
		dict = binary.AppendUvarint(dict, uint64(pl.card()))
		if pl.bm == nil {
			dict = appendDeltas(dict, pl.small)
			continue
		}
		for buf.Len()%8 != 0 {
			buf.WriteByte(0)
		}
		off := buf.Len()
		bm := pl.bm
		bm.RunOptimize()
		if _, err := bm.WriteTo(&buf); err != nil {
			return nil, nil, err
		}
		dict = binary.AppendUvarint(dict, uint64(off/8))
		dict = binary.AppendUvarint(dict, uint64(buf.Len()-off))
	}
	return dict, buf.Bytes(), nil
}

func appendFieldHeads(dst []byte, terms []Term) []byte {
	var names []string
	var counts []int
	for i, t := range terms {
		if i == 0 || t.Field != terms[i-1].Field {
			names = append(names, t.Field)
			counts = append(counts, 0)
		}
		counts[len(counts)-1]++
	}
	dst = binary.AppendUvarint(dst, uint64(len(names)))
	for i, n := range names {
		dst = appendString(dst, n)
		dst = binary.AppendUvarint(dst, uint64(counts[i]))
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendDeltas(dst []byte, rows []uint32) []byte {
	prev := uint32(0)
	for _, r := range rows {
		dst = binary.AppendUvarint(dst, uint64(r-prev))
		prev = r
	}
	return dst
}
