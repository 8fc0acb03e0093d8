package query

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/fnv"
	"math"
)

// A cursor (search_after) is the sort values and sequence number of the last
// hit of a page, so the next page starts exactly after it whatever arrives
// meanwhile. It is opaque to clients: base64url (no padding) of
//
//	version  byte = 1
//	sortSig  uint32 LE, FNV-1a of the sort keys (a cursor only continues its own sort)
//	count    byte, the number of values
//	values   count × (tag byte: 0 missing, 1 int → zigzag varint, 2 float → 8 bytes LE, 3 string → uvarint length + bytes)
//	seq      uvarint
//
// Only the canonical encoding is accepted.
type cursor struct {
	vals []value
	seq  uint64
}

const cursorVersion = 1

// maxCursorString bounds a string sort value in a cursor (event strings are
// limited to 64 KiB).
const maxCursorString = 64 << 10

func sortSig(keys []sortKey) uint32 {
	h := fnv.New32a()
	for _, k := range keys {
		h.Write([]byte(k.field.Name))
		if k.desc {
			h.Write([]byte{1})
		} else {
			h.Write([]byte{0})
		}
	}
	return h.Sum32()
}

func encodeCursor(keys []sortKey, h *hit) string {
	b := []byte{cursorVersion}
	b = binary.LittleEndian.AppendUint32(b, sortSig(keys))
	b = append(b, byte(len(h.vals)))
	for _, v := range h.vals {
		switch {
		case !v.present:
			b = append(b, 0)
		case v.kind == valueInt:
			b = binary.AppendVarint(append(b, 1), v.i)
		case v.kind == valueFloat:
			b = binary.LittleEndian.AppendUint64(append(b, 2), math.Float64bits(v.f))
		default:
			b = binary.AppendUvarint(append(b, 3), uint64(len(v.s)))
			b = append(b, v.s...)
		}
	}
	b = binary.AppendUvarint(b, h.seq)
	return base64.RawURLEncoding.EncodeToString(b)
}

var errBadCursor = errors.New("not a cursor of this query (malformed)")

func decodeCursor(s string, keys []sortKey) (cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) < 6 || raw[0] != cursorVersion {
		return cursor{}, errBadCursor
	}
	if binary.LittleEndian.Uint32(raw[1:]) != sortSig(keys) {
		return cursor{}, errors.New("the cursor belongs to a different sort")
	}
	if int(raw[5]) != len(keys) {
		return cursor{}, errBadCursor
	}
	c := cursor{vals: make([]value, len(keys))}
	b := raw[6:]
	for i, k := range keys {
		v, rest, ok := decodeValue(b, kindOfValue(k.field))
		if !ok {
			return cursor{}, errBadCursor
		}
		c.vals[i], b = v, rest
	}
	seq, n := binary.Uvarint(b)
	if n <= 0 || n != len(b) {
		return cursor{}, errBadCursor
	}
	c.seq = seq
	if encodeCursor(keys, &hit{vals: c.vals, seq: c.seq}) != s {
		return cursor{}, errBadCursor
	}
	return c, nil
}

func decodeValue(b []byte, kind uint8) (value, []byte, bool) {
	if len(b) == 0 {
		return value{}, nil, false
	}
	tag, b := b[0], b[1:]
	v := value{present: tag != 0, kind: kind}
	switch {
	case tag == 0:
		return v, b, true
	case tag == 1 && kind == valueInt:
		i, n := binary.Varint(b)
		if n <= 0 {
			return v, nil, false
		}
		v.i = i
		return v, b[n:], true
	case tag == 2 && kind == valueFloat && len(b) >= 8:
		v.f = math.Float64frombits(binary.LittleEndian.Uint64(b))
		return v, b[8:], !math.IsNaN(v.f)
	case tag == 3 && kind == valueString:
		l, n := binary.Uvarint(b)
		if n <= 0 || l > maxCursorString || l > uint64(len(b)-n) {
			return v, nil, false
		}
		v.s = string(b[n : n+int(l)])
		return v, b[n+int(l):], true
	}
	return v, nil, false
}
