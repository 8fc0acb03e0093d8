package segment

import (
	"encoding/binary"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/internal/decbuf"
)

// TestReadPlainAt checks the sparse reader of plain string vectors
// (readPlainAt) against the strings written and, on damaged bytes, against
// the whole-table reader: the same strings, and an error exactly when the
// table reader finds one.
func TestReadPlainAt(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		vals := rapid.SliceOfN(rapid.StringN(0, 12, -1), 1, 40).Draw(t, "vals")
		raw := appendPlainStrings(nil, vals)
		if rapid.Bool().Draw(t, "damage") {
			raw = slices.Clone(raw)
			switch i := rapid.IntRange(0, len(raw)-1).Draw(t, "at"); rapid.IntRange(0, 1).Draw(t, "how") {
			case 0:
				raw[i] ^= byte(rapid.IntRange(1, 255).Draw(t, "xor"))
			case 1:
				raw = raw[:i]
			}
		}
		var idx []int
		for i := range vals {
			if rapid.IntRange(0, 3).Draw(t, "pick") == 0 {
				idx = append(idx, i)
			}
		}
		d := decbuf.New(raw, errInvalid)
		got := readPlainAt(&d, len(vals), idx, dirtyStrings(len(idx)))
		d.End()
		ref := decbuf.New(raw, errInvalid)
		tab := readPlainTable(&ref)
		if ref.Err == nil && tab.n != len(vals) {
			ref.Fail("count")
		}
		var want []string
		if ref.Err == nil {
			want = tab.pick(idx, false, make([]string, len(idx)))
		}
		ref.End()
		if (d.Err == nil) != (ref.Err == nil) {
			t.Fatalf("sparse reader error %v, table reader error %v", d.Err, ref.Err)
		}
		if d.Err != nil {
			return
		}
		if !slices.Equal(got, want) {
			t.Fatalf("sparse reader read %q, table reader %q", got, want)
		}
		if slices.Equal(raw, appendPlainStrings(nil, vals)) {
			for k, i := range idx {
				if got[k] != vals[i] {
					t.Fatalf("string %d: read %q, wrote %q", i, got[k], vals[i])
				}
			}
		}
	})
}

// dirtyStrings returns n strings that no reader writes, standing for a
// reused scratch array (scratchStrings) that must be wholly overwritten.
func dirtyStrings(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "\x00stale"
	}
	return out
}

// TestReadDictAt checks readDictAt, which reads one-byte indexes of a small
// dictionary in place and skips varints otherwise, against reading every
// index one at a time: the same strings at idx, an error exactly when an
// index read is past the dictionary, and the buffer left just past the n
// indexes.
func TestReadDictAt(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		dict := rapid.SliceOfNDistinct(rapid.StringN(0, 6, -1), 1, 200, func(s string) string { return s }).Draw(t, "dict")
		ids := rapid.SliceOfN(rapid.IntRange(0, len(dict)-1), 1, 60).Draw(t, "ids")
		bad := rapid.IntRange(-1, len(ids)-1).Draw(t, "bad") // an index past the dictionary, -1: none
		raw := appendPlainStrings(nil, dict)
		tabLen := len(raw)
		for i, id := range ids {
			if i == bad {
				id = len(dict) + rapid.IntRange(0, 3).Draw(t, "past")
			}
			raw = binary.AppendUvarint(raw, uint64(id))
		}
		raw = append(raw, 0xAB)
		var idx []int
		for i := range ids {
			if rapid.IntRange(0, 2).Draw(t, "pick") == 0 {
				idx = append(idx, i)
			}
		}
		d := decbuf.New(raw, errInvalid)
		tab := readPlainTable(&d)
		if d.Err != nil || d.Off != tabLen {
			t.Fatalf("table: %v", d.Err)
		}
		got := readDictAt(&d, len(ids), &tab, idx, dirtyStrings(len(idx)))
		if slices.Contains(idx, bad) {
			if d.Err == nil {
				t.Fatalf("accepted index %d past the %d entries", bad, len(dict))
			}
			return
		}
		if d.Err != nil {
			t.Fatal(d.Err)
		}
		for k, i := range idx {
			if got[k] != dict[ids[i]] {
				t.Fatalf("index %d: read %q, want %q", i, got[k], dict[ids[i]])
			}
		}
		if d.U8() != 0xAB || d.Left() != 0 {
			t.Fatal("not left just past the indexes")
		}
	})
}
