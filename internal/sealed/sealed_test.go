package sealed

import (
	"errors"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func testBox(t testing.TB, material string) *Box {
	b, err := New([]byte(material))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSealOpen: whatever is sealed opens to itself in its context and in
// no other, never shows the plain text, and no two seals of one value are
// the same (fresh nonces).
func TestSealOpen(t *testing.T) {
	box := testBox(t, strings.Repeat("k", 32))
	other := testBox(t, strings.Repeat("o", 32))
	rapid.Check(t, func(t *rapid.T) {
		plain := rapid.String().Draw(t, "plain")
		ctx := rapid.StringMatching(`[a-z/]{1,20}`).Draw(t, "context")
		s := box.Seal(plain, ctx)
		if !IsSealed(s) {
			t.Fatalf("%q lacks the prefix", s)
		}
		if len(plain) >= 4 && strings.Contains(s[len(Prefix):], plain) {
			t.Fatalf("sealed %q shows its plain text", s)
		}
		got, err := box.Open(s, ctx)
		if err != nil || got != plain {
			t.Fatalf("Open = %q, %v; want %q", got, err, plain)
		}
		if s2 := box.Seal(plain, ctx); s2 == s {
			t.Fatal("two seals of one value are equal: the nonce repeats")
		}
		if _, err := box.Open(s, ctx+"x"); !errors.Is(err, ErrOpen) {
			t.Fatalf("Open in another context: %v, want ErrOpen", err)
		}
		if _, err := other.Open(s, ctx); !errors.Is(err, ErrOpen) {
			t.Fatalf("Open under another key: %v, want ErrOpen", err)
		}
	})
}

// TestOpenRejectsAlteredValues flips each byte of a sealed value in turn.
func TestOpenRejectsAlteredValues(t *testing.T) {
	box := testBox(t, strings.Repeat("k", 40))
	s := box.Seal("token-1234", "destination/d/secret")
	for i := len(Prefix); i < len(s); i++ {
		b := []byte(s)
		b[i] ^= 0x01
		if got, err := box.Open(string(b), "destination/d/secret"); err == nil {
			t.Fatalf("byte %d flipped: opened to %q", i, got)
		}
	}
	for _, bad := range []string{"", "plain", Prefix, Prefix + "!!", Prefix + "AAAA"} {
		if _, err := box.Open(bad, "c"); err == nil {
			t.Fatalf("Open(%q) succeeded", bad)
		}
	}
}

func TestNewRejectsShortKeys(t *testing.T) {
	_, err := New([]byte("short-secret-key-material"))
	if err == nil || strings.Contains(err.Error(), "short-secret") {
		t.Fatalf("New(short) = %v: want an error that does not show the key", err)
	}
}

// FuzzOpen: no input makes Open panic, and a value that opens is a
// round trip of the box.
func FuzzOpen(f *testing.F) {
	box := testBox(f, strings.Repeat("f", 32))
	f.Add(box.Seal("secret", "c"), "c")
	f.Add("sealed:v1:", "c")
	f.Fuzz(func(t *testing.T, text, ctx string) {
		plain, err := box.Open(text, ctx)
		if err != nil {
			return
		}
		if again, err := box.Open(box.Seal(plain, ctx), ctx); err != nil || again != plain {
			t.Fatalf("reseal of %q: %q, %v", plain, again, err)
		}
	})
}
