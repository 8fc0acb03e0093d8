package event

import (
	"encoding/binary"
	"math"
	"math/bits"
	"unsafe"
)

// DecodeBinary decodes the binary form written by AppendBinary. It checks
// every length against the bytes left and never panics on malformed input;
// errors are *FieldError wrapping ErrSyntax with the byte offset. The
// returned strings share one copy of src: src may be reused afterwards.
func DecodeBinary(src []byte) (Event, error) {
	return decodeBinary(src, string(src))
}

// DecodeBinaryShared is DecodeBinary without the copy: the event's strings
// share src's memory, so src must not change while the event, or any string
// taken from it, is in use. Sealing decodes the head's rows this way
// (replay uses IndexDecoder, which shares src the same way).
func DecodeBinaryShared(src []byte) (Event, error) {
	return decodeBinary(src, unsafe.String(unsafe.SliceData(src), len(src)))
}

// decodeBinary decodes src, whose bytes text holds as a string.
func decodeBinary(src []byte, text string) (Event, error) {
	d := binDecoder{src: src, text: text}
	if err := d.decode(); err != nil {
		return Event{}, err
	}
	return d.ev, nil
}

// decode reads d.src into d.ev, checking every field; the fields d.skip
// marks are checked as thoroughly and left out of d.ev.
func (d *binDecoder) decode() error {
	prev := -1 // field-table position of the previous field
	for d.i < len(d.src) && d.err == nil {
		off := d.i
		id := d.src[d.i]
		d.i++
		pos := tree.posByID[id]
		switch {
		case pos < 0:
			return syntaxErr(off, "unknown field id %d", id)
		case pos <= prev:
			return syntaxErr(off, "field id %d after id %d (out of order or repeated)", id, fields[prev].ID)
		}
		prev = pos
		d.present[pos/64] |= 1 << (pos % 64)
		if d.skip != nil && d.skip[pos] {
			d.skipValue(&fields[pos])
		} else {
			d.value(&fields[pos], slots[pos])
		}
	}
	return d.err
}

// binDecoder reads the binary form with a sticky error: after the first
// error every read returns zero values.
type binDecoder struct {
	src  []byte
	text string // string(src), for substrings
	i    int
	err  error
	ev   Event
	slabs
	// skip marks by field-table position the fields to check without
	// keeping (IndexDecoder); nil keeps every field.
	skip []bool
	// refBuf, when its capacity suffices, holds the decoded refs instead
	// of a new slice (IndexDecoder reuses it from event to event).
	refBuf []SavedObject
	// present has bit i set for each field fields[i] read (RowShape).
	present [2]uint64
	// labels, when not nil, is emptied and holds the decoded labels
	// instead of a new map (RowDecoder reuses it from event to event).
	labelMap map[string]string
}

func (d *binDecoder) fail(off int, format string, args ...any) {
	if d.err == nil {
		d.err = syntaxErr(off, format, args...)
	}
}

func (d *binDecoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	if d.i < len(d.src) && d.src[d.i] < 0x80 { // one byte: most lengths and counts
		d.i++
		return uint64(d.src[d.i-1])
	}
	v, n := binary.Uvarint(d.src[d.i:])
	if n <= 0 {
		d.fail(d.i, "malformed uvarint")
		return 0
	}
	d.i += n
	return v
}

func (d *binDecoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	if ux, n := uvarint9(d.src[d.i:]); n > 0 {
		d.i += n
		return int64(ux>>1) ^ -int64(ux&1) // as binary.Varint undoes the zigzag
	}
	v, n := binary.Varint(d.src[d.i:])
	if n <= 0 {
		d.fail(d.i, "malformed varint")
		return 0
	}
	d.i += n
	return v
}

// uvarint9 decodes a uvarint of at most 9 bytes at the start of b, when b
// holds 9 bytes or more, from one 8-byte word: the 7-bit groups of its
// bytes are packed in three steps rather than one byte at a time. A date's
// instant, 9 bytes in nanoseconds, took a third of decoding it byte by
// byte. n is 0 when it cannot tell (b is shorter, or the varint is
// longer): binary.Uvarint then decides, as it does for every varint
// uvarint9 decodes, to the same value and length.
func uvarint9(b []byte) (v uint64, n int) {
	if len(b) < 9 {
		return 0, 0
	}
	const high = 0x8080808080808080
	w := binary.LittleEndian.Uint64(b)
	ends := ^w & high // the top bit of each byte that ends the varint
	if ends == 0 {    // 9 bytes or more
		if b[8] >= 0x80 {
			return 0, 0
		}
		return pack7(w) | uint64(b[8])<<56, 9
	}
	last := ends & -ends // the top bit of the varint's last byte
	return pack7(w & (last<<1 - 1)), bits.TrailingZeros64(last)/8 + 1
}

// pack7 packs the low 7 bits of each byte of w, the first in the low byte,
// into 56 bits.
func pack7(w uint64) uint64 {
	w &= 0x7f7f7f7f7f7f7f7f
	w = w&0x007f007f007f007f | (w&0x7f007f007f007f00)>>1
	w = w&0x00003fff00003fff | (w&0x3fff00003fff0000)>>2
	return w&0x000000000fffffff | (w&0x0fffffff00000000)>>4
}

func (d *binDecoder) str() string {
	off := d.i
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.src)-d.i) {
		d.fail(off, "string of %d bytes runs past the end (%d left)", n, len(d.src)-d.i)
		return ""
	}
	s := d.text[d.i : d.i+int(n)]
	d.i += int(n)
	return s
}

