package event

import (
	"testing"
	"unicode/utf8"

	"pgregory.net/rapid"
)

// strByBytes is scanner.str as it was before it read eight bytes at a
// time: the reference the fast path must agree with.
func strByBytes(s *scanner) (string, error) {
	start := s.i + 1
	ascii := true
	for i := start; i < len(s.data); i++ {
		c := s.data[i]
		if plainASCII[c] {
			continue
		}
		switch {
		case c == '"':
			s.i = i + 1
			v := s.text[start:i]
			if !ascii && !utf8.ValidString(v) {
				return "", s.badUTF8(start, i)
			}
			return v, nil
		case c == '\\':
			return s.strEscaped(start, i)
		case c < 0x20:
			return "", syntaxErr(i, "control character in string")
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", syntaxErr(len(s.data), "expected '\"' to end string, got end of input")
}

// TestPropertyStrAsByBytes: on any input, mostly plain bytes with the
// ones that matter (quotes, backslashes and escapes, control characters,
// DEL, valid and invalid multi-byte UTF-8) anywhere, and a string starting
// at any offset, str returns what strByBytes does: the same value, error
// and offset after it.
func TestPropertyStrAsByBytes(t *testing.T) {
	pieces := []string{"a", "Z", " ", "~", "\x7f", `"`, `\`, `\n`, `\u00e9`, `\ud83d\ude00`, `\ud800`, "\x00", "\x1f", "\t",
		"é", "😀", "\xc3", "\xff", "\x80", "\xe2\x82"}
	rapid.Check(t, func(t *rapid.T) {
		var b []byte
		b = append(b, rapid.SliceOfN(rapid.Byte(), 0, 9).Draw(t, "before")...)
		at := len(b)
		b = append(b, '"')
		for _, p := range rapid.SliceOfN(rapid.IntRange(0, len(pieces)-1), 0, 40).Draw(t, "pieces") {
			if rapid.IntRange(0, 3).Draw(t, "plain") > 0 {
				b = append(b, "abcdefgh"[:rapid.IntRange(1, 8).Draw(t, "n")]...)
			}
			b = append(b, pieces[p]...)
		}
		if rapid.Bool().Draw(t, "closed") {
			b = append(b, '"')
		}
		b = append(b, rapid.SliceOfN(rapid.Byte(), 0, 9).Draw(t, "after")...)
		fast := scanner{data: b, text: string(b), i: at}
		slow := scanner{data: b, text: string(b), i: at}
		got, err := fast.str()
		want, wantErr := strByBytes(&slow)
		if got != want || (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() || fast.i != slow.i {
			t.Fatalf("%q at %d: str gives %q, %v, offset %d; byte by byte %q, %v, offset %d", b, at, got, err, fast.i, want, wantErr, slow.i)
		}
	})
}

// TestStopsPlain checks stopsPlain against its definition on every byte
// value at every place of a word, the other bytes plain or high.
func TestStopsPlain(t *testing.T) {
	for _, fill := range []byte{'a', 0x80, 0xff, ' ', 0x21, 0x5b, 0x5d} {
		for pos := range 8 {
			for c := range 256 {
				var w [8]byte
				for i := range w {
					w[i] = fill
				}
				w[pos] = byte(c)
				stops := func(c byte) bool { return c == '"' || c == '\\' || c < 0x20 }
				want := stops(fill) || stops(byte(c))
				v := uint64(0)
				for i := 7; i >= 0; i-- {
					v = v<<8 | uint64(w[i])
				}
				if got := stopsPlain(v); got != want {
					t.Fatalf("stopsPlain(%q) = %v, want %v", w, got, want)
				}
			}
		}
	}
}
