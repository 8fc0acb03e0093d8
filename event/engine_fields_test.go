package event

import (
	"errors"
	"strings"
	"testing"
)

// TestDecodeEngineFields: "_id" and "_index" are kept, "_seq" is checked
// and ignored, and each wrong value is a *FieldError naming the key.
func TestDecodeEngineFields(t *testing.T) {
	e, err := Decode([]byte(`{"_id":"abc","_seq":42,"_index":"logs-foo","message":"m"}`), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if e.ClientID != "abc" || e.Index != "logs-foo" || e.Message != "m" {
		t.Fatalf("decoded %+v", e)
	}
	if got := string(AppendJSON(nil, &e)); got != `{"message":"m","_id":"abc","_index":"logs-foo"}` {
		t.Fatalf("AppendJSON = %s", got)
	}
	bad := map[string]struct {
		doc  string
		path string
		kind error
	}{
		"empty id":      {`{"_id":""}`, "_id", ErrWrongType},
		"numeric id":    {`{"_id":7}`, "_id", ErrWrongType},
		"long id":       {`{"_id":"` + strings.Repeat("x", MaxClientIDBytes+1) + `"}`, "_id", ErrLimit},
		"index object":  {`{"_index":{}}`, "_index", ErrWrongType},
		"seq string":    {`{"_seq":"1"}`, "_seq", ErrWrongType},
		"seq negative":  {`{"_seq":-1}`, "_seq", ErrWrongType},
		"seq fraction":  {`{"_seq":1.5}`, "_seq", ErrWrongType},
		"seq twice":     {`{"_seq":1,"_seq":2}`, "_seq", ErrSyntax},
		"nested seq":    {`{"event":{"_seq":1}}`, "event._seq", ErrUnknownField},
		"nested id":     {`{"event":{"_id":"x"}}`, "event._id", ErrUnknownField},
		"id twice":      {`{"_id":"a","_id":"b"}`, "_id", ErrSyntax},
		"unknown under": {`{"_type":"doc"}`, "_type", ErrUnknownField},
	}
	for name, c := range bad {
		_, err := Decode([]byte(c.doc), Limits{})
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Path != c.path || !errors.Is(err, c.kind) {
			t.Errorf("%s: %s: got %v, want a %v *FieldError at %s", name, c.doc, err, c.kind, c.path)
		}
	}
	if _, err := Decode([]byte(`{"_id":"`+strings.Repeat("x", MaxClientIDBytes)+`"}`), Limits{}); err != nil {
		t.Errorf("id of exactly %d bytes: %v", MaxClientIDBytes, err)
	}
}

// TestValidateClientID: Validate holds Go-built events to Decode's rules.
func TestValidateClientID(t *testing.T) {
	e := Event{ClientID: strings.Repeat("y", MaxClientIDBytes+1)}
	if err := e.Validate(Limits{}); !errors.Is(err, ErrLimit) {
		t.Fatalf("Validate over-long id: %v", err)
	}
	e.ClientID = strings.Repeat("y", MaxClientIDBytes)
	if err := e.Validate(Limits{}); err != nil {
		t.Fatalf("Validate: %v", err)
	}
}

// TestBinaryEngineFields: the engine fields survive the binary form under
// their wire ids, after every event field.
func TestBinaryEngineFields(t *testing.T) {
	e := Event{Message: "m", ClientID: "c-1", Index: "logs"}
	b := AppendBinary(nil, &e)
	want := []byte{2, 1, 'm', 92, 3, 'c', '-', '1', 93, 4, 'l', 'o', 'g', 's'}
	if string(b) != string(want) {
		t.Fatalf("binary % x, want % x", b, want)
	}
	got, err := DecodeBinary(b)
	if err != nil || got.ClientID != "c-1" || got.Index != "logs" || got.Message != "m" {
		t.Fatalf("DecodeBinary = %+v, %v", got, err)
	}
}
