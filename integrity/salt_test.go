package integrity

import (
	"sync"
	"testing"

	"pgregory.net/rapid"
)

// TestPropertySalterReused: one Salter, its saved states and pooled
// hashers used over and over, from several goroutines at once, gives every
// sequence number crypto/hmac's salt.
func TestPropertySalterReused(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		key := rapid.SliceOfN(rapid.Byte(), 0, 100).Draw(t, "key")
		seqs := rapid.SliceOfN(rapid.Uint64(), 1, 50).Draw(t, "seqs")
		s := NewSalter(key)
		got := make([][4][SaltSize]byte, len(seqs))
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i, seq := range seqs {
					got[i][g] = s.Salt(seq)
				}
			})
		}
		wg.Wait()
		for i, seq := range seqs {
			want := refSalt(key, seq)
			for g := range 4 {
				if got[i][g] != want {
					t.Fatalf("goroutine %d, seq %d: salt %x, crypto/hmac %x", g, seq, got[i][g], want)
				}
			}
		}
	})
}

// TestSaltAllocatesNothing: a warm Salter allocates nothing per salt.
func TestSaltAllocatesNothing(t *testing.T) {
	s := NewSalter([]byte("key"))
	s.Salt(1)
	if n := testing.AllocsPerRun(100, func() { s.Salt(2) }); n != 0 && !raceEnabled {
		t.Fatalf("Salt allocates %.1f times", n)
	}
}

func BenchmarkSalt(b *testing.B) {
	s := NewSalter([]byte("key"))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		s.Salt(uint64(i))
	}
}
