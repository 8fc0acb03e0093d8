package index

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/klauspost/compress/zstd"

	"github.com/eventlogdb/eventlog/event"
)

// The postings section, as segments store it (all integers little-endian;
// uvarint = unsigned LEB128). Layouts up to LayoutV3 ("PST1"):
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
// LayoutV4 ("PST2") keeps the client ids (field "_id") out of dict and puts
// them after the bitmaps, in pages read on demand (postings_ids.go):
//
//	section    := header dictFrame pad bitmaps pad ids
//	header     := u32 magic "PST2" | u32 dictFrameLen | u32 dictRawLen | u32 terms
//	              | u64 idsOff        idsOff: where ids starts, from the section
//	                                  start, a multiple of 8; bitmaps end there
//	ids        := see idsPart
//
// The section carries no checksum of its own: the file holding it checks it
// (the segment footer keeps a CRC-32C of the whole section).

// InlineMax is the largest posting list stored inline in the dictionary as
// row deltas instead of as a roaring bitmap. Wire constant.
const InlineMax = 16

// Magics open a postings section: postingsMagic up to LayoutV3,
// postingsMagicV4 from LayoutV4. Wire constants.
const (
	postingsMagic   = "PST1"
	postingsMagicV4 = "PST2"
	postingsMagicV6 = "PST3" // LayoutV4's header, the dictionary packed
	postingsMagicV8 = "PST4" // LayoutV6's, lists of three kinds
)

// magicOf is the magic of layout l's sections.
func magicOf(l Layout) string {
	switch {
	case l >= LayoutV8:
		return postingsMagicV8
	case l >= LayoutV6:
		return postingsMagicV6
	case l >= LayoutV4:
		return postingsMagicV4
	default:
		return postingsMagic
	}
}

const (
	headerLen   = 16
	headerLenV4 = 24
)

// Builder accumulates the postings of rows added in increasing row order.
// The zero value is not usable; call NewBuilder.
//
// A term's rows are a plain list while they would be stored inline (at most
// InlineMax), then a roaring bitmap: a segment's memory while it is written
// grows with its rows, and a bitmap holds a common term in 2 bytes a row or
// less (1 bit once it is in most rows) where a list took 4 to 8, so a large
// compaction merge holds a fraction of what it did.
type Builder struct {
	// rows holds each term's index in lists: one map lookup per term of a
	// row finds its list, where a map of lists took a lookup and an
	// assignment (Add was a sixth of sealing's CPU).
	rows    map[Term]int // Add's; AddRows leaves it empty
	lists   []postingList
	keys    []Term   // keys[i] is lists[i]'s term
	lastRow int64    // the last row Add was given (-1: none)
	maxRow  int64    // the highest row holding a term (-1: none)
	byTerm  bool     // AddRows was used, so Add may not be
	slab    []uint32 // where AddRows puts short lists: one allocation for many terms
	layout  Layout
}

// postingList is one term's rows: small until it grows past InlineMax,
// then bm.
type postingList struct {
	small []uint32
	bm    *roaring.Bitmap
	last  uint32 // the last row added
}

// NewBuilder returns an empty Builder of the current layout (LayoutV8).
func NewBuilder() *Builder { return NewBuilderFor(LayoutV8) }

// NewBuilderFor returns an empty Builder that writes the section of layout
// l: "PST1" up to LayoutV3, "PST2" from LayoutV4, "PST3" (the dictionary
// packed) from LayoutV6, "PST4" (lists of three kinds) from LayoutV8. The terms added decide
// what a layout holds; the layout only decides where the client ids go.
func NewBuilderFor(l Layout) *Builder { return NewBuilderSized(l, 0) }

// NewBuilderSized is NewBuilderFor with room made for about terms terms
// given to AddRows, so that a caller who knows how many it adds does not
// grow the builder's lists as it goes.
func NewBuilderSized(l Layout, terms int) *Builder {
	b := &Builder{rows: map[Term]int{}, lastRow: -1, maxRow: -1, layout: l}
	b.lists, b.keys = make([]postingList, 0, terms), make([]Term, 0, terms)
	return b
}

