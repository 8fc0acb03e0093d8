package wal

import (
	"bytes"
	"testing"

	"pgregory.net/rapid"
)

// TestPropertyPayloadSlabGivesPayloadsOfTheirOwn: payloads cut from slabs
// have the length asked for and no room past it (an append reallocates),
// and writing every byte of each leaves every other one as written: a
// caller keeping payloads (KeepPayloads) owns each outright.
func TestPropertyPayloadSlabGivesPayloadsOfTheirOwn(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var s payloadSlab
		sizes := rapid.SliceOfN(rapid.OneOf(
			rapid.IntRange(0, 4096),
			rapid.IntRange(slabBytes/4-8, slabBytes/4+8),
			rapid.IntRange(slabBytes/8, slabBytes/2),
		), 1, 40).Draw(t, "sizes")
		var payloads [][]byte
		for i, n := range sizes {
			p := s.take(n)
			if len(p) != n || cap(p) != n {
				t.Fatalf("payload %d: len %d cap %d, want %d", i, len(p), cap(p), n)
			}
			for j := range p {
				p[j] = byte(i + 1)
			}
			payloads = append(payloads, p)
		}
		for i, p := range payloads {
			if want := bytes.Repeat([]byte{byte(i + 1)}, len(p)); !bytes.Equal(p, want) {
				t.Fatalf("payload %d was overwritten by another", i)
			}
		}
	})
}
