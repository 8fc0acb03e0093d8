package index

import (
	"encoding/binary"
	"strings"
	"unsafe"

	"github.com/eventlogdb/eventlog/internal/decbuf"
	"github.com/eventlogdb/eventlog/internal/uuidtext"
)

// The split dictionary of LayoutV8: LayoutV6's packed dictionary with its
// entries' values and payloads in two runs instead of interleaved, and
// the type and space of each packed ref key as the number of the pair in
// a table, so that zstd sees the random UUID bytes, the row numbers and
// the repeated words apart (on 1M realistic events the dictionary's frame
// goes from 8.67 to 7.61 bytes an event):
//
//	split     := uvarint(F) fieldHead×F              (as LayoutV4)
//	             uvarint(P) (string(type) string(space))×P
//	             uvarint(valuesLen) svalue×terms    (valuesLen bytes)
//	             (uvarint(card) payload)×terms      (as LayoutV4's entries)
//	svalue    := string(value)                      fields other than
//	                                                kibana.saved_objects
//	svalue    := u8(form) ...                       kibana.saved_objects:
//	  form 0:    string(key)                        the RefKey as it is
//	  form 1, 2: u8(shared) bytes(16-shared) uvarint(pair)
//	             as LayoutV6's, the type and space being pair's (< P)
//
// Pairs are numbered in the order the keys first use them. Reading
// unpacks to the dictionary's plain form (entries interleaved, keys as
// text), as LayoutV6's does.

// splitDict returns dict (the plain form, as encode built it: trusted)
// in the split form.
func splitDict(dict []byte) []byte {
	var heads, values, payloads, pairs []byte
	pairOf := map[[2]string]uint64{}
	var prev [16]byte
	var again []byte // scratch: a key written again from its parts
	walkDict(dict, func(field string, b []byte) {
		// b is dict's, which no one writes while this runs, and the parts
		// of value kept past the call are cloned: a ref key is longer than
		// the 32 bytes a conversion can make on the stack, and converting
		// cost one allocation per key.
		value := unsafe.String(unsafe.SliceData(b), len(b))
		if field != RefField {
			values = appendString(values, value)
			return
		}
		id, typ, space, primary, ok := ParseRefKey(value)
		if ok = ok && uuidtext.IsCanonical(id); ok { // and written alike from its parts
			again = AppendRefKey(again[:0], id, typ, space, primary)
			ok = string(again) == value
		}
		if !ok {
			values = append(values, keyAsIs)
			values = appendString(values, value)
			return
		}
		n, seen := pairOf[[2]string{typ, space}]
		if !seen {
			n = uint64(len(pairOf))
			pairOf[[2]string{strings.Clone(typ), strings.Clone(space)}] = n
			pairs = appendString(appendString(pairs, typ), space)
		}
		values = appendUUID(values, id, primary, &prev)
		values = binary.AppendUvarint(values, n)
	}, func(payload []byte) { payloads = append(payloads, payload...) }, func(h []byte) { heads = h })
	out := make([]byte, 0, len(heads)+len(pairs)+len(values)+len(payloads)+16)
	out = append(out, heads...)
	out = binary.AppendUvarint(out, uint64(len(pairOf)))
	out = append(out, pairs...)
	out = binary.AppendUvarint(out, uint64(len(values)))
	out = append(out, values...)
	return append(out, payloads...)
}

// appendUUID appends the form, shared count and unshared bytes of a
// canonical UUID id, sharing with and updating prev: the start of a packed
// (format 6) or split (format 8) UUID key alike.
func appendUUID(dst []byte, id string, primary bool, prev *[16]byte) []byte {
	u := uuidtext.Bytes(id)
	form := byte(keyUUID)
	if primary {
		form = keyUUIDPrim
	}
	shared := 0
	for shared < 15 && u[shared] == prev[shared] {
		shared++
	}
	*prev = u
	dst = append(dst, form, byte(shared))
	return append(dst, u[shared:]...)
}

