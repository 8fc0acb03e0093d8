package index

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/eventlogdb/eventlog/event"
	stored "github.com/eventlogdb/eventlog/internal/corrupt"
	"github.com/eventlogdb/eventlog/internal/decbuf"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/klauspost/compress/zstd"
)

// MaxDictBytes bounds the decoded dictionary of a postings section.
const MaxDictBytes = 1 << 30

// Postings reads a postings section (see AppendTo for the layout). The
// dictionary is decompressed into memory at Open; bitmaps are read straight
// from the section bytes without copying. In a LayoutV4 section the client
// ids are not in the dictionary: Open keeps their filter and page directory
// in memory, and a lookup reads the one page that can hold the id (see
// postings_ids_read.go).
//
// Lifetime: bitmaps returned by Lookup and Each alias the section bytes
// (typically a read-only mmap). They must not be mutated in place (combine
// them with roaring.And, roaring.FastOr and friends, which return new
// bitmaps) and neither they nor anything computed from them may be used after
// the section's memory goes away (unmap): copy with Clone plus
// CloneCopyOnWriteContainers to keep a result longer.
//
// A Postings is safe for concurrent use.
type Postings struct {
	fields  []fieldRange
	dict    []byte   // decoded dictionary, owned
	entries []uint32 // offset of each entry in dict, in term order
	// samples holds the first 8 bytes (prefix8) of every sampleStep-th
	// entry's value: find narrows its search to the entries between two
	// samples, which sit together in dict, before it reads any value.
	samples []uint64
	bitmaps []byte // the bitmaps area of the section (borrowed)
	ids     *idSet // the client ids of a LayoutV4 section; nil before
	kinds   bool   // LayoutV8: lists of three kinds (postings_lists.go)
	// checked has bit i set once entry i's bitmap has passed load's
	// checks: the section's bytes never change, so a bitmap looked up
	// again (every query's terms, in every segment) is not validated again.
	checked []atomic.Uint64
	// decoded keeps the dictionary's delta lists and bitsets (LayoutV8)
	// once decoded, so that a term looked up again (a space in every
	// query, an action in every count) costs what a roaring bitmap read
	// in place does.
	decoded decodedLists
}

type fieldRange struct {
	name       string
	first, end int // entries[first:end] belong to the field
}

// ErrCorrupt marks a structurally invalid postings section.
var ErrCorrupt = stored.New("corrupt postings")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// Open parses section, of either layout, decompressing its dictionary with
// dec, and checks its structure: terms sorted, lengths and offsets within
// bounds. It does not check bitmap contents (Lookup validates each bitmap
// the first time it loads it) nor the pages of client ids (each is checked when read). A
// LayoutV4 section keeps dec for those pages: it must outlive the Postings.
// It is OpenSection followed by Section.Dict.
func Open(section []byte, dec *zstd.Decoder) (*Postings, error) {
	s, err := OpenSection(section, dec)
	if err != nil {
		return nil, err
	}
	return s.Dict(dec)
}

// OpenLayout is Open for a file whose format says the section's layout:
// a section of another layout than l's ("PST1" up to LayoutV3, "PST2"
// from LayoutV4, "PST3" from LayoutV6) is damage.
func OpenLayout(section []byte, dec *zstd.Decoder, l Layout) (*Postings, error) {
	s, err := OpenSectionLayout(section, dec, l)
	if err != nil {
		return nil, err
	}
	return s.Dict(dec)
}

// OpenSectionLayout is OpenSection with OpenLayout's check of the layout.
func OpenSectionLayout(section []byte, dec *zstd.Decoder, l Layout) (*Section, error) {
	want := magicOf(l)
	if len(section) < 4 || string(section[:4]) != want {
		return nil, corrupt("bad header: layout %d sections open with %q", l, want)
	}
	return OpenSection(section, dec)
}

// MemoryBytes is what the Postings holds in memory, besides the section:
// the dictionary and its entry index, and a LayoutV4 section's id filter
// and page directory. (Its client ids are not in it; in older layouts
// they are dictionary terms, so they are.)
func (p *Postings) MemoryBytes() int64 {
	n := int64(cap(p.dict) + 4*cap(p.entries) + 8*len(p.checked) + 8*cap(p.samples))
	n += p.decoded.memoryBytes()
	for _, f := range p.fields {
		n += int64(len(f.name)) + int64(unsafe.Sizeof(f))
	}
	if p.ids != nil {
		n += p.ids.memoryBytes()
	}
	return n
}

