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

// TestRefKeyOneAllocation: refKey's bytes are the three length-prefixed
// strings and the primary marker, built plainly here, for strings of any
// length (lengths of one, two and three uvarint bytes), and it makes them
// in one allocation.
func TestRefKeyOneAllocation(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var parts [3]string
		var want []byte
		for i := range parts {
			parts[i] = rapid.StringN(0, 20000, 20000).Draw(t, "part")
			want = binary.AppendUvarint(want, uint64(len(parts[i])))
			want = append(want, parts[i]...)
		}
		primary := rapid.Bool().Draw(t, "primary")
		want = append(want, map[bool]byte{true: 'p', false: 'a'}[primary])
		if got := refKey(parts[0], parts[1], parts[2], primary); got != string(want) {
			t.Fatalf("refKey = %q, want %q", got, want)
		}
	})
	long := string(make([]byte, 300)) // a two-byte uvarint length
	if n := testing.AllocsPerRun(100, func() { _ = refKey("id", long, "space", true) }); n != 1 {
		t.Fatalf("refKey made %v allocations, want 1", n)
	}
}
