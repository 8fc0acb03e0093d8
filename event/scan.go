package event

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// scanner is the low-level JSON reader under Decode: it walks data by byte
// offset and reports syntax errors with that offset. Strings without escapes
// are returned as substrings of text, a single copy of data, so decoding a
// document allocates its string bytes once and never aliases data.
type scanner struct {
	data []byte
	text string // string(data)
	i    int
	buf  []byte // scratch for unescaping
}

// plainASCII marks the bytes a string holds as they are: ASCII other than
// control characters, '"' and '\\'.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// ws skips JSON whitespace.
func (s *scanner) ws() {
	for s.i < len(s.data) && s.data[s.i] <= ' ' {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the byte at the offset, or 0 at the end of input.
func (s *scanner) peek() byte {
	if s.i < len(s.data) {
		return s.data[s.i]
	}
	return 0
}

// expect consumes c after whitespace, or fails saying what was expected.
func (s *scanner) expect(c byte, what string) error {
	s.ws()
	if s.peek() != c {
		return s.unexpected(what)
	}
	s.i++
	return nil
}

// unexpected is the syntax error for the byte at the offset.
func (s *scanner) unexpected(what string) error {
	if s.i >= len(s.data) {
		return syntaxErr(s.i, "expected %s, got end of input", what)
	}
	return syntaxErr(s.i, "expected %s", what)
}

// valueKind names the JSON type of the value starting at the offset, for
// wrong-type errors; "" if no value starts there.
func (s *scanner) valueKind() string {
	switch c := s.peek(); {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "number"
	}
	return ""
}

// skipNull consumes the null literal at the offset, which starts with
// 'n' (callers test that first, inlined).
func (s *scanner) skipNull() error {
	if len(s.data)-s.i < 4 || string(s.data[s.i:s.i+4]) != "null" {
		return syntaxErr(s.i, "expected null")
	}
	s.i += 4
	return nil
}

// str reads the string starting at the offset (which must be '"').
func (s *scanner) str() (string, error) {
	start := s.i + 1
	// Eight bytes at a time up to the first that ends the plain run: strings
	// were a quarter of decoding's time read byte by byte.
	var high uint64 // the high bits of the bytes passed: zero if all ASCII
	i, data := start, s.data
	for ; i+8 <= len(data); i += 8 {
		w := binary.LittleEndian.Uint64(data[i : i+8])
		if stop := stopsPlain(w); stop != 0 {
			n := bits.TrailingZeros64(stop) / 8 // w's first byte that stops
			high |= w & (1<<(8*n) - 1) & highBits
			if i += n; data[i] == '"' && high == 0 { // the usual end, without a call
				s.i = i + 1
				return s.text[start:i], nil
			}
			return s.strStop(start, i, high == 0)
		}
		high |= w & highBits
	}
	ascii := high == 0
	for ; i < len(s.data); i++ {
		c := s.data[i]
		if plainASCII[c] {
			continue
		}
		if c < utf8.RuneSelf {
			return s.strStop(start, i, ascii)
		}
		ascii = false
	}
	return "", syntaxErr(len(s.data), "expected '\"' to end string, got end of input")
}

// strStop ends the string begun at start at the byte at i, which is '"',
// '\\' or a control character; ascii says whether the bytes before are.
func (s *scanner) strStop(start, i int, ascii bool) (string, error) {
	switch s.data[i] {
	case '"':
		s.i = i + 1
		v := s.text[start:i]
		if !ascii && !utf8.ValidString(v) {
			return "", s.badUTF8(start, i)
		}
		return v, nil
	case '\\':
		return s.strEscaped(start, i)
	}
	return "", syntaxErr(i, "control character in string")
}

// Words of eight bytes, one constant byte repeated.
const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
)

// stopsPlain marks the bytes of w (eight bytes of a string, the first in
// the low byte) that are not plain ASCII nor a byte of a multi-byte
// character, that is '"', '\\' or a control character (bytes of 0x80 and
// above do not stop a string), by their high bit; it is zero when none
// is. Each test is the "has a zero byte" or "has a byte less than n" of
// Bit Twiddling Hacks, exact up to the first byte that matches: a borrow
// can mark bytes after it, never one before, so the lowest mark is the
// first byte that stops.
func stopsPlain(w uint64) uint64 {
	quote, backslash := w^(lowBits*'"'), w^(lowBits*'\\')
	zero := func(v uint64) uint64 { return (v - lowBits) & ^v & highBits }
	control := (w - lowBits*0x20) & ^w & highBits
	return zero(quote) | zero(backslash) | control
}

// badUTF8 reports the first invalid UTF-8 byte in data[from:to].
func (s *scanner) badUTF8(from, to int) error {
	for i := from; i < to; {
		r, n := utf8.DecodeRune(s.data[i:to])
		if r == utf8.RuneError && n == 1 {
			return syntaxErr(i, "invalid UTF-8 in string")
		}
		i += n
	}
	return syntaxErr(from, "invalid UTF-8 in string")
}

// strEscaped reads the rest of a string from the first backslash at esc,
// unescaping into the scratch buffer.
func (s *scanner) strEscaped(start, esc int) (string, error) {
	b := append(s.buf[:0], s.data[start:esc]...)
	i := esc
	for i < len(s.data) {
		c := s.data[i]
		switch {
		case c == '"':
			s.i = i + 1
			s.buf = b
			return string(b), nil
		case c == '\\':
			var err error
			if b, i, err = s.unescape(b, i); err != nil {
				return "", err
			}
		case c < 0x20:
			return "", syntaxErr(i, "control character in string")
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, n := utf8.DecodeRune(s.data[i:])
			if r == utf8.RuneError && n == 1 {
				return "", syntaxErr(i, "invalid UTF-8 in string")
			}
			b = append(b, s.data[i:i+n]...)
			i += n
		}
	}
	return "", syntaxErr(len(s.data), "expected '\"' to end string, got end of input")
}

// unescape decodes the escape at data[i] ('\\') onto b.
func (s *scanner) unescape(b []byte, i int) ([]byte, int, error) {
	if i+1 >= len(s.data) {
		return b, i, syntaxErr(i, "expected escape character, got end of input")
	}
	switch c := s.data[i+1]; c {
	case '"', '\\', '/':
		return append(b, c), i + 2, nil
	case 'b':
		return append(b, '\b'), i + 2, nil
	case 'f':
		return append(b, '\f'), i + 2, nil
	case 'n':
		return append(b, '\n'), i + 2, nil
	case 'r':
		return append(b, '\r'), i + 2, nil
	case 't':
		return append(b, '\t'), i + 2, nil
	case 'u':
		return s.unescapeU(b, i)
	}
	return b, i, syntaxErr(i, "invalid escape in string")
}

// unescapeU decodes \uXXXX (and a following low surrogate) at data[i].
func (s *scanner) unescapeU(b []byte, i int) ([]byte, int, error) {
	r, ok := s.hex4(i + 2)
	if !ok {
		return b, i, syntaxErr(i, `expected four hex digits after \u`)
	}
	next := i + 6
	if utf16.IsSurrogate(r) {
		lo, ok := rune(0), false
		if next+1 < len(s.data) && s.data[next] == '\\' && s.data[next+1] == 'u' {
			lo, ok = s.hex4(next + 2)
		}
		pair := utf16.DecodeRune(r, lo)
		if !ok || pair == utf8.RuneError {
			return b, i, syntaxErr(i, `unpaired surrogate in \u escape`)
		}
		r, next = pair, next+6
	}
	return utf8.AppendRune(b, r), next, nil
}

// hex4 parses four hex digits at data[i:].
func (s *scanner) hex4(i int) (rune, bool) {
	if i+4 > len(s.data) {
		return 0, false
	}
	var r rune
	for _, c := range s.data[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// number reads the JSON number at the offset and reports whether it is an
// integer (no fraction, no exponent).
func (s *scanner) number() (lit string, isInt bool, err error) {
	start, i := s.i, s.i
	if i < len(s.data) && s.data[i] == '-' {
		i++
	}
	switch {
	case i < len(s.data) && s.data[i] == '0':
		i++
	case i < len(s.data) && s.data[i] >= '1' && s.data[i] <= '9':
		i = s.digits(i)
	default:
		return "", false, syntaxErr(i, "expected a digit in number")
	}
	isInt = true
	if i < len(s.data) && s.data[i] == '.' {
		isInt = false
		if i+1 >= len(s.data) || !isDigit(s.data[i+1]) {
			return "", false, syntaxErr(i+1, "expected a digit after decimal point")
		}
		i = s.digits(i + 1)
	}
	if i < len(s.data) && (s.data[i] == 'e' || s.data[i] == 'E') {
		isInt = false
		i++
		if i < len(s.data) && (s.data[i] == '+' || s.data[i] == '-') {
			i++
		}
		if i >= len(s.data) || !isDigit(s.data[i]) {
			return "", false, syntaxErr(i, "expected a digit in exponent")
		}
		i = s.digits(i)
	}
	s.i = i
	return s.text[start:i], isInt, nil
}

func (s *scanner) digits(i int) int {
	for i < len(s.data) && isDigit(s.data[i]) {
		i++
	}
	return i
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// members reads the object starting at the offset ('{'), calling fn for
// each member with the scanner at the member's value (after whitespace).
func (s *scanner) members(fn func(key string, off int) error) error {
	if s.openObject() {
		return nil
	}
	for {
		off := s.i
		key, err := s.memberKey()
		if err != nil {
			return err
		}
		if err := fn(key, off); err != nil {
			return err
		}
		if more, err := s.nextMember(); !more || err != nil {
			return err
		}
	}
}

// openObject consumes the '{' at the offset and the whitespace after it,
// and reports whether a '}' then closed the object at once (consumed).
func (s *scanner) openObject() (empty bool) {
	s.i++
	s.ws()
	if s.peek() == '}' {
		s.i++
		return true
	}
	return false
}

// memberKey reads a member's key at the offset, the ':' after it and the
// whitespace after that.
func (s *scanner) memberKey() (string, error) {
	if s.peek() != '"' {
		return "", s.unexpected("'\"' to start an object key")
	}
	key, err := s.str()
	if err != nil {
		return "", err
	}
	if err := s.expect(':', "':' after object key"); err != nil {
		return "", err
	}
	s.ws()
	return key, nil
}

// keyIs consumes k's key and colon and the whitespace after them when
// the input at the offset starts with them, and reports whether it did:
// the key memberKey would read there, found with two comparisons of
// eight bytes when the key is short.
func (s *scanner) keyIs(k *keyColon) bool {
	n := len(k.text)
	if n <= 16 && len(s.data)-s.i >= 16 {
		b := s.data[s.i : s.i+16]
		if binary.LittleEndian.Uint64(b)&k.mask[0] != k.word[0] || binary.LittleEndian.Uint64(b[8:])&k.mask[1] != k.word[1] {
			return false
		}
	} else if len(s.data)-s.i < n || string(s.data[s.i:s.i+n]) != k.text {
		return false
	}
	s.i += n
	s.ws()
	return true
}

// A keyColon is a plain key (no escape, no control character, ASCII)
// as it appears in the input before its value, `"key":`, for keyIs.
type keyColon struct {
	text string
	// word is text's first sixteen bytes as two little-endian words,
	// padded with zeros, and mask keeps the bytes of text in them.
	word, mask [2]uint64
}

// newKeyColon returns the keyColon of key.
func newKeyColon(key string) keyColon {
	k := keyColon{text: `"` + key + `":`}
	var w, m [16]byte
	copy(w[:], k.text)
	for i := range min(len(k.text), len(m)) {
		m[i] = 0xff
	}
	for i := range k.word {
		k.word[i], k.mask[i] = binary.LittleEndian.Uint64(w[8*i:]), binary.LittleEndian.Uint64(m[8*i:])
	}
	return k
}

// nextMember consumes what follows an object member: whitespace, then
// ',' and whitespace (more members follow) or '}' (the object ends).
func (s *scanner) nextMember() (more bool, err error) {
	// Compact JSON first: ',' then a key, or '}'.
	if i := s.i; i+1 < len(s.data) {
		switch c := s.data[i]; {
		case c == ',' && s.data[i+1] > ' ':
			s.i = i + 1
			return true, nil
		case c == '}':
			s.i = i + 1
			return false, nil
		}
	}
	s.ws()
	switch s.peek() {
	case ',':
		s.i++
		s.ws()
		return true, nil
	case '}':
		s.i++
		return false, nil
	}
	return false, s.unexpected("',' or '}' after object member")
}

// elements reads the array starting at the offset ('['), calling fn for
// each element with the scanner at the element (after whitespace).
func (s *scanner) elements(fn func(idx, off int) error) error {
	s.i++
	s.ws()
	if s.peek() == ']' {
		s.i++
		return nil
	}
	for idx := 0; ; idx++ {
		if err := fn(idx, s.i); err != nil {
			return err
		}
		s.ws()
		switch s.peek() {
		case ',':
			s.i++
			s.ws()
		case ']':
			s.i++
			return nil
		default:
			return s.unexpected("',' or ']' after array element")
		}
	}
}