// field returns the index of field name in p.fields, or -1.
func (p *Postings) field(name string) int {
	fi := sort.Search(len(p.fields), func(i int) bool { return p.fields[i].name >= name })
	if fi == len(p.fields) || p.fields[fi].name != name {
		return -1
	}
	return fi
}

func decodeFrame(dec *zstd.Decoder, frame []byte, rawLen uint64) ([]byte, error) {
	var h zstd.Header
	if err := h.Decode(frame); err != nil || (h.HasFCS && h.FrameContentSize != rawLen) {
		return nil, corrupt("bad dictionary frame header")
	}
	dict, err := dec.DecodeAll(frame, make([]byte, 0, min(rawLen, 4*uint64(len(frame))+4096)))
	if err != nil {
		return nil, corrupt("dictionary: %v", err)
	}
	if uint64(len(dict)) != rawLen {
		return nil, corrupt("dictionary decodes to %d bytes, want %d", len(dict), rawLen)
	}
	return dict, nil
}

// parse reads the field heads and indexes every entry, checking order and
// bounds.
func (p *Postings) parse(terms int) error {
	d := decbuf.New(p.dict, ErrCorrupt)
	nf := d.Count(1)
	total := 0
	for i := 0; i < nf && d.Err == nil; i++ {
		name := d.Str()
		n := d.Count(1)
		if i > 0 && name <= p.fields[i-1].name {
			d.Fail("fields out of order")
		}
		p.fields = append(p.fields, fieldRange{name: name, first: total, end: total + n})
		total += n
	}
	if d.Err == nil && total != terms {
		d.Fail("term count mismatch")
	}
	if d.Err != nil {
		return d.Err
	}
	p.entries = make([]uint32, 0, terms)
	p.samples = make([]uint64, 0, (terms+sampleStep-1)/sampleStep)
	p.checked = make([]atomic.Uint64, (terms+63)/64)
	return p.parseEntries(&d)
}

func (p *Postings) parseEntries(d *decbuf.Buf) error {
	var prevEnd uint64
	for _, f := range p.fields {
		var prev string
		for i := f.first; i < f.end && d.Err == nil; i++ {
			p.entries = append(p.entries, uint32(d.Off))
			v := unsafeString(d.Bytes(d.Count(1)))
			if i%sampleStep == 0 {
				p.samples = append(p.samples, prefix8(v))
			}
			if i > f.first && v <= prev {
				d.Fail("terms of %s out of order", f.name)
			}
			prev = v
			prevEnd = p.skipPayload(d, prevEnd)
			if p.kinds && d.Err == nil {
				p.decoded.note(d.B[p.entries[i]:d.Off], uint32(i), p.bitmaps)
			}
		}
	}
	p.decoded.bms = make([]atomic.Pointer[roaring.Bitmap], len(p.decoded.entries))
	if d.Err == nil && d.Off != len(d.B) {
		d.Fail("trailing bytes in dictionary")
	}
	return d.Err
}

// skipPayload checks one entry's payload; bitmaps must come in increasing,
// non-overlapping order.
func (p *Postings) skipPayload(d *decbuf.Buf, prevEnd uint64) uint64 {
	card := d.Uvarint()
	if card == 0 || card > 1<<32 {
		d.Fail("bad cardinality")
		return prevEnd
	}
	if card <= InlineMax {
		var row uint64
		for j := uint64(0); j < card; j++ {
			delta := d.Uvarint()
			if j > 0 && delta == 0 {
				d.Fail("inline rows out of order")
			}
			row += delta
		}
		if row > 1<<32-1 {
			d.Fail("inline row out of range")
		}
		return prevEnd
	}
	off, n := d.Uvarint()*8, d.Uvarint()
	if p.kinds {
		if n%4 > listBitset {
			d.Fail("list of kind %d", n%4)
		}
		n /= 4
	}
	if off < prevEnd || off > uint64(len(p.bitmaps)) || n > uint64(len(p.bitmaps))-off || n == 0 {
		d.Fail("bitmap out of bounds")
	}
	return off + n
}

