package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
)

// fuzzLimits lets the re-decode of AppendJSON output through: escaping can
// make the canonical JSON up to six times the input.
var fuzzLimits = Limits{MaxDocumentBytes: 16 << 20}

func FuzzDecode(f *testing.F) {
	f.Add(readFullExample(f))
	f.Add([]byte(`{"_id":"a","_seq":1,"_index":"i"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Decode(data, Limits{})
		if !checkDecoded(t, data, e, err, DecodeOptions{Limits: fuzzLimits}) {
			return
		}
		out := AppendJSON(nil, &e)
		if m, err := json.Marshal(&e); err != nil || string(m) != string(out) {
			t.Fatalf("json.Marshal differs (%v):\n%s\n%s", err, m, out)
		}
	})
}

// checkDecoded checks what decoding data gave: an error must be a
// *FieldError (then it returns false); an event must come back equal
// from its JSON (decoded with again) and its binary form, and validate.
func checkDecoded(t *testing.T, data []byte, e Event, err error, again DecodeOptions) bool {
	t.Helper()
	if err != nil {
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Fatalf("error %T is not a *FieldError: %v", err, err)
		}
		return false
	}
	out := AppendJSON(nil, &e)
	if back, err := DecodeWith(out, again); err != nil || !reflect.DeepEqual(back, e) {
		t.Fatalf("re-decode of %q from %s: %v", data, out, err)
	}
	if err := e.Validate(Limits{}); err != nil {
		t.Fatalf("Validate of a decoded event: %v", err)
	}
	bin, err := DecodeBinary(AppendBinary(nil, &e))
	if err != nil || !reflect.DeepEqual(bin, e) {
		t.Fatalf("binary round trip: %v", err)
	}
	return true
}

func FuzzDecodeBinary(f *testing.F) {
	e, err := Decode(readFullExample(f), Limits{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(AppendBinary(nil, &e))
	e.ClientID, e.Index = "doc-1", "logs-app"
	f.Add(AppendBinary(nil, &e))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := DecodeBinary(data)
		var x IndexDecoder
		indexed, xerr := x.Decode(data)
		if (xerr == nil) != (err == nil) || err != nil && xerr.Error() != err.Error() {
			t.Fatalf("IndexDecoder says %v, DecodeBinary %v", xerr, err)
		}
		var row RowDecoder
		if _, rerr := row.Decode(data); (rerr == nil) != (err == nil) || err != nil && rerr.Error() != err.Error() {
			t.Fatalf("RowDecoder says %v, DecodeBinary %v", rerr, err)
		}
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not a *FieldError: %v", err, err)
			}
			return
		}
		if want := indexedPart(&e); !reflect.DeepEqual(*indexed, want) {
			t.Fatalf("IndexDecoder of %x:\n got %#v\nwant %#v", data, *indexed, want)
		}
		for range 2 { // the second time on reused memory
			whole, err := row.Decode(data)
			if err != nil || !reflect.DeepEqual(*whole, e) {
				t.Fatalf("RowDecoder of %x: %v, or\n got %#v\nwant %#v", data, err, whole, e)
			}
		}
		canon := AppendBinary(nil, &e)
		again, err := DecodeBinary(canon)
		if err != nil {
			t.Fatalf("DecodeBinary(AppendBinary) of %x: %v", data, err)
		}
		if !reflect.DeepEqual(again, e) {
			t.Fatalf("re-decode differs for %x", data)
		}
		if b := AppendBinary(nil, &again); string(b) != string(canon) {
			t.Fatalf("re-encode differs for %x", data)
		}
	})
}

// TestFuzzSeedsCurrent keeps the seed corpora under testdata/fuzz in step
// with the codecs: with EVENT_WRITE_FUZZ_SEEDS=1 it rewrites them, otherwise
// a missing or stale seed fails the test.
func TestFuzzSeedsCurrent(t *testing.T) {
	regenerate := os.Getenv("EVENT_WRITE_FUZZ_SEEDS") == "1"
	docs := fuzzSeedDocs(t)
	for i, doc := range docs {
		checkSeed(t, regenerate, "FuzzDecode", i, doc)
		if e, err := Decode(doc, Limits{}); err == nil {
			checkSeed(t, regenerate, "FuzzDecodeBinary", i, AppendBinary(nil, &e))
		}
	}
	// The binary form with kept unknown fields (field 94), after the others.
	for i, doc := range keptSeeds {
		if e, err := DecodeWith([]byte(doc), DecodeOptions{KeepUnknown: true}); err == nil {
			checkSeed(t, regenerate, "FuzzDecodeBinary", len(docs)+i, AppendBinary(nil, &e))
		}
	}
}

func fuzzSeedDocs(t *testing.T) [][]byte {
	docs := [][]byte{
		readFullExample(t),
		[]byte(`{}`),
		[]byte(`{"@timestamp":"2019-12-09T22:16:43.4+01:00","tags":"one","labels":{"b":"2","a":"1"},"event":{"duration":"-12"}}`),
		[]byte(`{"message":"a\"\\\/\b\f\n\r\t\u0001\ud83d\ude00<>&\u2028","source":{"ip":"::ffff:1.2.3.4"},"client":{"ip":"10.0.0.1"}}`),
		[]byte(`{"kibana":{"saved_objects":[{"rel":"primary","namespace":"s","id":"1","type":"t","type_id":"x"},{}]},"event":{"risk_score":1e-7,"risk_score_norm":-0.0,"sequence":-9223372036854775808}}`),
		[]byte(`{"event":{"severity":1.0}}`),
		[]byte(`{"kibana":{"saved_objets":[]}}`),
		[]byte(`{"message":"x",}`),
		// The engine fields of a printed document: _id and _index kept,
		// _seq checked and ignored; and their errors.
		[]byte(`{"_id":"doc-1","_seq":42,"_index":"logs-app","@timestamp":"2024-05-01T00:00:00Z","event":{"provider":"p","action":"a"}}`),
		[]byte(`{"_seq":null,"_id":"\u00e9\ud83d\ude00"}`),
		[]byte(`{"_id":"","_seq":-1,"_index":7}`),
		[]byte(`{"_seq":1.5,"event":{"_id":"x"}}`),
	}
	return docs
}

func checkSeed(t *testing.T, regenerate bool, name string, i int, data []byte) {
	dir := filepath.Join("testdata", "fuzz", name)
	path := filepath.Join(dir, fmt.Sprintf("seed-%02d", i))
	body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(data)))
	if !regenerate {
		if have, err := os.ReadFile(path); err != nil || string(have) != body {
			t.Errorf("fuzz seed %s is missing or stale (%v): regenerate with EVENT_WRITE_FUZZ_SEEDS=1 go test ./event -run TestFuzzSeedsCurrent", path, err)
		}
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
