package event

import (
	"bytes"
	"fmt"
	"os"
	"reflect"
	"testing"

	"pgregory.net/rapid"
)

// TestPropertyDecoderReuse checks a reused Decoder against DecodeWith, the
// model: each document decodes (Decode, or Next in place) to the same
// event (reflect.DeepEqual) or the same error, and every event decoded
// since the last Reuse still
// equals its model after the documents decoded after it, which share the
// Decoder's slabs.
func TestPropertyDecoderReuse(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		opts := DecodeOptions{
			KeepUnknown: rapid.Bool().Draw(t, "keep"),
			Shared:      rapid.Bool().Draw(t, "shared"),
			Limits:      Limits{MaxRefs: rapid.IntRange(1, 4).Draw(t, "maxRefs")},
		}
		x := NewDecoder(opts)
		var kept []Event // decoded since the last Reuse
		var models []Event
		for i := range rapid.IntRange(1, 24).Draw(t, "docs") {
			if rapid.IntRange(0, 5).Draw(t, "reuse") == 0 {
				x.Reuse()
				kept, models = kept[:0], models[:0]
			}
			e := genEvent().Draw(t, "event")
			doc := AppendJSON(nil, &e)
			if cut := rapid.IntRange(0, 8).Draw(t, "cut"); cut == 0 {
				doc = doc[:rapid.IntRange(0, len(doc)).Draw(t, "at")] // mostly invalid
			}
			want, werr := DecodeWith(bytes.Clone(doc), opts)
			got := Event{Message: "left over"}
			var gerr error
			if rapid.Bool().Draw(t, "next") { // in place, then copied: Next overwrites it
				var ev *Event
				if ev, gerr = x.Next(doc); gerr == nil {
					got = *ev
				} else {
					got = Event{}
				}
			} else {
				gerr = x.Decode(&got, doc)
			}
			if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
				t.Fatalf("document %d: DecodeWith: %v; Decoder: %v", i, werr, gerr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("document %d decodes to\n%#v\nwant\n%#v", i, got, want)
			}
			kept, models = append(kept, got), append(models, want)
			for j := range kept {
				if !reflect.DeepEqual(kept[j], models[j]) {
					t.Fatalf("after document %d, event %d since the last Reuse changed:\n%#v\nwant\n%#v", i, j, kept[j], models[j])
				}
			}
		}
	})
}

// FuzzDecoder checks that a reused Decoder reads any document as
// DecodeWith does: the same error, or an event with the same binary form,
// after a document decoded before it (the first argument).
func FuzzDecoder(f *testing.F) {
	typical, err := os.ReadFile("testdata/typical-event.json")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range keptSeeds {
		f.Add(typical, []byte(s), true)
	}
	f.Add(typical, typical, false)
	f.Add([]byte(`{"kibana":{"saved_objects":[{"id":"a"},{"id":"b"}]}}`), []byte(`{"event":{"duration":"12"}}`), false)
	// Keys the Decoder guesses from the first document, then meets
	// escaped, spaced from their colon, repeated, longer or shorter.
	guessed := []byte(`{"message":"m","event":{"action":"a","kind":"k"},"kibana":{"space_ids":["s"]}}`)
	for _, s := range []string{
		`{"mess\u0061ge":"m","event":{"action":"a","kind":"k"}}`,
		`{"message" :"m","event": {"action" : "a"}}`,
		`{"message":"m","message":"n"}`,
		`{"messagex":"m"}`,
		`{"messag":"m"}`,
		`{"message":"m","event":{"kind":"k","action":"a"},"_seq":3}`,
		`{"message":"m","event":{"action":"a","kindly":1}}`,
		`{"message`,
	} {
		f.Add(guessed, []byte(s), false)
		f.Add(guessed, []byte(s), true)
	}
	f.Fuzz(func(t *testing.T, first, data []byte, keep bool) {
		opts := DecodeOptions{KeepUnknown: keep, Shared: true}
		x := NewDecoder(opts)
		var ev Event
		_ = x.Decode(&ev, first)
		want, werr := DecodeWith(bytes.Clone(data), opts)
		gerr := x.Decode(&ev, data)
		if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
			t.Fatalf("DecodeWith: %v; Decoder: %v", werr, gerr)
		}
		if wantBin, gotBin := AppendBinary(nil, &want), AppendBinary(nil, &ev); !bytes.Equal(wantBin, gotBin) {
			t.Fatalf("Decoder differs:\nDecodeWith %x\nDecoder    %x", wantBin, gotBin)
		}
		_, _ = x.Next(first) // and in place
		next, nerr := x.Next(data)
		if (werr == nil) != (nerr == nil) || werr != nil && werr.Error() != nerr.Error() {
			t.Fatalf("DecodeWith: %v; Decoder.Next: %v", werr, nerr)
		}
		if werr == nil && !bytes.Equal(AppendBinary(nil, &want), AppendBinary(nil, next)) {
			t.Fatalf("Decoder.Next differs:\nDecodeWith %x\nNext       %x", AppendBinary(nil, &want), AppendBinary(nil, next))
		}
	})
}

