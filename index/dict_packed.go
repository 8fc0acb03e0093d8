package index

import (
	"math/bits"
	"slices"

	"github.com/eventlogdb/eventlog/internal/decbuf"
	"github.com/eventlogdb/eventlog/internal/uuidtext"
)

// The packed dictionary of LayoutV6 ("PST3"): the dictionary of LayoutV4
// (AppendTo's dict) with each kibana.saved_objects value (a RefKey) in a
// shorter form, so that a saved-object id that is a UUID takes its 16
// bytes instead of 36 hex characters. zstd brings hex text down to about
// 4.5 bits a character; the bytes are what is left (on realistic data,
// the term dictionary's ref keys are 6.45 bytes an event as text and the
// UUIDs 4.29 as bytes). Every other byte is LayoutV4's:
//
//	dict      := uvarint(F) fieldHead×F entry×terms    (as LayoutV4)
//	entry     := value uvarint(card) payload            (as LayoutV4)
//	value     := string(value)                          fields other than
//	                                                    kibana.saved_objects
//	value     := u8(form) ...                           kibana.saved_objects:
//	  form 0:    string(key)                            the RefKey as it is
//	  form 1, 2: u8(shared) bytes(16-shared) string(type) string(space)
//	             a RefKey whose id is a canonical lowercase UUID
//	             (8-4-4-4-12 hex digits): its 16 bytes, the first shared
//	             (0..15) of them those of the previous form 1 or 2 entry's
//	             UUID (shared is 0 for the first); form 2 is primary ('p'),
//	             form 1 not ('a')
//
// Reading unpacks the whole dictionary into LayoutV4's bytes (unpackDict),
// which the reader then checks and indexes as it always has: a query sees
// the same terms in either layout. Lowercase hex sorts as its bytes do, so
// sorted keys share leading UUID bytes.

// Forms of a packed ref key.
const (
	keyAsIs     = 0
	keyUUID     = 1
	keyUUIDPrim = 2
)

// packDict returns dict (LayoutV4's form, as encode built it: trusted)
// in the packed form.
func packDict(dict []byte) []byte {
	out := make([]byte, 0, len(dict))
	var prev [16]byte
	walkDict(dict, func(field string, value []byte) {
		if field != RefField {
			out = appendString(out, string(value))
			return
		}
		out = packKey(out, value, &prev)
	}, func(payload []byte) { out = append(out, payload...) }, func(heads []byte) { out = append(out, heads...) })
	return out
}

// packKey appends the packed form of the RefKey k.
func packKey(dst, k []byte, prev *[16]byte) []byte {
	id, typ, space, primary, ok := ParseRefKey(string(k))
	if !ok || !uuidtext.IsCanonical(id) || string(AppendRefKey(nil, id, typ, space, primary)) != string(k) {
		// not a key, or one whose lengths are not written as RefKey
		// writes them: unpacking must give these bytes back
		dst = append(dst, keyAsIs)
		return appendString(dst, string(k))
	}
	dst = appendUUID(dst, id, primary, prev)
	dst = appendString(dst, typ)
	return appendString(dst, space)
}

// walkDict calls value for each entry's value, payload for the bytes of
// its card and payload, and heads once for the field heads, in order: a
// packed or plain dictionary is their concatenation. dict is trusted.
func walkDict(dict []byte, value func(field string, v []byte), payload func([]byte), heads func([]byte)) {
	d := decbuf.New(dict, ErrCorrupt)
	fields, counts := readHeads(&d)
	heads(dict[:d.Off])
	for i, f := range fields {
		for range counts[i] {
			value(f, d.Bytes(d.Count(1)))
			start := d.Off
			skipEntryPayload(&d)
			payload(dict[start:d.Off])
		}
	}
}

// readHeads reads the field heads: names and term counts.
func readHeads(d *decbuf.Buf) (fields []string, counts []int) {
	nf := d.Count(1)
	for i := 0; i < nf && d.Err == nil; i++ {
		fields = append(fields, d.Str())
		counts = append(counts, d.Count(1))
	}
	return fields, counts
}