// list reads the rest of a checked payload of card rows (over InlineMax)
// at d, entry i's (-1: a client id's), and returns its rows and the bytes
// they take in the section.
func (p *Postings) list(d *decbuf.Buf, card uint64, i int) (*roaring.Bitmap, int, error) {
	off, n := d.Uvarint()*8, d.Uvarint()
	kind := uint64(listRoaring)
	if p.kinds {
		kind, n = n%4, n/4
	}
	buf := p.bitmaps[off : off+n]
	if kind == listRoaring {
		bm, err := p.load(buf, card, i)
		return bm, int(n), err
	}
	k, kept := -1, false
	if i >= 0 {
		k, kept = slices.BinarySearch(p.decoded.entries, uint32(i))
		if kept {
			if bm := p.decoded.bms[k].Load(); bm != nil {
				return bm, int(n), nil
			}
		}
	}
	var bm *roaring.Bitmap
	var err error
	if kind == listDeltas {
		bm, err = decodeDeltas(buf, card)
	} else {
		bm, err = decodeBitset(buf, card)
	}
	if err == nil && kept && !p.decoded.bms[k].CompareAndSwap(nil, bm) {
		bm = p.decoded.bms[k].Load() // another read decoded it first
	}
	return bm, int(n), err
}

// Len returns the number of terms.
func (p *Postings) Len() int {
	if p.ids != nil {
		return len(p.entries) + p.ids.count
	}
	return len(p.entries)
}

// paged reports whether field's terms are in the id pages.
func (p *Postings) paged(field string) bool { return p.ids != nil && field == event.ClientIDField }

// Lookup returns the rows holding t. ok is false when no row holds it. The
// bitmap is borrowed (see Postings). An error means the bitmap is damaged.
func (p *Postings) Lookup(t Term) (bm *roaring.Bitmap, ok bool, err error) {
	if p.paged(t.Field) {
		return p.lookupID(t.Value)
	}
	i, found := p.find(t)
	if !found {
		return nil, false, nil
	}
	_, bm, _, err = p.entry(i)
	if err != nil {
		return nil, false, err
	}
	return bm, true, nil
}

// find returns the index of t's entry.
func (p *Postings) find(t Term) (int, bool) {
	fi := p.field(t.Field)
	if fi < 0 {
		return 0, false
	}
	f := p.fields[fi]
	lo, hi := p.narrow(f.first, f.end, t.Value)
	n := sort.Search(hi-lo, func(i int) bool {
		return strings.Compare(p.value(lo+i), t.Value) >= 0
	})
	i := lo + n
	return i, i < f.end && p.value(i) == t.Value
}

// sampleStep is how many entries apart Postings.samples are taken: a
// dictionary of 30,000 terms keeps 940 of them (7.5 KB), and a lookup
// reads 5 values rather than 15, each a cache miss in a dictionary
// of a megabyte (a saved object's lookup in each of 60 segments was a
// third of a warm rare-object query's CPU over HTTP).
const sampleStep = 32

// narrow returns the range [lo, hi) within [first, end) (the entries of
// one field, sorted) that holds the first entry >= v, or hi = the index
// of the first entry > v when none in [lo, hi) is: what the samples of the
// entries in [first, end) decide without reading a value.
func (p *Postings) narrow(first, end int, v string) (lo, hi int) {
	lo, hi = first, end
	if len(p.samples) == 0 {
		return lo, hi
	}
	k0, k1 := (first+sampleStep-1)/sampleStep, min((end+sampleStep-1)/sampleStep, len(p.samples))
	if k0 >= k1 {
		return lo, hi
	}
	key, s := prefix8(v), p.samples[k0:k1]
	// Samples below key are entries below v: the first entry >= v comes
	// after the last of them.
	if a := sort.Search(len(s), func(x int) bool { return s[x] >= key }); a > 0 {
		lo = (k0+a-1)*sampleStep + 1
	}
	// A sample above key is an entry above v: the first entry >= v is
	// that one or before it.
	if b := sort.Search(len(s), func(x int) bool { return s[x] > key }); b < len(s) {
		hi = (k0 + b) * sampleStep
	}
	return lo, hi
}

