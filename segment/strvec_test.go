package segment

import (
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
		got := readPlainAt(&d, len(vals), idx)
		d.End()
		ref := decbuf.New(raw, errInvalid)
		tab := readPlainTable(&ref)
		if ref.Err == nil && tab.n != len(vals) {
			ref.Fail("count")
		}
		var want []string
		if ref.Err == nil {
			want = tab.pick(idx, false)
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
