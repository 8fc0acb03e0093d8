package eventlog

import (
	"testing"

	"github.com/eventlogdb/eventlog/internal/match"
)

// FuzzCursor feeds arbitrary cursors (they come from clients) to the
// decoder: it must reject or accept without panicking, and what it accepts
// must encode back to the same cursor.
func FuzzCursor(f *testing.F) {
	f.Add(encodeCursor(match.Position{TS: 1714572131125000000, Seq: 2}, false), false)
	f.Add(encodeCursor(match.Position{TS: -5, Seq: 1 << 60}, true), true)
	f.Add("", false)
	f.Add("AQGAjLz9npGxyy8C", true)
	f.Fuzz(func(t *testing.T, s string, desc bool) {
		order := Ascending
		if desc {
			order = Descending
		}
		pos, err := decodeCursor(s, order)
		if err != nil {
			return
		}
		if again := encodeCursor(pos, desc); again != s {
			t.Fatalf("cursor %q decodes to %+v, which encodes to %q", s, pos, again)
		}
	})
}

// FuzzManifest feeds arbitrary bytes to the manifest decoder (a file on
// disk): no panic, and a manifest it accepts re-encodes to one that decodes
// to the same content.
func FuzzManifest(f *testing.F) {
	good, _ := encodeManifest(&manifest{Version: 1, NextID: 3, SealedSeq: 9, Segments: []segmentMeta{{Name: "000000000001.seg", Events: 9, MinSeq: 1, MaxSeq: 9, Bytes: 100}}})
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte("{}\ncrc32c 00000000\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := decodeManifest(data)
		if err != nil {
			return
		}
		again, err := encodeManifest(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := decodeManifest(again)
		if err != nil {
			t.Fatalf("re-encoded manifest does not decode: %v", err)
		}
		if len(m2.Segments) != len(m.Segments) || m2.SealedSeq != m.SealedSeq || m2.NextID != m.NextID {
			t.Fatalf("manifest changed on re-encoding: %+v vs %+v", m, m2)
		}
	})
}
