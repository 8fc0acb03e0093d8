package event

import (
	"encoding/binary"
	"math/bits"
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

// firstStop returns the index of the first byte of w (eight bytes of a
// string, little-endian) that stops a plain run, '"', '\\' or a control
// character, or 8 when none does: what stopsPlain's lowest mark must say.
func firstStop(w [8]byte) int {
	for i, c := range w {
		if c == '"' || c == '\\' || c < 0x20 {
			return i
		}
	}
	return 8
}

// checkStopsPlain fails unless stopsPlain of w marks its first stopping
// byte as the lowest, or nothing when none stops.
func checkStopsPlain(t interface{ Fatalf(string, ...any) }, w [8]byte) {
	v := binary.LittleEndian.Uint64(w[:])
	got := 8
	if m := stopsPlain(v); m != 0 {
		got = bits.TrailingZeros64(m) / 8
	}
	if want := firstStop(w); got != want {
		t.Fatalf("stopsPlain(%q) marks byte %d first, want %d", w, got, want)
	}
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
				checkStopsPlain(t, w)
			}
		}
	}
}

// TestPropertyStopsPlain checks stopsPlain on words of several stopping
// bytes among bytes that borrow or nearly match ('!', '[', ']', 0x1f,
// 0x20, 0x7f, 0x80, 0xa0, 0xff...).
func TestPropertyStopsPlain(t *testing.T) {
	near := []byte{0, 1, 0x1f, 0x20, 0x21, '"', '#', '\\', '[', ']', 'a', 0x7f, 0x80, 0x9f, 0xa0, 0xa2, 0xdc, 0xff}
	rapid.Check(t, func(t *rapid.T) {
		var w [8]byte
		for i := range w {
			w[i] = rapid.SampledFrom(near).Draw(t, "byte")
		}
		checkStopsPlain(t, w)
	})
}