// unsplitDict returns the plain form of the split dictionary p, failing
// with ErrCorrupt on any damage it can see, and when the result would
// pass MaxDictBytes (as unpackDict).
func unsplitDict(p []byte) ([]byte, error) {
	d := decbuf.New(p, ErrCorrupt)
	fields, counts := readHeads(&d)
	headsEnd := d.Off
	np := d.Count(2)
	pairs := make([][2][]byte, 0, np)
	for i := 0; i < np && d.Err == nil; i++ {
		typ := d.Bytes(d.Count(1))
		pairs = append(pairs, [2][]byte{typ, d.Bytes(d.Count(1))})
	}
	vlen := d.Count(1)
	vals := decbuf.New(d.Bytes(vlen), ErrCorrupt)
	pays := decbuf.Buf{B: p, Off: d.Off, Invalid: ErrCorrupt}
	if d.Err != nil {
		return nil, d.Err
	}
	size := unpackGuess(len(p), fields, counts)
	if n, ok := unsplitSize(vals, pays, fields, counts, pairs); ok {
		size = headsEnd + n
	}
	out := make([]byte, 0, size)
	out = append(out, p[:headsEnd]...)
	var prev [16]byte
	for i, f := range fields {
		for j := 0; j < counts[i] && vals.Err == nil && pays.Err == nil; j++ {
			if f == RefField {
				out = unsplitKey(&vals, out, &prev, pairs)
			} else {
				out = appendString(out, unsafeString(vals.Bytes(vals.Count(1))))
			}
			start := pays.Off
			skipEntryPayload(&pays)
			out = append(out, p[start:pays.Off]...)
			if len(out) > MaxDictBytes {
				pays.Fail("dictionary unpacks past %d bytes", MaxDictBytes)
			}
		}
	}
	for _, b := range []*decbuf.Buf{&vals, &pays} {
		if b.Err == nil && b.Off != len(b.B) {
			b.Fail("trailing bytes in split dictionary")
		}
		if b.Err != nil {
			return nil, b.Err
		}
	}
	if cap(out)-len(out) > len(out)/64 {
		out = append(make([]byte, 0, len(out)), out...)
	}
	return out, nil
}

// unsplitSize returns how many bytes unsplitDict appends after the heads,
// reading copies of its values and payloads (vals, pays) as it does but
// writing nothing: the plain form is made in a buffer of its exact size.
// Sized by unpackGuess, which does not know how long each key's pair is,
// a store's first lookup of a saved object (bench IssueQueries/
// rare-object, 40 segments) grew the buffers by doubling and copied each
// to its size: 139 MB allocated where exact buffers take 36 MB. ok is false
// when the bytes are damaged or too large, which unsplitDict then reports.
func unsplitSize(vals, pays decbuf.Buf, fields []string, counts []int, pairs [][2][]byte) (n int, ok bool) {
	for i, f := range fields {
		for j := 0; j < counts[i] && vals.Err == nil && pays.Err == nil && n <= MaxDictBytes; j++ {
			if f == RefField {
				n += splitKeySize(&vals, pairs)
			} else {
				l := len(vals.Bytes(vals.Count(1)))
				n += uvarintLen(l) + l
			}
			start := pays.Off
			skipEntryPayload(&pays)
			n += pays.Off - start
		}
	}
	return n, vals.Err == nil && pays.Err == nil && n <= MaxDictBytes
}

// splitKeySize reads one split ref key as unsplitKey does and returns the
// length of what unsplitKey appends for it; damage fails d.
func splitKeySize(d *decbuf.Buf, pairs [][2][]byte) int {
	switch form := d.U8(); form {
	case keyAsIs:
		l := len(d.Bytes(d.Count(1)))
		return uvarintLen(l) + l
	case keyUUID, keyUUIDPrim:
	default:
		d.Fail("packed ref key of form %d", form)
		return 0
	}
	shared := int(d.U8())
	if shared > 15 {
		d.Fail("packed ref key shares %d bytes", shared)
		return 0
	}
	d.Bytes(16 - shared)
	n := d.Uvarint()
	if d.Err != nil || n >= uint64(len(pairs)) {
		d.Fail("ref key of pair %d of %d", n, len(pairs))
		return 0
	}
	l := uuidKeyLen(len(pairs[n][0]), len(pairs[n][1]))
	return uvarintLen(l) + l
}

// uuidKeyLen is the length of the RefKey of a UUID id with a type and a
// space of these lengths (appendUUIDKey).
func uuidKeyLen(typ, space int) int {
	return 1 + uuidtext.TextLen + uvarintLen(typ) + typ + uvarintLen(space) + space + 1
}

// unsplitKey reads one split ref key and appends its RefKey as a string;
// damage fails d.
func unsplitKey(d *decbuf.Buf, dst []byte, prev *[16]byte, pairs [][2][]byte) []byte {
	dst, form, done := readKeyUUID(d, dst, prev)
	if done {
		return dst
	}
	n := d.Uvarint()
	if d.Err != nil {
		return dst
	}
	if n >= uint64(len(pairs)) {
		d.Fail("ref key of pair %d of %d", n, len(pairs))
		return dst
	}
	return appendUUIDKey(dst, prev, pairs[n][0], pairs[n][1], form == keyUUIDPrim)
}

// appendUUIDKey appends the RefKey of the UUID u, type, space and
// primary as a string (uvarint length, bytes).
func appendUUIDKey(dst []byte, u *[16]byte, typ, space []byte, primary bool) []byte {
	dst = binary.AppendUvarint(dst, uint64(uuidKeyLen(len(typ), len(space))))
	dst = append(dst, uuidtext.TextLen)
	dst = uuidtext.AppendText(dst, u[:])
	dst = appendString(dst, unsafeString(typ))
	dst = appendString(dst, unsafeString(space))
	if primary {
		return append(dst, 'p')
	}
	return append(dst, 'a')
}
