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
		if rapid.Bool().Draw(t, "bytes") {
			s = string(rapid.SliceOf(rapid.Byte()).Draw(t, "b"))
		} else {
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
