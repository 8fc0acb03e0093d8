package index

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eventlogdb/eventlog/internal/decbuf"
)

// The list kinds of LayoutV8 ("PST4"). Up to LayoutV6 every list of more
// than InlineMax rows is a roaring bitmap in the bitmaps area. A roaring
// array container takes 2 bytes a row and a bitmap container 8 KiB
// whatever the rows it spans, so on realistic data (segments of 33,000
// to 67,000 rows, terms such as event.action or kibana.spaces on a few
// percent of them) the bitmaps were 8 bytes an event where the smaller of
// a delta list and a plain bitset takes 4. From LayoutV8 an entry's
// payload says which of three forms its list takes, the writer picking
// the smallest:
//
//	payload   := uvarint(offset/8) uvarint(length*4 + kind)
//	             (card > InlineMax; the list at offset in the bitmaps
//	             area, a multiple of 8, length bytes)
//	kind 0    := roaring bitmap, as in earlier layouts
//	kind 1    := card × uvarint(row delta), the first from 0, later ones ≥ 1
//	             (the inline lists' form), exactly length bytes
//	kind 2    := u64 words, little-endian, length/8 of them: row r is bit
//	             r%64 of word r/64; the last word is not zero; card bits set
//
// Reading a kind 0 list aliases the section (as before); kinds 1 and 2
// are decoded into a bitmap of their own, checked as they are decoded,
// which the Postings keeps (decodedLists) for the next read of the term.

// List kinds. Wire constants.
const (
	listRoaring = 0
	listDeltas  = 1
	listBitset  = 2
)

// appendList writes bm (over InlineMax rows, run-optimized by the caller)
// to bitmaps, at a multiple of 8 from its start, in the smallest of the
// three kinds (on a tie the cheaper to read: roaring, then the bitset),
// and returns the payload's two uvarints' values: offset/8 and
// length*4+kind. The delta list, at least a byte a row, is only made when
// it could be the smallest.
func appendList(bitmaps *bytes.Buffer, bm *roaring.Bitmap) (uint64, uint64, error) {
	for bitmaps.Len()%8 != 0 {
		bitmaps.WriteByte(0)
	}
	off := uint64(bitmaps.Len() / 8)
	roar := int(bm.GetSerializedSizeInBytes())
	words := int(bm.DenseSize())
	best := min(roar, 8*words)
	if card := bm.GetCardinality(); card < uint64(best) {
		if deltas, ok := appendDeltaList(bitmaps, bm, best); ok {
			return off, uint64(deltas)*4 + listDeltas, nil
		}
	}
	if roar <= 8*words {
		if _, err := bm.WriteTo(bitmaps); err != nil {
			return 0, 0, err
		}
		return off, uint64(roar)*4 + listRoaring, nil
	}
	dense := make([]uint64, words)
	bm.WriteDenseTo(dense)
	start := bitmaps.Len()
	bitmaps.Grow(8 * words)
	out := bitmaps.AvailableBuffer()[:8*words]
	for i, w := range dense {
		binary.LittleEndian.PutUint64(out[8*i:], w)
	}
	bitmaps.Write(out)
	return off, uint64(bitmaps.Len()-start)*4 + listBitset, nil
}

// appendDeltaList appends bm's delta list to bitmaps when it takes fewer
// than limit bytes, returning its length; otherwise it appends nothing.
func appendDeltaList(bitmaps *bytes.Buffer, bm *roaring.Bitmap, limit int) (int, bool) {
	start := bitmaps.Len()
	bitmaps.Grow(limit)
	out := bitmaps.AvailableBuffer()
	var rows [256]uint32
	prev := uint32(0)
	it := bm.ManyIterator()
	for n := it.NextMany(rows[:]); n > 0; n = it.NextMany(rows[:]) {
		for _, r := range rows[:n] {
			out = binary.AppendUvarint(out, uint64(r-prev))
			prev = r
		}
		if len(out) >= limit {
			return 0, false
		}
	}
	bitmaps.Write(out)
	return bitmaps.Len() - start, true
}

// portable assembles a roaring bitmap (portable format, no run containers)
// from containers given in increasing key order, and reads it in place:
// the bitmap aliases the buffer, which nothing else holds.
type portable struct {
	keys  []uint16
	cards []int
	data  []byte // the containers' bytes, back to back
}

// addArray adds the array container of key holding vals (sorted low 16 bits).
func (p *portable) addArray(key uint16, vals []uint16) {
	p.keys, p.cards = append(p.keys, key), append(p.cards, len(vals))
	for _, v := range vals {
		p.data = binary.LittleEndian.AppendUint16(p.data, v)
	}
}

// addBitmap adds the bitmap container of key holding card bits of words
// (at most 1024; the rest are zero).
func (p *portable) addBitmap(key uint16, words []uint64, card int) {
	p.keys, p.cards = append(p.keys, key), append(p.cards, card)
	for _, w := range words {
		p.data = binary.LittleEndian.AppendUint64(p.data, w)
	}
	p.data = append(p.data, make([]byte, 8*(1024-len(words)))...)
}

// bitmap returns the assembled bitmap.
func (p *portable) bitmap() (*roaring.Bitmap, error) {
	const cookieNoRuns = 12346
	n := len(p.keys)
	buf := make([]byte, 0, 8+8*n+len(p.data))
	buf = binary.LittleEndian.AppendUint32(buf, cookieNoRuns)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(n))
	for i, k := range p.keys {
		buf = binary.LittleEndian.AppendUint16(buf, k)
		buf = binary.LittleEndian.AppendUint16(buf, uint16(p.cards[i]-1))
	}
	off := 8 + 8*n
	for i := range p.keys {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(off))
		if p.cards[i] > 4096 {
			off += 8192
		} else {
			off += 2 * p.cards[i]
		}
	}
	buf = append(buf, p.data...)
	bm := roaring.New()
	if _, err := bm.FromBuffer(buf); err != nil {
		return nil, corrupt("list: %v", err)
	}
	return bm, nil
}

