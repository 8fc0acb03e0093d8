package event_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/eventgen"
	"pgregory.net/rapid"
)

// TestPropertyKeptRoundTrip: a document of random known fields with random
// unknown members inserted anywhere, decoded keeping them, through the
// binary form and back to JSON, holds the same values of the same types,
// known keys in schema order first in every object, then the unknown ones
// in the order sent; the known fields decode as without the unknown ones.
func TestPropertyKeptRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := event.GenEvent().Draw(t, "event")
		doc, err := eventgen.Parse(event.AppendJSON(nil, &e))
		if err != nil {
			t.Fatal(err)
		}
		eventgen.Insert(t, doc, eventgen.Unknown(8).Draw(t, "unknown"))
		input := doc.Render()
		got, err := event.DecodeWith([]byte(input), event.DecodeOptions{KeepUnknown: true})
		if err != nil {
			t.Fatalf("DecodeWith(%s): %v", input, err)
		}
		known := got
		known.Extra = event.Extra{}
		if !reflect.DeepEqual(known, e) {
			t.Fatalf("known fields differ:\n got %#v\nwant %#v", known, e)
		}
		back, err := event.DecodeBinary(event.AppendBinary(nil, &got))
		if err != nil || !reflect.DeepEqual(back, got) {
			t.Fatalf("binary round trip: %v", err)
		}
		out := event.AppendJSON(nil, &back)
		outDoc, err := eventgen.Parse(out)
		if err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, out)
		}
		if !sameValue(outDoc, doc) {
			t.Fatalf("values differ:\n in %s\nout %s", input, out)
		}
		checkOrder(t, "", doc, outDoc)
	})
}

// sameValue compares two JSON values, objects as sets of members; number
// and string texts compare exactly (Parse re-escapes strings alike).
func sameValue(a, b *eventgen.Node) bool {
	switch {
	case a.IsObj != b.IsObj || a.IsArray != b.IsArray || a.Raw != b.Raw ||
		len(a.Arr) != len(b.Arr) || len(a.Obj) != len(b.Obj):
		return false
	case a.IsArray:
		for i := range a.Arr {
			if !sameValue(a.Arr[i], b.Arr[i]) {
				return false
			}
		}
	case a.IsObj:
		for _, m := range a.Obj {
			if o := b.Get(m.Key); o == nil || !sameValue(m.Value, o) {
				return false
			}
		}
	}
	return true
}

// checkOrder checks the key order of every schema object in out against
// in (the document sent): known keys in field-table order, then unknown
// keys in the order sent.
func checkOrder(t *rapid.T, path string, in, out *eventgen.Node) {
	var unknownIn, unknownOut []string
	for _, m := range in.Obj {
		if schemaPos(join(path, m.Key)) < 0 {
			unknownIn = append(unknownIn, m.Key)
		}
	}
	lastKnown := -1
	for _, m := range out.Obj {
		p := join(path, m.Key)
		pos := schemaPos(p)
		switch {
		case pos < 0:
			unknownOut = append(unknownOut, m.Key)
		case len(unknownOut) > 0:
			t.Fatalf("in %q, known key %q after unknown %q", path, m.Key, unknownOut)
		case pos < lastKnown:
			t.Fatalf("in %q, known key %q out of schema order", path, m.Key)
		default:
			lastKnown = pos
			if m.Value.IsObj && event.FieldByName(p) == nil {
				checkOrder(t, p, in.Get(m.Key), m.Value)
			}
		}
	}
	if !reflect.DeepEqual(unknownIn, unknownOut) {
		t.Fatalf("in %q, unknown keys %q, sent %q", path, unknownOut, unknownIn)
	}
}

// schemaPos is the field-table position of the first field at or below
// the dotted path, -1 for a path outside the schema.
func schemaPos(path string) int {
	for i, f := range event.Fields() {
		if f.Kind != event.KindExtra && (f.Name == path || strings.HasPrefix(f.Name, path+".")) {
			return i
		}
	}
	return -1
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
