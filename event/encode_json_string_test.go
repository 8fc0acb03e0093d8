package event

import (
	"encoding/json"
	"testing"

	"pgregory.net/rapid"
)

// TestAppendStringLikeEncodingJSON checks appendString against
// encoding/json on arbitrary bytes: every ASCII byte, control characters,
// HTML characters, U+2028/U+2029 and invalid UTF-8.
func TestAppendStringLikeEncodingJSON(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var s string
		switch rapid.IntRange(0, 2).Draw(t, "kind") {
		case 0:
			s = string(rapid.SliceOf(rapid.Byte()).Draw(t, "b"))
		case 1:
			// Runs of bytes copied as they are, long enough for the eight
			// at a time, broken here and there by something else.
			b := rapid.SliceOfN(rapid.SampledFrom([]byte("abcxyz019 -_:./'ABC~\x7f")), 0, 40).Draw(t, "safe")
			others := []string{"\"", "\\", "<", ">", "&", "\x00", "\x01", "\x1f", "\x80", "\xff", "é", "\u2028", "\u2029", "日本"}
			for range rapid.IntRange(0, 3).Draw(t, "breaks") {
				at := rapid.IntRange(0, len(b)).Draw(t, "at")
				o := rapid.SampledFrom(others).Draw(t, "other")
				b = append(b[:at:at], append([]byte(o), b[at:]...)...)
			}
			s = string(b)
		default:
			s = rapid.String().Draw(t, "s") + "\u2028\u2029<>&\"\\\x7f"
		}
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	})
}

// TestAppendStringEveryByteEverywhere checks appendString against
// encoding/json for every byte value, and a few multi-byte sequences, at
// every place of a run of plain letters long enough for the eight bytes
// at a time to meet it in either word.
func TestAppendStringEveryByteEverywhere(t *testing.T) {
	var inserts []string
	for c := range 256 {
		inserts = append(inserts, string([]byte{byte(c)}))
	}
	inserts = append(inserts, "é", "\u2028", "\u2029", "日本", "\xe2\x80", "\xf0\x9f\x98\x80")
	plain := "abcdefghijklmnopqrstuvwx"
	for _, in := range inserts {
		for at := range 17 {
			s := plain[:at] + in + plain[at:]
			want, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			if got := appendString(nil, s); string(got) != string(want) {
				t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
			}
		}
	}
}