// Layout is the layout of the section the builder writes.
func (b *Builder) Layout() Layout { return b.layout }

// MaxRow is the highest row holding a term, -1 when none does.
func (b *Builder) MaxRow() int64 { return b.maxRow }

// Add records that row has terms. Rows must be added in strictly increasing
// order; a repeated term within one row is recorded once.
func (b *Builder) Add(row uint32, terms []Term) error {
	if b.byTerm {
		return fmt.Errorf("index: row %d added by row after terms added by term", row)
	}
	if int64(row) <= b.lastRow {
		return fmt.Errorf("index: row %d added after row %d", row, b.lastRow)
	}
	b.lastRow = int64(row)
	if len(terms) > 0 {
		b.maxRow = int64(row)
	}
	for _, t := range terms {
		i, ok := b.rows[t]
		if !ok {
			i = len(b.lists)
			b.lists = append(b.lists, postingList{})
			b.keys = append(b.keys, t)
			b.rows[t] = i
		}
		pl := &b.lists[i]
		if ok && pl.last == row {
			continue
		}
		pl.add(row)
	}
	return nil
}

// AddRows records that rows (strictly increasing) have term t, which no
// earlier Add or AddRows gave: a caller holding its postings by term
// already (a head being sealed) adds them a term at a time instead of a
// row at a time. The section written is the one Add would give for the
// same rows and terms. A Builder takes either Add or AddRows, not both.
// AddRows keeps no map of the terms (AppendTo sorts them anyway): a term
// given twice is an error AppendTo reports.
func (b *Builder) AddRows(t Term, rows []uint32) error {
	if len(rows) == 0 {
		return nil
	}
	if b.lastRow >= 0 {
		return fmt.Errorf("index: term %s:%q added by term after rows added by row", t.Field, t.Value)
	}
	for i := 1; i < len(rows); i++ {
		if rows[i] <= rows[i-1] {
			return fmt.Errorf("index: term %s:%q: row %d after row %d", t.Field, t.Value, rows[i], rows[i-1])
		}
	}
	pl := postingList{last: rows[len(rows)-1]}
	if len(rows) <= InlineMax {
		if len(b.slab)+len(rows) > cap(b.slab) {
			b.slab = make([]uint32, 0, 4096)
		}
		n := len(b.slab)
		b.slab = append(b.slab, rows...)
		pl.small = b.slab[n:len(b.slab):len(b.slab)]
	} else {
		pl.bm = roaring.BitmapOf(rows...)
	}
	b.byTerm = true
	b.lists = append(b.lists, pl)
	b.keys = append(b.keys, t)
	b.maxRow = max(b.maxRow, int64(pl.last))
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
func (b *Builder) Len() int { return len(b.lists) }

// AppendTo appends the postings section to dst, compressing the dictionary
// with enc (and, from LayoutV4, the pages of client ids with pageEncoder). Bitmaps are 8-byte
// aligned relative to the section start, so the caller places the section
// at an 8-byte aligned file offset. The output is a pure function of the
// added rows and the layout.
func (b *Builder) AppendTo(dst []byte, enc *zstd.Encoder) ([]byte, error) {
	terms, lists, err := b.sorted()
	if err != nil {
		return dst, err
	}
	var ids []Term
	var idLists []postingList
	if b.layout >= LayoutV4 {
		terms, lists, ids, idLists = splitIDs(terms, lists)
	}
	var bitmaps bytes.Buffer
	dict, err := b.encode(terms, lists, &bitmaps)
	if err != nil {
		return dst, err
	}
	var idPart []byte
	if b.layout >= LayoutV4 {
		// The ids' bitmaps (ids on more than InlineMax rows) follow the
		// dictionary's in the one bitmaps area.
		if idPart, err = b.encodeIDs(ids, idLists, &bitmaps); err != nil {
			return dst, err
		}
	}
	switch {
	case b.layout >= LayoutV8:
		dict = splitDict(dict)
	case b.layout >= LayoutV6:
		dict = packDict(dict)
	}
	frame := enc.EncodeAll(dict, nil)
	// One allocation for the section: appending its parts to a nil dst
	// grew it by copying several times.
	dst = slices.Grow(dst, 32+len(frame)+bitmaps.Len()+len(idPart)+16)
	start := len(dst)
	dst = append(dst, magicOf(b.layout)...)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(frame)))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(dict)))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(terms)))
	idsOffAt := len(dst)
	if b.layout >= LayoutV4 {
		dst = binary.LittleEndian.AppendUint64(dst, 0) // idsOff, set below
	}
	dst = append(dst, frame...)
	dst = pad8(dst, start)
	dst = append(dst, bitmaps.Bytes()...)
	if b.layout < LayoutV4 {
		return dst, nil
	}
	dst = pad8(dst, start)
	binary.LittleEndian.PutUint64(dst[idsOffAt:], uint64(len(dst)-start))
	return append(dst, idPart...), nil
}