// count reads an element count of items of at least minBytes each, checked
// against the bytes left.
func (d *binDecoder) count(minBytes int) int {
	off := d.i
	n := d.uvarint()
	if d.err == nil && (n == 0 || n > uint64(len(d.src)-d.i)/uint64(minBytes)) {
		d.fail(off, "count %d is zero or runs past the end", n)
	}
	if d.err != nil {
		return 0
	}
	return int(n)
}

func (d *binDecoder) value(f *Field, at slot) {
	off := d.i
	switch f.Kind {
	case KindString, KindIP:
		if s := d.str(); s != "" {
			*at.str(&d.ev) = s
		} else {
			d.fail(off, "field %s: empty string", f.Name)
		}
	case KindStrings:
		*at.list(&d.ev) = d.list(f)
	case KindDate:
		*at.date(&d.ev) = d.date(f)
	case KindInt:
		*at.int(&d.ev) = d.newInt(d.varint())
	case KindFloat:
		*at.float(&d.ev) = d.float(f)
	case KindDuration:
		*at.duration(&d.ev) = d.duration(f)
	case KindLabels:
		*at.labels(&d.ev) = d.labels()
	case KindRefs:
		*at.refs(&d.ev) = d.refs()
	case KindExtra:
		d.ev.Extra = d.extra(f)
	default:
		d.fail(off, "field %s: unknown kind %d", f.Name, f.Kind)
	}
}

func (d *binDecoder) list(f *Field) StringList {
	n, scalar := d.listHeader(f)
	if d.err != nil {
		return StringList{}
	}
	if cap(d.strs)-len(d.strs) < int(n) {
		d.strs = make([]string, 0, d.slabCap(int(n), cap(d.strs), 16))
	}
	start := len(d.strs)
	for range n {
		d.strs = append(d.strs, d.str())
	}
	return StringList{Values: d.strs[start:len(d.strs):len(d.strs)], Scalar: scalar}
}

// listHeader reads a list's header: its length, checked against the
// bytes left, and whether it was a single string.
func (d *binDecoder) listHeader(f *Field) (n uint64, scalar bool) {
	off := d.i
	head := d.uvarint()
	n, scalar = head>>1, head&1 == 1
	if d.err == nil && (n == 0 || n > uint64(len(d.src)-d.i) || (scalar && n != 1)) {
		d.fail(off, "field %s: bad list header %d", f.Name, head)
	}
	return n, scalar
}

func (d *binDecoder) date(f *Field) Date {
	off := d.i
	nanos := d.varint()
	format := d.uvarint()
	if d.err != nil {
		return Date{}
	}
	t, ok := DateFromParts(nanos, Format(format))
	if !ok || format > math.MaxUint32 || t.IsZero() {
		d.fail(off, "field %s: invalid date (nanos %d, format %#x)", f.Name, nanos, format)
	}
	return t
}

func (d *binDecoder) float(f *Field) *float64 {
	v, ok := d.floatValue(f)
	if !ok {
		return nil
	}
	return d.newFloat(v)
}

// floatValue reads a float; ok is false when none could be read.
func (d *binDecoder) floatValue(f *Field) (v float64, ok bool) {
	if d.err != nil {
		return 0, false
	}
	if len(d.src)-d.i < 8 {
		d.fail(d.i, "field %s: float runs past the end", f.Name)
		return 0, false
	}
	v = math.Float64frombits(binary.LittleEndian.Uint64(d.src[d.i:]))
	if math.IsNaN(v) || math.IsInf(v, 0) {
		d.fail(d.i, "field %s: non-finite float", f.Name)
	}
	d.i += 8
	return v, true
}

func (d *binDecoder) duration(f *Field) *Duration {
	return d.newDuration(d.durationValue(f))
}

func (d *binDecoder) durationValue(f *Field) Duration {
	off := d.i
	q := d.uvarint()
	n := d.varint()
	if d.err == nil && q > 1 {
		d.fail(off, "field %s: bad quoted flag %d", f.Name, q)
	}
	return Duration{Nanos: n, Quoted: q == 1}
}

func (d *binDecoder) labels() map[string]string {
	n := d.count(2)
	if d.err != nil {
		return nil
	}
	m := d.labelMap
	if m == nil {
		m = make(map[string]string, n)
	} else {
		clear(m)
	}
	d.labelPairs(n, func(k, v string) { m[k] = v })
	return m
}

// labelPairs reads n labels, checking their keys increase, and gives each
// to fn.
func (d *binDecoder) labelPairs(n int, fn func(k, v string)) {
	prev := ""
	for j := range n {
		off := d.i
		k, v := d.str(), d.str()
		if d.err == nil && j > 0 && k <= prev {
			d.fail(off, "labels: key %q not after %q", k, prev)
		}
		fn(k, v)
		prev = k
	}
}

func (d *binDecoder) refs() []SavedObject {
	n := d.count(5)
	if d.err != nil {
		return nil
	}
	refs := d.refBuf[:0]
	if cap(refs) < n {
		refs = make([]SavedObject, n)
		d.refBuf = refs
	}
	refs = refs[:n] // every string of every ref is set below
	for j := range refs {
		for _, p := range refFields(&refs[j]) {
			*p = d.str()
		}
	}
	return refs
}

// extra reads the encoded tree of kept fields and checks it.
func (d *binDecoder) extra(f *Field) Extra {
	off := d.i
	s := d.str()
	if d.err != nil {
		return Extra{}
	}
	x, err := ParseExtra(s)
	if err != nil || s == "" {
		d.fail(off, "field %s: %v", f.Name, errOrEmpty(err))
	}
	return x
}

// errOrEmpty is err, or the error of an empty value.
func errOrEmpty(err error) error {
	if err == nil {
		return fieldErr("", -1, ErrSyntax, "empty value")
	}
	return err
}