// decodeDeltas decodes a kind 1 list of card rows, which must take all of
// b.
func decodeDeltas(b []byte, card uint64) (*roaring.Bitmap, error) {
	if card > uint64(len(b)) {
		return nil, corrupt("delta list of %d rows in %d bytes", card, len(b))
	}
	var p portable
	p.data = make([]byte, 0, 2*card)
	vals := make([]uint16, 0, min(card, 65536))
	key := -1
	var row uint64
	off := 0
	for j := uint64(0); j < card; j++ {
		var delta uint64
		if off < len(b) && b[off] < 0x80 {
			delta = uint64(b[off])
			off++
		} else {
			v, n := binary.Uvarint(b[off:])
			if n <= 0 {
				return nil, corrupt("delta list: bad uvarint")
			}
			delta, off = v, off+n
		}
		if j > 0 && delta == 0 {
			return nil, corrupt("delta list out of order")
		}
		if row += delta; row > 1<<32-1 {
			return nil, corrupt("delta list row out of range")
		}
		if k := int(row >> 16); k != key {
			p.flushArray(key, vals)
			key, vals = k, vals[:0]
		}
		vals = append(vals, uint16(row))
	}
	if off != len(b) {
		return nil, corrupt("delta list: %d bytes after its rows", len(b)-off)
	}
	p.flushArray(key, vals)
	return p.bitmap()
}

// flushArray adds the container of key (-1: none yet) holding vals, an
// array or, past 4,096 values, a bitmap.
func (p *portable) flushArray(key int, vals []uint16) {
	if key < 0 || len(vals) == 0 {
		return
	}
	if len(vals) <= 4096 {
		p.addArray(uint16(key), vals)
		return
	}
	var words [1024]uint64
	for _, v := range vals {
		words[v/64] |= 1 << (v % 64)
	}
	p.addBitmap(uint16(key), words[:], len(vals))
}

// decodeBitset decodes a kind 2 list b of card rows.
func decodeBitset(b []byte, card uint64) (*roaring.Bitmap, error) {
	if len(b) == 0 || len(b)%8 != 0 || binary.LittleEndian.Uint64(b[len(b)-8:]) == 0 {
		return nil, corrupt("bitset of %d bytes", len(b))
	}
	if len(b)/8 > (1<<32)/64 {
		return nil, corrupt("bitset past row %d", uint64(1)<<32-1)
	}
	var p portable
	total := uint64(0)
	var vals []uint16
	var words [1024]uint64
	for key := 0; len(b) > 0; key++ {
		n := min(len(b)/8, 1024)
		count := 0
		for i := range n {
			words[i] = binary.LittleEndian.Uint64(b[8*i:])
			count += bits.OnesCount64(words[i])
		}
		b = b[8*n:]
		total += uint64(count)
		switch {
		case count > 4096:
			p.addBitmap(uint16(key), words[:n], count)
		case count > 0:
			vals = vals[:0]
			for i, w := range words[:n] {
				for w != 0 {
					vals = append(vals, uint16(64*i+bits.TrailingZeros64(w)))
					w &= w - 1
				}
			}
			p.addArray(uint16(key), vals)
		}
	}
	if total != card {
		return nil, corrupt("bitset holds %d rows, want %d", total, card)
	}
	return p.bitmap()
}

// decodedLists keeps a Postings' decoded delta lists and bitsets. Their
// memory is counted from the start (MemoryBytes), as what they take once
// all are decoded, so that a cache charging a dictionary's MemoryBytes
// when it keeps it has charged them before they are made.
type decodedLists struct {
	entries []uint32 // the entries holding a list of kind 1 or 2, increasing
	bms     []atomic.Pointer[roaring.Bitmap]
	bytes   int64 // what the decoded lists take
}

// listOverhead is what a decoded list takes besides its containers'
// values: the bitmap, its portable header and container headers.
const listOverhead = 160

// note records entry i, whose bytes (value and payload, checked) are
// entry, when its list is of kind 1 or 2, adding what it will take
// decoded: for a bitset, 8 KiB a container (its rows are mostly past an
// array's 4,096 — the writer picks a bitset over more than an eighth of
// the rows) or 2 bytes a row, whichever is less, and for a delta list 2
// bytes a row (its containers are arrays) plus the overhead of each
// container, counted from its last row (scanned).
func (l *decodedLists) note(entry []byte, i uint32, bitmaps []byte) {
	d := decbuf.New(entry, ErrCorrupt)
	d.Bytes(d.Count(1))
	card := d.Uvarint()
	if card <= InlineMax {
		return
	}
	off, n := d.Uvarint()*8, d.Uvarint()
	kind, n := n%4, n/4
	switch kind {
	case listBitset:
		containers := int64(n/8+1023) / 1024
		l.bytes += listOverhead*containers + min(8192*containers, 2*int64(card))
	case listDeltas:
		var last uint64
		for b := bitmaps[off : off+n]; len(b) > 0; {
			v, k := binary.Uvarint(b)
			if k <= 0 {
				break // damage: reading the list reports it
			}
			last, b = last+v, b[k:]
		}
		l.bytes += listOverhead*int64(min(last>>16+1, card)) + 2*int64(card)
	default:
		return
	}
	l.entries = append(l.entries, i)
}

// memoryBytes is what the decoded lists take, once all are decoded, and
// their index.
func (l *decodedLists) memoryBytes() int64 {
	return l.bytes + int64(4*cap(l.entries)+8*len(l.bms))
}
