// Package uuidtext converts canonical UUID text (8-4-4-4-12 lowercase hex
// digits) to its 16 bytes and back. Segment columns and the postings
// dictionary store such ids as 16 bytes; only the canonical lowercase
// form is packed, so the text given back is the text stored, byte for
// byte.
package uuidtext

import "encoding/hex"

// spans are the hex runs of a canonical UUID's text, at holds where each
// run's bytes start among the 16.
var (
	spans = [5][2]int{{0, 8}, {9, 13}, {14, 18}, {19, 23}, {24, 36}}
	at    = [5]int{0, 4, 6, 8, 10}
)

// IsCanonical reports whether s is a canonical lowercase UUID.
func IsCanonical(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
				return false
			}
		}
	}
	return true
}

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

// AppendText appends the canonical text of the 16 bytes b.
func AppendText(dst, b []byte) []byte {
	var s [36]byte
	for i, span := range spans {
		hex.Encode(s[span[0]:span[1]], b[at[i]:at[i]+(span[1]-span[0])/2])
	}
	s[8], s[13], s[18], s[23] = '-', '-', '-', '-'
	return append(dst, s[:]...)
}

// Format returns the canonical text of the 16 bytes b.
func Format(b []byte) string { return string(AppendText(nil, b)) }