// TestDecoderDrop checks that Drop leaves the Decoder's slabs without a
// reference to the strings of the documents decoded (which share the
// documents' memory), and that the Decoder decodes as before afterwards.
func TestDecoderDrop(t *testing.T) {
	doc := []byte(`{"tags":["a","b"],"kibana":{"saved_objects":[{"id":"x","type":"t"}]}}`)
	x := NewDecoder(DecodeOptions{Shared: true})
	var ev Event
	if err := x.Decode(&ev, doc); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Next(doc); err != nil {
		t.Fatal(err)
	}
	x.Drop()
	if !reflect.DeepEqual(x.d.ev, Event{}) || x.d.text != "" {
		t.Fatalf("the event Next decoded in place is kept after Drop: %#v", x.d.ev)
	}
	sl := &x.d.slabs
	for i, s := range sl.strs[:cap(sl.strs)] {
		if s != "" {
			t.Fatalf("strs[%d] = %q after Drop", i, s)
		}
	}
	for i, r := range sl.refSlab[:cap(sl.refSlab)] {
		if r != (SavedObject{}) {
			t.Fatalf("refSlab[%d] = %+v after Drop", i, r)
		}
	}
	want, err := DecodeWith(doc, DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Decode(&ev, doc); err != nil || !reflect.DeepEqual(ev, want) {
		t.Fatalf("after Drop: %v %#v, want %#v", err, ev, want)
	}
}

// TestDecoderResetAsNew checks that decoding a document with a Decoder
// that decoded others before leaves it as a new Decoder that decoded only
// that document: reset (which clears in place, field by field) forgets
// everything of the documents before but the memory it reuses (slabs,
// scratch buffer, guesses).
func TestDecoderResetAsNew(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		opts := DecodeOptions{KeepUnknown: rapid.Bool().Draw(t, "keep"), Shared: true}
		used := NewDecoder(opts)
		for range rapid.IntRange(0, 3).Draw(t, "before") {
			_, _ = used.Next(drawDocument(t))
		}
		doc := drawDocument(t)
		fresh := NewDecoder(opts)
		_, uerr := used.Next(doc)
		_, ferr := fresh.Next(doc)
		if fmt.Sprint(uerr) != fmt.Sprint(ferr) {
			t.Fatalf("used decoder: %v; new one: %v", uerr, ferr)
		}
		state := func(d decoder) decoder {
			d.slabs, d.buf, d.guesses = slabs{}, nil, nil
			return d
		}
		if u, f := state(used.d), state(fresh.d); !reflect.DeepEqual(u, f) {
			t.Fatalf("used decoder's state\n%#v\nnew one's\n%#v", u, f)
		}
	})
}

// drawDocument draws a document: an event's JSON, with kept unknown
// fields and engine fields at times, or cut short.
func drawDocument(t *rapid.T) []byte {
	e := genEvent().Draw(t, "event")
	doc := AppendJSON(nil, &e)
	if rapid.Bool().Draw(t, "kept") {
		doc = append(bytes.TrimSuffix(doc, []byte("}")), `,"agent":{"name":"x","n":[1,{"a":null}]},"_seq":7}`...)
		if len(doc) > 0 && doc[1] == ',' {
			doc = append([]byte("{"), doc[2:]...)
		}
	}
	if rapid.IntRange(0, 5).Draw(t, "cut") == 0 {
		doc = doc[:rapid.IntRange(0, len(doc)).Draw(t, "at")]
	}
	return doc
}
