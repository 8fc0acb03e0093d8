package event

import (
	"reflect"
	"testing"

	"pgregory.net/rapid"
)

// TestPropertyRowDecoderDecodesAsDecodeBinary: one RowDecoder decoding a
// run of random events, some of them damaged, gives for each what
// DecodeBinary gives: the same event, or the same error. Its memory is
// reused from one event to the next, so a wrong reset would show as a
// value left over from an earlier event.
func TestPropertyRowDecoderDecodesAsDecodeBinary(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var x RowDecoder
		for i, e := range rapid.SliceOfN(genEvent(), 1, 8).Draw(t, "events") {
			src := AppendBinary(nil, &e)
			if len(src) > 0 && rapid.IntRange(0, 3).Draw(t, "damage") == 0 {
				at := rapid.IntRange(0, len(src)-1).Draw(t, "at")
				src[at] = rapid.Byte().Draw(t, "byte")
			}
			want, wantErr := DecodeBinary(src)
			got, err := x.Decode(src)
			if (err == nil) != (wantErr == nil) || err != nil && err.Error() != wantErr.Error() {
				t.Fatalf("event %d (%x): RowDecoder says %v, DecodeBinary %v", i, src, err, wantErr)
			}
			if err == nil && !reflect.DeepEqual(*got, want) {
				t.Fatalf("event %d (%x):\n got %#v\nwant %#v", i, src, *got, want)
			}
		}
	})
}

// TestRowDecoderAllocatesOnceWarm: once its slabs have grown to an
// event's size, decoding the same events again allocates nothing.
func TestRowDecoderAllocatesOnceWarm(t *testing.T) {
	e, err := Decode(readFullExample(t), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	src := AppendBinary(nil, &e)
	var x RowDecoder
	for range 4 {
		if _, err := x.Decode(src); err != nil {
			t.Fatal(err)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = x.Decode(src) }); n != 0 {
		t.Fatalf("a warm RowDecoder allocates %.1f times per event, want 0", n)
	}
}
