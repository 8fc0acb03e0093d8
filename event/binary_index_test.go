package event

import (
	"reflect"
	"testing"

	"pgregory.net/rapid"
)

// indexedPart is what IndexDecoder promises to keep of e, written out
// independently of its field mask: @timestamp, the fields the field table
// marks Indexed, and the two Spaces reads.
func indexedPart(e *Event) Event {
	var p Event
	p.Timestamp = e.Timestamp
	for i := range fields {
		f := &fields[i]
		if !f.Indexed {
			continue
		}
		switch f.Kind {
		case KindString:
			*f.Str(&p) = *f.Str(e)
		case KindStrings:
			*f.List(&p) = *f.List(e)
		}
	}
	p.Kibana.SavedObjects = e.Kibana.SavedObjects
	p.Kibana.SpaceIDs = e.Kibana.SpaceIDs
	return p
}

// TestPropertyIndexDecoderKeepsIndexed: one IndexDecoder decoding a run of
// random events gives each event's indexed part, and nothing else, as the
// event was before encoding; its spaces are the event's.
func TestPropertyIndexDecoderKeepsIndexed(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var x IndexDecoder
		for i, e := range rapid.SliceOfN(genEvent(), 1, 6).Draw(t, "events") {
			got, err := x.Decode(AppendBinary(nil, &e))
			if err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
			if want := indexedPart(&e); !reflect.DeepEqual(*got, want) {
				t.Fatalf("event %d:\n got %#v\nwant %#v", i, *got, want)
			}
			if got, want := got.Spaces(nil), e.Spaces(nil); !reflect.DeepEqual(got, want) {
				t.Fatalf("event %d: spaces %q, want %q", i, got, want)
			}
		}
	})
}

// TestPropertyIndexDecoderRefusesAsDecodeBinary: on every damage of a
// random event's binary form (each truncation; each byte replaced by a few
// telling values; a byte inserted at each place) and on arbitrary bytes,
// IndexDecoder fails exactly when DecodeBinary does, with the same error:
// replay refuses what it refused before.
func TestPropertyIndexDecoderRefusesAsDecodeBinary(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var x IndexDecoder
		check := func(src []byte) {
			_, want := DecodeBinary(src)
			_, got := x.Decode(src)
			if (got == nil) != (want == nil) || got != nil && got.Error() != want.Error() {
				t.Fatalf("%x: IndexDecoder says %v, DecodeBinary %v", src, got, want)
			}
		}
		check(rapid.SliceOfN(rapid.Byte(), 0, 64).Draw(t, "bytes"))
		e := genEvent().Draw(t, "event")
		src := AppendBinary(nil, &e)
		for at := range len(src) + 1 {
			check(src[:at])
			check(append(src[:at:at], append([]byte{rapid.Byte().Draw(t, "inserted")}, src[at:]...)...))
		}
		for at := range src {
			for _, b := range []byte{0, 0x80, 0xff, src[at] + 1} {
				damaged := append([]byte(nil), src...)
				damaged[at] = b
				check(damaged)
			}
		}
	})
}