// skipEntryPayload reads an entry's card and payload (their structure
// only: the reader's parse checks their values). An inline list's rows
// are skipped a word at a time.
func skipEntryPayload(d *decbuf.Buf) {
	card := d.Uvarint()
	if card > InlineMax {
		d.Uvarint()
		d.Uvarint()
		return
	}
	d.SkipVarints(int(card))
}

// unpackDict returns the LayoutV4 form of the packed dictionary p,
// failing with ErrCorrupt on any damage it can see, and when the result
// would pass MaxDictBytes. It reads p once, into a buffer of a guessed
// size (unpackGuess), copied into one of its exact size when the guess
// was more than a sixty-fourth too large: the dictionary a store keeps
// in memory is its bytes and at most that much more.
func unpackDict(p []byte) ([]byte, error) {
	d := decbuf.New(p, ErrCorrupt)
	fields, counts := readHeads(&d)
	out := make([]byte, 0, unpackGuess(len(p), fields, counts))
	out = append(out, p[:d.Off]...)
	var prev [16]byte
	for i, f := range fields {
		for j := 0; j < counts[i] && d.Err == nil; j++ {
			if f == RefField {
				out = unpackKey(&d, out, &prev)
			} else {
				out = appendString(out, unsafeString(d.Bytes(d.Count(1))))
			}
			start := d.Off
			skipEntryPayload(&d)
			out = append(out, p[start:d.Off]...)
			if len(out) > MaxDictBytes {
				d.Fail("dictionary unpacks past %d bytes", MaxDictBytes)
			}
		}
	}
	if d.Err == nil && d.Off != len(p) {
		d.Fail("trailing bytes in packed dictionary")
	}
	if d.Err != nil {
		return nil, d.Err
	}
	if cap(out)-len(out) > len(out)/64 {
		out = append(make([]byte, 0, len(out)), out...)
	}
	return out, nil
}

// unpackGuess is the capacity unpackDict starts with for the packed
// dictionary p of these field heads: a UUID ref key grows by 20 bytes
// (36 characters for 16 bytes, less its form and shared bytes) plus its
// length's byte and the bytes it shares with the previous one, 2 or 3 in
// a sorted dictionary of random UUIDs.
func unpackGuess(n int, fields []string, counts []int) int {
	size := n + 64
	if i := slices.Index(fields, RefField); i >= 0 {
		size += 24 * counts[i]
	}
	return min(size, MaxDictBytes)
}

// unpackKey reads one packed ref key and appends its RefKey as a string
// (uvarint length, bytes); damage fails d.
func unpackKey(d *decbuf.Buf, dst []byte, prev *[16]byte) []byte {
	dst, form, done := readKeyUUID(d, dst, prev)
	if done {
		return dst
	}
	typ := d.Bytes(d.Count(1))
	space := d.Bytes(d.Count(1))
	if d.Err != nil {
		return dst
	}
	return appendUUIDKey(dst, prev, typ, space, form == keyUUIDPrim)
}

// readKeyUUID reads the start of a packed or split ref key (formats 6 and
// 8 alike): a key stored as is is appended to dst whole, as is a damaged
// one failing d (done either way); a UUID key's id is rebuilt in prev from
// the bytes it shares with the previous key's, and its form returned for
// the caller to read the rest.
func readKeyUUID(d *decbuf.Buf, dst []byte, prev *[16]byte) (out []byte, form byte, done bool) {
	form = d.U8()
	switch form {
	case keyAsIs:
		return appendString(dst, unsafeString(d.Bytes(d.Count(1)))), form, true
	case keyUUID, keyUUIDPrim:
	default:
		d.Fail("packed ref key of form %d", form)
		return dst, form, true
	}
	shared := int(d.U8())
	if shared > 15 {
		d.Fail("packed ref key shares %d bytes", shared)
		return dst, form, true
	}
	copy(prev[shared:], d.Bytes(16-shared))
	return dst, form, false
}

// uvarintLen is the length of uvarint(n).
func uvarintLen(n int) int { return (bits.Len(uint(n)|1) + 6) / 7 }
