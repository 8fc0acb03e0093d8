package event

import (
	"encoding/binary"
	"math"
	"math/bits"
	"unsafe"
)

// The binary form of an event, used by the WAL records and the in-memory
// head. AppendBinary is deterministic: one event always encodes to the same
// bytes (DecodeBinary also accepts non-minimal varints).
//
//	event  := field*                     fields in field-table order (today
//	                                      that is increasing ID), each at most
//	                                      once, absent fields omitted
//	field  := id:uint8 value             id is Field.ID (a frozen wire constant)
//
//	value by Kind:
//	  String, IP  string                 never empty (empty = absent)
//	  Strings     uvarint(count<<1 | scalar) string*count
//	                                      count >= 1; scalar (1 bit) only with
//	                                      count == 1: a single JSON string
//	  Date        varint(unix nanos) uvarint(Format)
//	                                      Format as in Date.Format (fraction
//	                                      digits, offset form and minutes);
//	                                      must pass DateFromParts
//	  Int         varint(value)
//	  Float       8 bytes, IEEE 754 binary64, little-endian; finite
//	  Duration    uvarint(quoted: 0 or 1) varint(nanoseconds)
//	  Labels      uvarint(count) (key:string value:string)*count
//	                                      count >= 1, keys strictly increasing
//	                                      (bytewise)
//	  Refs        uvarint(count) (rel namespace id type type_id: string)*count
//	                                      count >= 1; each of the five strings
//	                                      may be empty (absent)
//	  Extra       string                 the encoded tree of kept unknown
//	                                      fields (FORMAT.md), never empty
//
//	string := uvarint(len) bytes         UTF-8 bytes, no terminator
//	uvarint := unsigned LEB128 (encoding/binary.AppendUvarint), at most 10 bytes
//	varint  := zigzag LEB128 (encoding/binary.AppendVarint)
//
// There is no header, length or checksum: the record that holds the event
// (WAL record, head entry) frames and checks it. DecodeBinary checks every
// length and count against the bytes left, rejects unknown IDs, IDs out of
// order or repeated, and invalid Date formats, and never panics.

// AppendBinary appends the binary form of e to dst. Labels are written
// sorted by key. Non-finite floats are omitted, as in AppendJSON.
func AppendBinary(dst []byte, e *Event) []byte {
	set := maybePresent(unsafe.Pointer(e))
	for k, word := range set {
		for ; word != 0; word &= word - 1 {
			i := k*64 + bits.TrailingZeros64(word)
			if presences[i].exact && (!slots[i].present(e) || !slots[i].finite(e)) {
				continue
			}
			dst = append(dst, fields[i].ID)
			dst = appendBinaryValue(dst, e, slots[i])
		}
	}
	return dst
}

func appendBinaryValue(b []byte, e *Event, f slot) []byte {
	switch f.kind {
	case KindString, KindIP, KindExtra:
		return appendBinString(b, *f.str(e))
	case KindStrings:
		return appendBinList(b, *f.list(e))
	case KindDate:
		d := f.date(e)
		b = binary.AppendVarint(b, d.UnixNano())
		return binary.AppendUvarint(b, uint64(d.Format()))
	case KindInt:
		return binary.AppendVarint(b, **f.int(e))
	case KindFloat:
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(**f.float(e)))
	case KindDuration:
		d := *f.duration(e)
		q := uint64(0)
		if d.Quoted {
			q = 1
		}
		return binary.AppendVarint(binary.AppendUvarint(b, q), d.Nanos)
	case KindLabels:
		return appendBinLabels(b, *f.labels(e))
	case KindRefs:
		return appendBinRefs(b, *f.refs(e))
	}
	return b
}

func appendBinString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBinList(b []byte, l StringList) []byte {
	head := uint64(len(l.Values)) << 1
	if l.Scalar && len(l.Values) == 1 {
		head |= 1
	}
	b = binary.AppendUvarint(b, head)
	for _, s := range l.Values {
		b = appendBinString(b, s)
	}
	return b
}

func appendBinLabels(b []byte, m map[string]string) []byte {
	var buf [16]string
	b = binary.AppendUvarint(b, uint64(len(m)))
	for _, k := range sortedKeys(m, buf[:]) {
		b = appendBinString(b, k)
		b = appendBinString(b, m[k])
	}
	return b
}

func appendBinRefs(b []byte, refs []SavedObject) []byte {
	b = binary.AppendUvarint(b, uint64(len(refs)))
	for i := range refs {
		for _, p := range refFields(&refs[i]) {
			b = appendBinString(b, *p)
		}
	}
	return b
}
