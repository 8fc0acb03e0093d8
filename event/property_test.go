package event

import (
	"encoding/json"
	"reflect"
	"testing"

	"pgregory.net/rapid"
)

func TestPropertyJSONRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := genEvent().Draw(t, "event")
		out := AppendJSON(nil, &e)
		got, err := Decode(out, Limits{})
		if err != nil {
			t.Fatalf("Decode(%s): %v", out, err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Fatalf("round trip differs:\n got %#v\nwant %#v\njson %s", got, e, out)
		}
		marshalled, err := json.Marshal(&e)
		if err != nil {
			t.Fatal(err)
		}
		if string(marshalled) != string(out) {
			t.Fatalf("json.Marshal != AppendJSON:\n%s\n%s", marshalled, out)
		}
	})
}

func TestPropertyBinaryRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := genEvent().Draw(t, "event")
		bin := AppendBinary(nil, &e)
		got, err := DecodeBinary(bin)
		if err != nil {
			t.Fatalf("DecodeBinary: %v", err)
		}
		if !reflect.DeepEqual(got, e) {
			t.Fatalf("round trip differs:\n got %#v\nwant %#v", got, e)
		}
		if again := AppendBinary(nil, &got); string(again) != string(bin) {
			t.Fatalf("re-encoding differs")
		}
	})
}
