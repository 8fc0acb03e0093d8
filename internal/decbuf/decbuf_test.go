package decbuf

import (
	"encoding/binary"
	"errors"
	"testing"

	"pgregory.net/rapid"
)

var errBad = errors.New("bad")

func TestStickyErrorAndBounds(t *testing.T) {
	b := binary.AppendUvarint(nil, 1000) // a count far beyond the bytes left
	d := New(append(b, 1, 2, 3), errBad)
	if n := d.Count(1); n != 0 || !errors.Is(d.Err, errBad) {
		t.Fatalf("Count = %d, err %v: want 0 and a failure", n, d.Err)
	}
	first, off := d.Err, d.Off
	// The next byte (1) is a one-byte varint: Uvarint's fast path too
	// must see the failure.
	if d.Uvarint() != 0 || d.U8() != 0 || d.U64() != 0 || d.Str() != "" || d.Err != first || d.Off != off {
		t.Fatal("reads after a failure must return zero values, keep the first error and read nothing")
	}
	d = New([]byte{1, 2}, errBad)
	d.U8()
	d.End()
	if d.Err == nil {
		t.Fatal("End accepted a trailing byte")
	}
}

// TestSkipVarints checks the eight-bytes-at-a-time skip against decoding
// one varint at a time: skips and reads alternate as a dictionary column's
// selected rows do, over values of one byte (several ends in a word), two
// and ten.
func TestSkipVarints(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		vals := rapid.SliceOf(rapid.OneOf(rapid.Uint64Range(0, 0x7f), rapid.Uint64Range(0x80, 1<<14-1), rapid.Uint64())).Draw(rt, "vals")
		var b []byte
		for _, v := range vals {
			b = binary.AppendUvarint(b, v)
		}
		d := New(b, errBad)
		for at := 0; at < len(vals); {
			skip := rapid.IntRange(0, len(vals)-at).Draw(rt, "skip")
			d.SkipVarints(skip)
			if at += skip; at == len(vals) {
				break
			}
			if got, want := d.Uvarint(), vals[at]; got != want {
				rt.Fatalf("value %d, after skipping %d: got %d, want %d", at, skip, got, want)
			}
			at++
		}
		d.End()
		if d.Err != nil {
			rt.Fatal(d.Err)
		}
	})
}

// TestVarintLikeBinary: Varint reads what binary.AppendVarint wrote, one-
// byte values (its inline path) and longer ones alike, and fails on a
// truncated one as binary.Varint does.
func TestVarintLikeBinary(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		vals := rapid.SliceOf(rapid.OneOf(rapid.Int64Range(-64, 63), rapid.Int64())).Draw(rt, "vals")
		var b []byte
		for _, v := range vals {
			b = binary.AppendVarint(b, v)
		}
		cut := rapid.Bool().Draw(rt, "cut") && len(vals) > 0
		if cut {
			b = append(b[:len(b)-1], 0x80) // the last varint never ends
		}
		d := New(b, errBad)
		for i, want := range vals {
			got := d.Varint()
			if cut && i == len(vals)-1 {
				if d.Err == nil || got != 0 {
					rt.Fatalf("truncated varint: got %d, err %v; want 0 and a failure", got, d.Err)
				}
				return
			}
			if got != want || d.Err != nil {
				rt.Fatalf("value %d: got %d (err %v), want %d", i, got, d.Err, want)
			}
		}
		if d.Left() != 0 {
			rt.Fatalf("%d bytes left", d.Left())
		}
	})
}
