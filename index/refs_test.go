package index

import (
	"encoding/binary"
	"testing"

	"pgregory.net/rapid"
)

// TestRefKeyRoundTrip checks that ParseRefKey gives back what RefKey
// packed, and that a key never parses as a longer or shorter one.
func TestRefKeyRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		id, typ, space := rapid.String().Draw(t, "id"), rapid.String().Draw(t, "type"), rapid.String().Draw(t, "space")
		primary := rapid.Bool().Draw(t, "primary")
		k := RefKey(id, typ, space, primary)
		gid, gtyp, gspace, gprimary, ok := ParseRefKey(k)
		if !ok || gid != id || gtyp != typ || gspace != space || gprimary != primary {
			t.Fatalf("ParseRefKey(RefKey(%q, %q, %q, %v)) = %q, %q, %q, %v, %v", id, typ, space, primary, gid, gtyp, gspace, gprimary, ok)
		}
		if _, _, _, _, ok := ParseRefKey(k + "p"); ok {
			t.Fatalf("a key with a byte more parses")
		}
		if _, _, _, _, ok := ParseRefKey(k[:len(k)-1]); ok {
			t.Fatalf("a key with a byte less parses")
		}
	})
}

// TestUvarintOf checks uvarintOf against encoding/binary.
func TestUvarintOf(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := rapid.SliceOfN(rapid.OneOf(rapid.ByteRange(0x80, 0xff), rapid.Byte()), 0, 12).Draw(t, "b")
		n, w := binary.Uvarint(b)
		gn, gw := uvarintOf(string(b))
		if gn != n || gw != w {
			t.Fatalf("uvarintOf(%x) = %d, %d; binary.Uvarint says %d, %d", b, gn, gw, n, w)
		}
	})
}