// splitIDs splits sorted terms, with their lists, into the client ids and
// the others; the ids are contiguous, the terms being sorted by field.
func splitIDs(terms []Term, lists []postingList) (rest []Term, restLists []postingList, ids []Term, idLists []postingList) {
	lo, _ := slices.BinarySearchFunc(terms, event.ClientIDField, func(t Term, f string) int { return strings.Compare(t.Field, f) })
	hi := lo
	for hi < len(terms) && terms[hi].Field == event.ClientIDField {
		hi++
	}
	if lo == hi {
		return terms, lists, nil, nil
	}
	return slices.Concat(terms[:lo], terms[hi:]), slices.Concat(lists[:lo], lists[hi:]), terms[lo:hi], lists[lo:hi]
}

func pad8(dst []byte, start int) []byte {
	for (len(dst)-start)%8 != 0 {
		dst = append(dst, 0)
	}
	return dst
}

// sorted returns the terms in order, each with its list; a term AddRows
// was given twice is an error.
func (b *Builder) sorted() ([]Term, []postingList, error) {
	order := termOrder(b.keys)
	terms := make([]Term, len(order))
	lists := make([]postingList, len(order))
	for k, o := range order {
		terms[k], lists[k] = b.keys[o.i], b.lists[o.i]
		if k > 0 && terms[k] == terms[k-1] {
			return nil, nil, fmt.Errorf("index: term %s:%q added twice", terms[k].Field, terms[k].Value)
		}
	}
	return terms, lists, nil
}

// termKey is a term's place in (Field, Value) order as far as two
// integers tell it: the rank of its field among the fields, and the first
// 8 bytes of its value, big-endian (zero-padded); i is its index.
type termKey struct {
	prefix uint64
	field  uint32
	i      int32
}

// termOrder returns the indexes of keys in compareTerms order. It compares
// the terms' termKeys first and their values only when those are equal:
// sorting the tens of thousands of terms of a seal by strings.Compare
// through their indexes was a third of AppendTo's CPU.
func termOrder(keys []Term) []termKey {
	ranks := map[string]uint32{}
	var fields []string
	for _, t := range keys {
		if _, ok := ranks[t.Field]; !ok {
			ranks[t.Field] = 0
			fields = append(fields, t.Field)
		}
	}
	slices.Sort(fields)
	for r, f := range fields {
		ranks[f] = uint32(r)
	}
	order := make([]termKey, len(keys))
	last, lastRank := "", uint32(0)
	for i, t := range keys {
		if i == 0 || t.Field != last {
			last, lastRank = t.Field, ranks[t.Field]
		}
		order[i] = termKey{prefix: prefix8(t.Value), field: lastRank, i: int32(i)}
	}
	slices.SortFunc(order, func(a, c termKey) int {
		if a.field != c.field {
			return cmp.Compare(a.field, c.field)
		}
		if a.prefix != c.prefix {
			return cmp.Compare(a.prefix, c.prefix)
		}
		return strings.Compare(keys[a.i].Value, keys[c.i].Value)
	})
	return order
}