// value returns entry i's value without allocating; it was checked at Open.
func (p *Postings) value(i int) string {
	d := decbuf.Buf{B: p.dict, Off: int(p.entries[i]), Invalid: ErrCorrupt}
	n := int(d.Uvarint())
	return unsafeString(p.dict[d.Off : d.Off+n])
}

// entry decodes entry i: its value, its rows and the bytes its bitmap takes
// in the section (0 when inline).
func (p *Postings) entry(i int) (value string, bm *roaring.Bitmap, size int, err error) {
	d := decbuf.Buf{B: p.dict, Off: int(p.entries[i]), Invalid: ErrCorrupt}
	value = d.Str()
	bm, size, err = p.payload(&d, i)
	return value, bm, size, err
}

// payload decodes entry i's checked payload (card and rows) at d: its
// rows and the bytes its bitmap takes in the section (0 when inline).
func (p *Postings) payload(d *decbuf.Buf, i int) (*roaring.Bitmap, int, error) {
	card := d.Uvarint()
	if card <= InlineMax {
		rows := make([]uint32, card)
		var row uint64
		for j := range rows {
			row += d.Uvarint()
			rows[j] = uint32(row)
		}
		return roaring.BitmapOf(rows...), 0, d.Err
	}
	return p.list(d, card, i)
}

// load reads entry i's bitmap in place and validates it, the first time
// it is loaded (p.checked; i < 0: every time).
func (p *Postings) load(buf []byte, card uint64, i int) (*roaring.Bitmap, error) {
	bm := roaring.New()
	n, err := bm.FromBuffer(buf)
	if err != nil {
		return nil, corrupt("bitmap: %v", err)
	}
	if p.wasChecked(i) {
		return bm, nil
	}
	if n != int64(len(buf)) {
		return nil, corrupt("bitmap length %d, want %d", n, len(buf))
	}
	if err := bm.Validate(); err != nil {
		return nil, corrupt("bitmap: %v", err)
	}
	if bm.GetCardinality() != card {
		return nil, corrupt("bitmap cardinality %d, want %d", bm.GetCardinality(), card)
	}
	if i >= 0 {
		p.checked[i/64].Or(1 << (i % 64))
	}
	return bm, nil
}

// wasChecked reports whether entry i's bitmap has passed load's checks
// (i < 0: a client id's, from a page, which are not remembered).
func (p *Postings) wasChecked(i int) bool {
	return i >= 0 && p.checked[i/64].Load()&(1<<(i%64)) != 0
}

// TermInfo describes one term for Each.
type TermInfo struct {
	Term
	// Rows holds the term's rows, borrowed (see Postings).
	Rows *roaring.Bitmap
	// Bytes is the size of its bitmap in the section, 0 when inline.
	Bytes int
}

// Each calls fn for every term in order, loading and validating its
// bitmap (and reading every page of client ids). It stops at the first
// error.
func (p *Postings) Each(fn func(TermInfo) error) error {
	idsDone := p.ids == nil
	eachID := func() error {
		idsDone = true
		return p.eachID("", func(id string, raw []byte, payload int) error {
			bm, size, err := p.idRows(raw, payload)
			if err != nil {
				return fmt.Errorf("term %s=%q: %w", event.ClientIDField, id, err)
			}
			return fn(TermInfo{Term{event.ClientIDField, strings.Clone(id)}, bm, size})
		})
	}
	for _, f := range p.fields {
		if !idsDone && f.name > event.ClientIDField {
			if err := eachID(); err != nil {
				return err
			}
		}
		for i := f.first; i < f.end; i++ {
			v, bm, size, err := p.entry(i)
			if err != nil {
				return fmt.Errorf("term %s=%q: %w", f.name, v, err)
			}
			if err := fn(TermInfo{Term{f.name, v}, bm, size}); err != nil {
				return err
			}
		}
	}
	if !idsDone {
		return eachID()
	}
	return nil
}

