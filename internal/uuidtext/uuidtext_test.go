package uuidtext

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// TestRoundTrip: every 16 bytes format as RFC 9562's 8-4-4-4-12 groups of
// lowercase hex, which is canonical and packs back to the same bytes.
func TestRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, "bytes")
		want := fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
		got := Format(b)
		if got != want || !IsCanonical(got) {
			t.Fatalf("Format = %q (canonical %v), want %q", got, IsCanonical(got), want)
		}
		if back := AppendBytes(nil, got); string(back) != string(b) {
			t.Fatalf("AppendBytes(%q) = %x, want %x", got, back, b)
		}
	})
}

// TestIsCanonical refuses every text whose bytes would not come back as
// given: upper case, braces, missing or misplaced dashes, wrong lengths.
func TestIsCanonical(t *testing.T) {
	good := "0f8fad5b-d9cb-469f-a165-70867728950e"
	if !IsCanonical(good) {
		t.Fatalf("%q refused", good)
	}
	for _, bad := range []string{
		strings.ToUpper(good), "{" + good + "}", strings.ReplaceAll(good, "-", ""),
		good[:35], good + "0", "0f8fad5bd-9cb-469f-a165-70867728950e", "0f8fad5b-d9cb-469f-a165-70867728950g", "",
	} {
		if IsCanonical(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestIsCanonicalLikeRegexp: IsCanonical against a regular expression of
// the canonical form, on canonical texts with a byte changed, dropped or
// added.
func TestIsCanonicalLikeRegexp(t *testing.T) {
	canonical := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	rapid.Check(t, func(t *rapid.T) {
		s := []byte(Format(rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, "bytes")))
		i := rapid.IntRange(0, len(s)-1).Draw(t, "at")
		switch rapid.IntRange(0, 3).Draw(t, "edit") {
		case 1:
			s[i] = rapid.Byte().Draw(t, "byte")
		case 2:
			s = slices.Delete(s, i, i+1)
		case 3:
			s = slices.Insert(s, i, rapid.Byte().Draw(t, "byte"))
		}
		if got, want := IsCanonical(string(s)), canonical.Match(s); got != want {
			t.Fatalf("IsCanonical(%q) = %v, want %v", s, got, want)
		}
	})
}