// prefix8 is the first 8 bytes of s as a big-endian number, zero-padded:
// for two values a < b bytewise, prefix8(a) <= prefix8(b), and
// prefix8(a) < prefix8(b) implies a < b. The seal sorts terms by it and
// a lookup narrows its search by sampled ones (Postings.narrow).
func prefix8(s string) uint64 {
	if len(s) >= 8 {
		return binary.BigEndian.Uint64([]byte(s[:8]))
	}
	var b [8]byte
	copy(b[:], s)
	return binary.BigEndian.Uint64(b[:])
}

func compareTerms(a, c Term) int {
	if n := strings.Compare(a.Field, c.Field); n != 0 {
		return n
	}
	return strings.Compare(a.Value, c.Value)
}

// encode returns the raw dictionary of terms, writing their bitmaps to
// bitmaps.
func (b *Builder) encode(terms []Term, lists []postingList, bitmaps *bytes.Buffer) (dict []byte, err error) {
	dict = appendFieldHeads(make([]byte, 0, dictSize(terms, lists)), terms)
	for i, t := range terms {
		if dict, err = appendEntry(dict, t, &lists[i], bitmaps, b.layout >= LayoutV8); err != nil {
			return nil, err
		}
	}
	return dict, nil
}

// appendEntry appends the entry (value, card, payload) of t, whose rows
// are pl, to dst; a list over InlineMax goes to bitmaps, at a multiple of 8
// from the bitmaps start: a roaring bitmap, or with kinds (LayoutV8) the
// smallest of the kinds of postings_lists.go.
func appendEntry(dst []byte, t Term, pl *postingList, bitmaps *bytes.Buffer, kinds bool) ([]byte, error) {
	dst = appendString(dst, t.Value)
	dst = binary.AppendUvarint(dst, uint64(pl.card()))
	if pl.bm == nil {
		return appendDeltas(dst, pl.small), nil
	}
	bm := pl.bm
	bm.RunOptimize()
	if kinds {
		off8, lenKind, err := appendList(bitmaps, bm)
		if err != nil {
			return nil, err
		}
		dst = binary.AppendUvarint(dst, off8)
		return binary.AppendUvarint(dst, lenKind), nil
	}
	for bitmaps.Len()%8 != 0 {
		bitmaps.WriteByte(0)
	}
	off := bitmaps.Len()
	if _, err := bm.WriteTo(bitmaps); err != nil {
		return nil, err
	}
	dst = binary.AppendUvarint(dst, uint64(off/8))
	return binary.AppendUvarint(dst, uint64(bitmaps.Len()-off)), nil
}

// dictSize bounds the bytes of the raw dictionary of terms, whose lists
// are lists, so that encode makes it in one allocation: grown by
// appending, its copies (and the page faults of each new array) were a
// fifth of AppendTo's CPU in a seal. Only a bitmap's offset and length
// are counted at their largest.
func dictSize(terms []Term, lists []postingList) int {
	n := binary.MaxVarintLen64 // the field count
	for i, t := range terms {
		if i == 0 || t.Field != terms[i-1].Field {
			n += uvarintLen(len(t.Field)) + len(t.Field) + binary.MaxVarintLen64
		}
		pl := &lists[i]
		n += uvarintLen(len(t.Value)) + len(t.Value) + uvarintLen(pl.card())
		if pl.bm != nil {
			n += 2 * binary.MaxVarintLen64
			continue
		}
		prev := uint32(0)
		for _, r := range pl.small {
			n += uvarintLen(int(r - prev))
			prev = r
		}
	}
	return n
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
