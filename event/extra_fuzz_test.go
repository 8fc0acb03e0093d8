package event

import (
	"encoding/json"
	"errors"
	"testing"
)

// keptSeeds are documents with kept fields for the fuzz targets.
var keptSeeds = []string{
	`{"@timestamp":"2024-05-14T09:12:44.125Z","host":{"name":"h","os":{"family":"linux"}},"process":{"pid":42,"args":["-v",1.50,true,null,{}]},"syslog":{"facility":"local0"}}`,
	`{"a.b":[1e3,-0,9223372036854775808],"event":{"action":"x","module_v":{"k":[[]]}},"kibana":{"alert":{"rule":{"z":"\u2028"}}}}`,
	`{"x":{"a":1,"a":2}}`,
	`{"user.name":"alice"}`,
}

var fuzzKeep = DecodeOptions{KeepUnknown: true, Limits: Limits{MaxDocumentBytes: 16 << 20, MaxExtraDepth: MaxExtraDepthCap, MaxExtraKeys: 1 << 20}}

func FuzzDecodeWith(f *testing.F) {
	for _, s := range keptSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := DecodeWith(data, DecodeOptions{KeepUnknown: true})
		if !checkDecoded(t, data, e, err, fuzzKeep) {
			return
		}
		e.Extra.Lookup("process.pid", func(ExtraValue) bool { return true })
	})
}

func FuzzParseExtra(f *testing.F) {
	for _, s := range keptSeeds {
		if e, err := DecodeWith([]byte(s), DecodeOptions{KeepUnknown: true}); err == nil {
			f.Add(e.Extra.Encoded())
		}
	}
	f.Fuzz(func(t *testing.T, enc string) {
		x, err := ParseExtra(enc)
		if err != nil {
			if !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrLimit) {
				t.Fatalf("error %v wraps neither ErrSyntax nor ErrLimit", err)
			}
			return
		}
		e := Event{Extra: x}
		out := AppendJSON(nil, &e)
		if !json.Valid(out) {
			t.Fatalf("AppendJSON of a checked tree is not JSON: %s", out)
		}
		again, err := DecodeWith(out, fuzzKeep)
		if err != nil {
			t.Fatalf("DecodeWith(%s): %v", out, err)
		}
		if b := AppendJSON(nil, &again); string(b) != string(out) {
			t.Fatalf("JSON not stable:\n%s\n%s", out, b)
		}
		x.Lookup("a.b", func(ExtraValue) bool { return true })
		x.Has("x.y")
	})
}
