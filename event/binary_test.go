package event

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"testing"

	"pgregory.net/rapid"
)

func TestBinaryFullExample(t *testing.T) {
	e, err := Decode(readFullExample(t), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	buf := AppendBinary(nil, &e)
	got, err := DecodeBinary(buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, e) {
		t.Fatalf("binary round trip differs")
	}
	// Decoded strings must not alias the input buffer.
	msg := got.Message
	for i := range buf {
		buf[i] = 0
	}
	if msg != "some message" || got.Kibana.SavedObjects[0].Rel != "primary" || got.Tags.Values[1] != "tags" {
		t.Fatalf("decoded strings alias the source buffer")
	}
}

func TestBinaryLabelsSorted(t *testing.T) {
	e := Event{Labels: map[string]string{"b": "2", "a": "1", "c": "3"}}
	want := []byte{4, 3, 1, 'a', 1, '1', 1, 'b', 1, '2', 1, 'c', 1, '3'}
	for range 10 {
		if got := AppendBinary(nil, &e); string(got) != string(want) {
			t.Fatalf("got %v want %v", got, want)
		}
	}
}

func TestBinaryLayout(t *testing.T) {
	d, _ := ParseDate("1970-01-01T00:00:01.5+01:00") // instant -3598.5 s
	e := Event{
		Timestamp: d,
		Message:   "hi",
		Tags:      StringList{Values: []string{"x"}, Scalar: true},
		Event:     EventFields{Duration: &Duration{Nanos: -2, Quoted: true}, RiskScore: Float(1), Severity: Int(-1)},
		Kibana:    Kibana{SavedObjects: []SavedObject{{Rel: "primary", ID: "a"}}},
	}
	var want []byte
	want = append(want, 1)
	want = binary.AppendVarint(want, d.UnixNano())
	want = binary.AppendUvarint(want, uint64(1|2<<4|60<<6))
	want = append(want, 2, 2, 'h', 'i')
	want = append(want, 3, 3, 1, 'x')
	want = append(want, 16, 1, 3)
	want = append(want, 28)
	want = binary.LittleEndian.AppendUint64(want, math.Float64bits(1))
	want = append(want, 31, 1)
	want = append(want, 79, 1, 7, 'p', 'r', 'i', 'm', 'a', 'r', 'y', 0, 1, 'a', 0, 0)
	if got := AppendBinary(nil, &e); string(got) != string(want) {
		t.Fatalf("got  %v\nwant %v", got, want)
	}
}

func TestDecodeBinaryErrors(t *testing.T) {
	cases := map[string][]byte{
		"unknown id":         {200, 0},
		"id zero":            {0},
		"out of order":       {5, 1, 'a', 2, 1, 'b'},
		"duplicate":          {2, 1, 'a', 2, 1, 'b'},
		"string past end":    {2, 5, 'a'},
		"empty string":       {2, 0},
		"truncated varint":   {30, 0x80},
		"overlong varint":    {30, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"empty list":         {3, 0},
		"scalar list of two": {3, 5, 1, 'a', 1, 'b'},
		"list count too big": {3, 0xfe, 0xff, 0xff, 0xff, 0x0f},
		"bad date format":    {1, 0, 0x0f},
		"zero date":          {1, 0, 0},
		"date precision":     {1, 2, 1 << 4},
		"date out of range":  {1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x10},
		"float past end":     {28, 1, 2, 3},
		"nan float":          append([]byte{28}, binary.LittleEndian.AppendUint64(nil, math.Float64bits(math.NaN()))...),
		"duration flag":      {16, 2, 0},
		"labels zero":        {4, 0},
		"labels count":       {4, 3, 1, 'a', 1, 'b'},
		"labels unsorted":    {4, 2, 1, 'b', 0, 1, 'a', 0},
		"labels duplicate":   {4, 2, 1, 'a', 0, 1, 'a', 0},
		"refs zero":          {79, 0},
		"refs past end":      {79, 1, 0, 0, 0, 0},
		"refs count too big": {79, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
		"truncated after id": {2},
	}
	for name, src := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeBinary(src)
			var fe *FieldError
			if !errors.As(err, &fe) || !errors.Is(err, ErrSyntax) {
				t.Fatalf("DecodeBinary(%v) = %v, want a syntax *FieldError", src, err)
			}
		})
	}
}

func TestDecodeBinaryEmpty(t *testing.T) {
	e, err := DecodeBinary(nil)
	if err != nil || !reflect.DeepEqual(e, Event{}) {
		t.Fatalf("got %v, %v", e, err)
	}
}

// TestPropertyUvarint9AsUvarint: uvarint9, when it decodes, gives what
// binary.Uvarint gives, and decodes every uvarint of at most 9 bytes in a
// buffer of 9 bytes or more; varints of random values, non-minimal ones
// and random bytes alike.
func TestPropertyUvarint9AsUvarint(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var b []byte
		switch rapid.IntRange(0, 2).Draw(t, "how") {
		case 0:
			b = binary.AppendUvarint(nil, rapid.Uint64().Draw(t, "v")>>rapid.IntRange(0, 63).Draw(t, "shift"))
		case 1: // non-minimal: a value padded with 0x80 bytes then a zero
			b = binary.AppendUvarint(nil, rapid.Uint64Range(0, 1<<21).Draw(t, "small"))
			b[len(b)-1] |= 0x80
			b = append(b, bytes.Repeat([]byte{0x80}, rapid.IntRange(0, 6).Draw(t, "pad"))...)
			b = append(b, 0)
		}
		b = append(b, rapid.SliceOfN(rapid.Byte(), 0, 12).Draw(t, "rest")...)
		want, wantN := binary.Uvarint(b)
		got, n := uvarint9(b)
		if n > 0 && (got != want || n != wantN) {
			t.Fatalf("uvarint9(%x) = %d, %d; binary.Uvarint %d, %d", b, got, n, want, wantN)
		}
		if n == 0 && len(b) >= 9 && wantN > 0 && wantN <= 9 {
			t.Fatalf("uvarint9(%x) gave up on a varint of %d bytes", b, wantN)
		}
	})
}

// FuzzUvarint9 checks uvarint9 against binary.Uvarint on any bytes.
func FuzzUvarint9(f *testing.F) {
	f.Add([]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00})
	f.Add(binary.AppendVarint(nil, 1_767_225_600_123_000_000))
	f.Add(append(binary.AppendUvarint(nil, 300), make([]byte, 9)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		want, wantN := binary.Uvarint(b)
		got, n := uvarint9(b)
		if n > 0 && (got != want || n != wantN) || n == 0 && len(b) >= 9 && wantN > 0 && wantN <= 9 {
			t.Fatalf("uvarint9(%x) = %d, %d; binary.Uvarint %d, %d", b, got, n, want, wantN)
		}
	})
}
