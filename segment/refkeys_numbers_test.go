package segment

import (
	"encoding/binary"
	"errors"
	"slices"
	"testing"

	"github.com/eventlogdb/eventlog/internal/decbuf"
	"pgregory.net/rapid"
)

// TestReadKeyNumbersModel checks readKeyNumbers (which counts the new keys
// between selected codes eight at a time) against decoding every code one
// at a time: the same key numbers at the selected codes, the same
// verdict on a code naming a key not yet used (among the codes up to the
// last selected one, which are the ones read), and the buffer left just
// past the n codes.
func TestReadKeyNumbersModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		base := rapid.Uint64Range(0, 300).Draw(rt, "base")
		n := rapid.IntRange(0, 200).Draw(rt, "n")
		bad := rapid.IntRange(-1, n-1).Draw(rt, "bad") // the code made invalid, -1: none
		b := binary.AppendUvarint(nil, base)
		codes := make([]uint64, n)
		next := base
		for i := range codes {
			switch {
			case i == bad:
				codes[i] = next + 1 + rapid.Uint64Range(0, 200).Draw(rt, "past")
			case next == 0 || rapid.IntRange(0, 3).Draw(rt, "new") == 0:
				codes[i] = 0
			case rapid.Bool().Draw(rt, "short"): // a one-byte code, as nearly all are
				codes[i] = 1 + rapid.Uint64Range(0, min(next, 0x7f)-1).Draw(rt, "used")
			default:
				codes[i] = 1 + rapid.Uint64Range(0, next-1).Draw(rt, "used")
			}
			if codes[i] == 0 {
				next++
			}
			if codes[i] > 0 && codes[i] < 0x80 && rapid.IntRange(0, 9).Draw(rt, "padded") == 0 {
				b = append(b, byte(codes[i])|0x80, 0) // two bytes, the last zero: not a new key
			} else {
				b = binary.AppendUvarint(b, codes[i])
			}
		}
		var idx []int
		for i := range n {
			if rapid.IntRange(0, 9).Draw(rt, "pick") == 0 {
				idx = append(idx, i)
			}
		}
		b = append(b, 0xAB) // what follows the codes
		var want []uint64
		read := 0
		if len(idx) > 0 {
			read = idx[len(idx)-1] + 1
		}
		next = base
		for i := range read {
			num := next
			if codes[i] == 0 {
				next++
			} else {
				num = codes[i] - 1
			}
			if slices.Contains(idx, i) {
				want = append(want, num)
			}
		}
		d := decbuf.New(b, errors.New("bad"))
		got := readKeyNumbers(&d, n, idx)
		switch {
		case slices.Contains(idx, bad):
			if d.Err == nil {
				rt.Fatalf("accepted selected code %d naming a key not yet used", bad)
			}
			return
		case bad >= 0 && bad < read && d.Err != nil:
			return // a code read on the way, one at a time, was checked
		case d.Err != nil:
			rt.Fatal(d.Err)
		}
		if !slices.Equal(got, want) && len(got)+len(want) > 0 {
			rt.Fatalf("key numbers %v, want %v", got, want)
		}
		if d.U8() != 0xAB || d.Left() != 0 {
			rt.Fatal("not left just past the codes")
		}
	})
}
