package index

import (
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// A saved-object ref's posting value packs its identity — id, type, space,
// and whether its rel is "primary" — so a query can tell which refs a term
// stands for without reading rows. Each string is prefixed by its length
// as a uvarint, so no two refs share a key and a key parses back.

// RefKey is the LayoutV2 posting value of a ref: its id, type and space,
// then "p" for a primary ref or "a" for any other. The id comes first so
// that RefIDPrefix(id) finds every ref of an id, whatever its type.
func RefKey(id, typ, space string, primary bool) string { return refKey(id, typ, space, primary) }

// RefIDPrefix is the common prefix of the RefKeys of every ref with this
// id.
func RefIDPrefix(id string) string {
	b := binary.AppendUvarint(make([]byte, 0, len(id)+1), uint64(len(id)))
	return string(append(b, id...))
}

// ParseRefKey splits a RefKey back into its parts; ok is false when v is
// not one.
func ParseRefKey(v string) (id, typ, space string, primary, ok bool) {
	var parts [3]string
	for i := range parts {
		n, w := uvarintOf(v)
		if w <= 0 || n > uint64(len(v)-w) {
			return "", "", "", false, false
		}
		parts[i], v = v[w:w+int(n)], v[w+int(n):]
	}
	if v != "p" && v != "a" {
		return "", "", "", false, false
	}
	return parts[0], parts[1], parts[2], v == "p", true
}

// RefValue is the LayoutV1 posting value of a ref: its type, id and space,
// then "p" or "a", as RefKey.
func RefValue(typ, id, space string, primary bool) string { return refKey(typ, id, space, primary) }

// RefPrefix is the common prefix of the LayoutV1 RefValues of every ref
// with this type and id, whatever its space and rel.
func RefPrefix(typ, id string) string {
	b := make([]byte, 0, len(typ)+len(id)+2)
	for _, s := range [2]string{typ, id} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return string(b)
}

// RefTerm is the posting key of a ref in layout l.
func RefTerm(l Layout, typ, id, space string, primary bool) Term {
	if l == LayoutV1 {
		return Term{RefField, RefValue(typ, id, space, primary)}
	}
	return Term{RefField, RefKey(id, typ, space, primary)}
}

// refKey builds the key in one allocation, which the string then owns
// (nothing else holds k): it is made for every reference of every event at
// ingest and again at sealing, and copying it into a second allocation was
// a tenth of the bytes the ingest path allocated.
func refKey(a, b, c string, primary bool) string {
	size := 1 // the 'p' or 'a'
	for _, s := range [3]string{a, b, c} {
		size += (bits.Len(uint(len(s))|1)+6)/7 + len(s) // uvarint length, then the bytes
	}
	k := appendRefKey(make([]byte, 0, size), a, b, c, primary)
	return unsafe.String(unsafe.SliceData(k), len(k))
}

// AppendRefKey appends RefKey(id, typ, space, primary) to dst: a writer
// that looks keys up in a map (m[string(b)] does not allocate) builds
// each in one reused buffer.
func AppendRefKey(dst []byte, id, typ, space string, primary bool) []byte {
	return appendRefKey(dst, id, typ, space, primary)
}

func appendRefKey(k []byte, a, b, c string, primary bool) []byte {
	for _, s := range [3]string{a, b, c} {
		k = binary.AppendUvarint(k, uint64(len(s)))
		k = append(k, s...)
	}
	if primary {
		return append(k, 'p')
	}
	return append(k, 'a')
}

// uvarintOf is binary.Uvarint on a string: a query decides every ref key
// of a segment, and converting each to bytes allocated.
func uvarintOf(s string) (uint64, int) {
	var x uint64
	for i := 0; i < len(s); i++ {
		if i == binary.MaxVarintLen64 {
			return 0, -(i + 1) // overflow
		}
		b := s[i]
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				return 0, -(i + 1)
			}
			return x | uint64(b)<<(7*i), i + 1
		}
		x |= uint64(b&0x7f) << (7 * i)
	}
	return 0, 0
}
