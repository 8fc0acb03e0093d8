package integrity

import (
	"crypto/sha256"
	"testing"

	"pgregory.net/rapid"
)

// TestPropertyFixedSums: one fixedSums, its buffers reused from call to
// call in any order of leaves and nodes, gives every leaf and node the
// hash of its definition (RFC 6962 through crypto/sha256 on the whole
// message), with its padding written ahead of time and with the fallback.
func TestPropertyFixedSums(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		key := rapid.SliceOfN(rapid.Byte(), 1, 64).Draw(t, "key")
		f := newFixedSums()
		if !f.ok {
			t.Fatal("the hasher's saved state does not give the digest on this platform")
		}
		slow := newFixedSums()
		slow.ok = false // the fallback must agree too
		hash32 := func(label string) Hash {
			return Hash(rapid.SliceOfN(rapid.Byte(), HashSize, HashSize).Draw(t, label))
		}
		for range rapid.IntRange(1, 20).Draw(t, "calls") {
			if rapid.Bool().Draw(t, "leaf") {
				seq, d := rapid.Uint64().Draw(t, "seq"), hash32("digest")
				want := refLeafOf(key, seq, d)
				salt := refSalt(key, seq)
				if got := f.leafHash(seq, salt, d); got != want {
					t.Fatalf("leaf of seq %d: %x, want %x", seq, got, want)
				}
				if got := slow.leafHash(seq, salt, d); got != want {
					t.Fatalf("leaf of seq %d, fallback: %x, want %x", seq, got, want)
				}
				continue
			}
			left, right := hash32("left"), hash32("right")
			want := sha256.Sum256(append(append([]byte{0x01}, left[:]...), right[:]...))
			if got := f.nodeHash(left, right); got != want {
				t.Fatalf("node: %x, want %x", got, want)
			}
			if got := slow.nodeHash(left, right); got != want {
				t.Fatalf("node, fallback: %x, want %x", got, want)
			}
		}
	})
}

// TestPropertySalterFallback: a Salter that does not pad ahead of time
// (as when the hasher's saved state would not give the digest) gives
// crypto/hmac's salts too.
func TestPropertySalterFallback(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		key := rapid.SliceOfN(rapid.Byte(), 0, 100).Draw(t, "key")
		s := NewSalter(key)
		if !s.padded {
			t.Fatal("the hasher's saved state does not give the digest on this platform")
		}
		s.padded = false
		seq := rapid.Uint64().Draw(t, "seq")
		if got, want := s.Salt(seq), refSalt(key, seq); got != want {
			t.Fatalf("seq %d: salt %x, crypto/hmac %x", seq, got, want)
		}
	})
}

// TestFixedSumsAllocateNothing: a warm fixedSums allocates nothing per
// leaf or node.
func TestFixedSumsAllocateNothing(t *testing.T) {
	f := newFixedSums()
	f.leafHash(1, [SaltSize]byte{}, Hash{})
	if n := testing.AllocsPerRun(100, func() {
		f.nodeHash(f.leafHash(2, [SaltSize]byte{}, Hash{}), Hash{})
	}); n != 0 && !raceEnabled {
		t.Fatalf("leafHash and nodeHash allocate %.1f times", n)
	}
}