// unsafeString views b as a string without copying. Only for the owned,
// never-modified dictionary, in comparisons that do not keep the string.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// EachPrefix calls fn, in value order, for every term of field whose value
// starts with prefix ("" visits the whole field), with its rows (borrowed,
// see Postings). It stops at the first error.
func (p *Postings) EachPrefix(field, prefix string, fn func(value string, rows *roaring.Bitmap) error) error {
	if p.paged(field) {
		return p.eachID(prefix, func(id string, raw []byte, payload int) error {
			id = strings.Clone(id)
			bm, _, err := p.idRows(raw, payload)
			if err != nil {
				return fmt.Errorf("term %s=%q: %w", field, id, err)
			}
			return fn(id, bm)
		})
	}
	lo, hi := p.prefixRange(field, prefix)
	for i := lo; i < hi; i++ {
		v, bm, _, err := p.entry(i)
		if err != nil {
			return fmt.Errorf("term %s=%q: %w", field, v, err)
		}
		if err := fn(v, bm); err != nil {
			return err
		}
	}
	return nil
}

// prefixRange returns the entries [lo, hi) of field whose values start
// with prefix.
func (p *Postings) prefixRange(field, prefix string) (lo, hi int) {
	fi := p.field(field)
	if fi < 0 {
		return 0, 0
	}
	f := p.fields[fi]
	lo = f.first + sort.Search(f.end-f.first, func(i int) bool {
		return strings.Compare(p.value(f.first+i), prefix) >= 0
	})
	hi = lo
	for hi < f.end && strings.HasPrefix(p.value(hi), prefix) {
		hi++
	}
	return lo, hi
}

// UnionWhere returns the rows of every term of field whose value starts
// with prefix and for which keep holds (nil: every one). keep sees each
// value borrowed from the dictionary and must not retain it. Inline lists
// go straight into the result, so deciding thousands of rare terms (every
// saved-object ref of a segment) loads no bitmap for each. The result may
// share containers with the section (see Postings).
func (p *Postings) UnionWhere(field, prefix string, keep func(value string) bool) (*roaring.Bitmap, error) {
	if p.paged(field) {
		return p.unionIDs(prefix, keep)
	}
	lo, hi := p.prefixRange(field, prefix)
	out := roaring.New()
	var parts []*roaring.Bitmap
	var rows []uint32
	for i := lo; i < hi; i++ {
		if keep != nil && !keep(p.value(i)) {
			continue
		}
		d := decbuf.Buf{B: p.dict, Off: int(p.entries[i]), Invalid: ErrCorrupt}
		d.Off += int(d.Uvarint()) // the value, checked at Open
		card := d.Uvarint()
		if card <= InlineMax {
			rows = rows[:0]
			var row uint64
			for range card {
				row += d.Uvarint()
				rows = append(rows, uint32(row))
			}
			out.AddMany(rows)
			continue
		}
		bm, _, err := p.list(&d, card, i)
		if err != nil {
			return nil, fmt.Errorf("term %s=%q: %w", field, strings.Clone(p.value(i)), err)
		}
		parts = append(parts, bm)
	}
	if len(parts) == 0 {
		return out, nil
	}
	return roaring.FastOr(append(parts, out)...), nil
}

// unionIDs is UnionWhere over the client ids of a LayoutV4 section. As in
// the dictionary's case, inline lists go straight into the result: most
// ids have one row.
func (p *Postings) unionIDs(prefix string, keep func(value string) bool) (*roaring.Bitmap, error) {
	out := roaring.New()
	var parts []*roaring.Bitmap
	var rows []uint32
	err := p.eachID(prefix, func(id string, raw []byte, payload int) error {
		if keep != nil && !keep(id) {
			return nil
		}
		d := decbuf.Buf{B: raw, Off: payload, Invalid: ErrCorrupt}
		if card := d.Uvarint(); card <= InlineMax {
			var row uint64
			for range card {
				row += d.Uvarint()
				rows = append(rows, uint32(row))
			}
			return nil
		}
		bm, _, err := p.idRows(raw, payload)
		if err != nil {
			return fmt.Errorf("term %s=%q: %w", event.ClientIDField, strings.Clone(id), err)
		}
		parts = append(parts, bm)
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.AddMany(rows)
	if len(parts) == 0 {
		return out, nil
	}
	return roaring.FastOr(append(parts, out)...), nil
}
