// Package uuidtext converts canonical UUID text (8-4-4-4-12 lowercase hex
// digits) to its 16 bytes and back. Segment columns and the postings
// dictionary store such ids as 16 bytes; only the canonical lowercase
// form is packed, so the text given back is the text stored, byte for
// byte.
package uuidtext

import (
	"encoding/hex"
	"slices"
)

// TextLen is the length of a canonical UUID's text.
const TextLen = 36

// spans are the hex runs of a canonical UUID's text, at holds where each
// run's bytes start among the 16.
var (
	spans = [5][2]int{{0, 8}, {9, 13}, {14, 18}, {19, 23}, {24, TextLen}}
	at    = [5]int{0, 4, 6, 8, 10}
)

// IsCanonical reports whether s is a canonical lowercase UUID.
func IsCanonical(s string) bool {
	if len(s) != TextLen || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	// One table load per digit and no branch: a switch on the position
	// and two range tests per byte took 5 % of a seal's CPU (every string
	// column is tried as UUIDs).
	var bad byte
	for _, sp := range spans {
		for _, c := range []byte(s[sp[0]:sp[1]]) {
			bad |= notHex[c]
		}
	}
	return bad == 0
}

// notHex is 1 for every byte but the lowercase hex digits.
var notHex = func() (t [256]byte) {
	for c := range t {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			t[c] = 1
		}
	}
	return t
}()

// Bytes returns the 16 bytes of s, which must be canonical (IsCanonical).
func Bytes(s string) (b [16]byte) {
	for i, span := range spans {
		hex.Decode(b[at[i]:], []byte(s[span[0]:span[1]]))
	}
	return b
}

// AppendBytes appends the 16 bytes of s, which must be canonical.
func AppendBytes(dst []byte, s string) []byte {
	b := Bytes(s)
	return append(dst, b[:]...)
}

// AppendText appends the canonical text of the 16 bytes b. It writes
// the digits by table lookup: the postings dictionary's ref keys and the
// UUID columns turn every stored id back into text on the read path.
func AppendText(dst, b []byte) []byte {
	n := len(dst)
	dst = slices.Grow(dst, TextLen)[:n+TextLen]
	s := dst[n : n+TextLen : n+TextLen]
	_ = b[15]
	for i, p := range textAt {
		s[p], s[p+1] = hexDigits[b[i]>>4], hexDigits[b[i]&15]
	}
	s[8], s[13], s[18], s[23] = '-', '-', '-', '-'
	return dst
}

const hexDigits = "0123456789abcdef"

// textAt is where each of the 16 bytes' two digits start in the text.
var textAt = [16]uint8{0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34}

// Format returns the canonical text of the 16 bytes b.
func Format(b []byte) string { return string(AppendText(nil, b)) }
