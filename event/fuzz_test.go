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
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Decode(data, Limits{})
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not a *FieldError: %v", err, err)
			}
			return
		}
		out := AppendJSON(nil, &e)
		again, err := Decode(out, fuzzLimits)
		if err != nil {
			t.Fatalf("Decode(AppendJSON) of %q: %v\n%s", data, err, out)
		}
		if !reflect.DeepEqual(again, e) {
			t.Fatalf("re-decode differs for %q\n%s", data, out)
		}
		if m, err := json.Marshal(&e); err != nil || string(m) != string(out) {
			t.Fatalf("json.Marshal differs (%v):\n%s\n%s", err, m, out)
		}
		if err := e.Validate(Limits{}); err != nil {
			t.Fatalf("Validate of a decoded event: %v", err)
		}
		bin, err := DecodeBinary(AppendBinary(nil, &e))
		if err != nil || !reflect.DeepEqual(bin, e) {
			t.Fatalf("binary round trip: %v", err)
		}
	})
}

func FuzzDecodeBinary(f *testing.F) {
	e, err := Decode(readFullExample(f), Limits{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(AppendBinary(nil, &e))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := DecodeBinary(data)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not a *FieldError: %v", err, err)
			}
			return
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

// TestWriteFuzzSeeds regenerates the seed corpora under testdata/fuzz when
// EVENT_WRITE_FUZZ_SEEDS=1.
func TestWriteFuzzSeeds(t *testing.T) {
	if os.Getenv("EVENT_WRITE_FUZZ_SEEDS") != "1" {
		t.Skip("set EVENT_WRITE_FUZZ_SEEDS=1 to regenerate testdata/fuzz")
	}
	docs := fuzzSeedDocs(t)
	for i, doc := range docs {
		writeSeed(t, "FuzzDecode", i, doc)
		if e, err := Decode(doc, Limits{}); err == nil {
			writeSeed(t, "FuzzDecodeBinary", i, AppendBinary(nil, &e))
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
	}
	return docs
}

func writeSeed(t *testing.T, name string, i int, data []byte) {
	dir := filepath.Join("testdata", "fuzz", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(data)))
	if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
