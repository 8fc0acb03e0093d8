package event

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

func readFullExample(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/full-example.json")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// jsonTree parses data into a generic tree, for field-for-field comparison.
func jsonTree(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("unmarshal %s: %v", data, err)
	}
	return v
}

func TestDecodeFullExampleRoundTrips(t *testing.T) {
	data := readFullExample(t)
	e, err := Decode(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	out := AppendJSON(nil, &e)
	if got, want := jsonTree(t, out), jsonTree(t, data); !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip differs:\n got %s\nwant %s", out, data)
	}
	marshalled, err := json.Marshal(&e)
	if err != nil {
		t.Fatal(err)
	}
	if string(marshalled) != string(out) {
		t.Fatalf("AppendJSON != json.Marshal:\n%s\n%s", out, marshalled)
	}
	again, err := Decode(out, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again, e) {
		t.Fatalf("re-decode differs")
	}
	// Spot checks on typed values.
	if *e.Event.RiskScore != 987.65 || *e.Event.Sequence != 1234567890 || e.Kibana.SavedObjects[0].Type != "event_log_test" ||
		*e.Kibana.Alert.Rule.Execution.Metrics.ExecutionGapDurationS != 3000 || e.Timestamp.String() != "2042-03-25T11:53:24.911Z" {
		t.Fatalf("unexpected values: %+v", e)
	}
}

func TestDecodeTypicalEventRoundTrips(t *testing.T) {
	data, err := os.ReadFile("testdata/typical-event.json")
	if err != nil {
		t.Fatal(err)
	}
	e, err := Decode(data, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	out := AppendJSON(nil, &e)
	if got, want := jsonTree(t, out), jsonTree(t, data); !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip differs:\n got %s\nwant %s", out, data)
	}
	if e.Event.Duration == nil || *e.Event.Duration != (Duration{Nanos: 214000000, Quoted: true}) {
		t.Fatalf("duration %+v", e.Event.Duration)
	}
}

func TestDecodeDatesExact(t *testing.T) {
	doc := `{"@timestamp":"2019-12-09T21:16:43.425Z","event":{"end":"2019-12-09T21:16:43-00:30","start":"2019-12-09T22:16:43.4+01:00"}}`
	e, err := Decode([]byte(doc), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(AppendJSON(nil, &e)); got != doc {
		t.Fatalf("got %s\nwant %s", got, doc)
	}
	// 22:16:43.4+01:00 is 21:16:43.400Z: 25 ms before the timestamp.
	if d := e.Timestamp.UnixNano() - e.Event.Start.UnixNano(); d != 25e6 {
		t.Fatalf("instant difference %d, want 25ms", d)
	}
	if !e.Event.Start.Time().Before(e.Timestamp.Time()) || !e.Event.End.Time().After(e.Timestamp.Time()) {
		t.Fatal("instants compare wrongly")
	}
}

func TestDecodeNormalizes(t *testing.T) {
	cases := map[string]struct{ in, out string }{
		"null fields":      {`{"message":null,"event":null,"tags":null,"labels":null,"kibana":{"saved_objects":null}}`, `{}`},
		"empty values":     {`{"message":"","tags":[],"labels":{},"event":{},"kibana":{"saved_objects":[]},"rule":{"author":""}}`, `{}`},
		"scalar list":      {`{"tags":"one"}`, `{"tags":"one"}`},
		"list":             {`{"tags":["one"]}`, `{"tags":["one"]}`},
		"quoted duration":  {`{"event":{"duration":"-1500"}}`, `{"event":{"duration":"-1500"}}`},
		"number duration":  {`{"event":{"duration":1500}}`, `{"event":{"duration":1500}}`},
		"escapes":          {`{"message":"a\"b\\c\/d\b\f\n\r\t\u0001\u00e9\ud83d\ude00<>&\u2028"}`, `{"message":"a\"b\\c/d\b\f\n\r\t\u0001é😀\u003c\u003e\u0026\u2028"}`},
		"label null value": {`{"labels":{"b":"2","a":"1","c":null}}`, `{"labels":{"a":"1","b":"2"}}`},
		"ref":              {`{"kibana":{"saved_objects":[{"type_id":"x","rel":"primary","namespace":null},{}]}}`, `{"kibana":{"saved_objects":[{"rel":"primary","type_id":"x"},{}]}}`},
		"key order":        {`{"event":{"outcome":"success","action":"a"},"@timestamp":"2019-12-09T21:16:43Z"}`, `{"@timestamp":"2019-12-09T21:16:43Z","event":{"action":"a","outcome":"success"}}`},
		"floats":           {`{"event":{"risk_score":1e21,"risk_score_norm":-0.000001}}`, `{"event":{"risk_score":1e+21,"risk_score_norm":-0.000001}}`},
		"whitespace":       {" \t\r\n{ \"message\" : \"x\" } \n", `{"message":"x"}`},
		"ip":               {`{"source":{"ip":"2001:db8::1"},"client":{"ip":"10.0.0.1"}}`, `{"source":{"ip":"2001:db8::1"},"client":{"ip":"10.0.0.1"}}`},
		"int edge":         {`{"event":{"sequence":-9223372036854775808,"severity":9223372036854775807}}`, `{"event":{"sequence":-9223372036854775808,"severity":9223372036854775807}}`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			e, err := Decode([]byte(c.in), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if got := string(AppendJSON(nil, &e)); got != c.out {
				t.Fatalf("got  %s\nwant %s", got, c.out)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	small := Limits{MaxDocumentBytes: 200, MaxStringBytes: 5, MaxRefs: 2, MaxTags: 2, MaxLabels: 2}
	cases := []struct {
		name, in string
		lim      Limits
		is       error
		msg      string // exact Error() text
	}{
		{"unknown top-level", `{"mesage":"x"}`, Limits{}, ErrUnknownField, "mesage: unknown field"},
		{"unknown nested", `{"kibana":{"saved_objets":[]}}`, Limits{}, ErrUnknownField, "kibana.saved_objets: unknown field"},
		{"unknown deep", `{"kibana":{"alert":{"rule":{"execution":{"metrics":{"x":1}}}}}}`, Limits{}, ErrUnknownField, "kibana.alert.rule.execution.metrics.x: unknown field"},
		{"unknown ref key", `{"kibana":{"saved_objects":[{"typ":"a"}]}}`, Limits{}, ErrUnknownField, "kibana.saved_objects[0].typ: unknown field"},
		{"unknown second ref key", `{"kibana":{"saved_objects":[{},{"id":"1","Type":"a"}]}}`, Limits{}, ErrUnknownField, "kibana.saved_objects[1].Type: unknown field"},
		{"case-sensitive", `{"Message":"x"}`, Limits{}, ErrUnknownField, "Message: unknown field"},
		{"dotted key", `{"event.action":"x"}`, Limits{}, ErrUnknownField, "event.action: unknown field"},
		{"key under leaf", `{"message":{"x":1}}`, Limits{}, ErrWrongType, "message: expected a string, got object"},
		{"object expected", `{"event":"x"}`, Limits{}, ErrWrongType, "event: expected an object, got string"},
		{"string", `{"message":1}`, Limits{}, ErrWrongType, "message: expected a string, got number"},
		{"int", `{"event":{"severity":"20"}}`, Limits{}, ErrWrongType, "event.severity: expected an integer, got string"},
		{"int fraction", `{"event":{"severity":1.0}}`, Limits{}, ErrWrongType, "event.severity: expected an integer, got 1.0"},
		{"int exponent", `{"event":{"severity":1e2}}`, Limits{}, ErrWrongType, "event.severity: expected an integer, got 1e2"},
		{"int overflow", `{"event":{"sequence":9223372036854775808}}`, Limits{}, ErrWrongType, "event.sequence: integer 9223372036854775808 is out of the int64 range"},
		{"int bool", `{"http":{"response":{"status_code":true}}}`, Limits{}, ErrWrongType, "http.response.status_code: expected an integer, got boolean"},
		{"float", `{"event":{"risk_score":"1.5"}}`, Limits{}, ErrWrongType, "event.risk_score: expected a number, got string"},
		{"float range", `{"event":{"risk_score":1e400}}`, Limits{}, ErrWrongType, "event.risk_score: number 1e400 is out of the float64 range"},
		{"date type", `{"@timestamp":1575926203425}`, Limits{}, ErrWrongType, "@timestamp: expected a date string, got number"},
		{"bad date", `{"event":{"created":"2019-12-09 21:16:43Z"}}`, Limits{}, ErrWrongType, "event.created: expected an RFC 3339 date like 2019-12-09T21:16:43.425Z"},
		{"bad date month", `{"event":{"created":"2019-13-09T21:16:43Z"}}`, Limits{}, ErrWrongType, "event.created: expected an RFC 3339 date like 2019-12-09T21:16:43.425Z (a field is out of range)"},
		{"list type", `{"tags":5}`, Limits{}, ErrWrongType, "tags: expected a string or an array of strings, got number"},
		{"list item", `{"event":{"type":["a",1]}}`, Limits{}, ErrWrongType, "event.type[1]: expected a string, got number"},
		{"list null item", `{"tags":[null]}`, Limits{}, ErrWrongType, "tags[0]: expected a string, got null"},
		{"labels type", `{"labels":["a"]}`, Limits{}, ErrWrongType, "labels: expected an object of strings, got array"},
		{"label value", `{"labels":{"a":1}}`, Limits{}, ErrWrongType, "labels.a: expected a string, got number"},
		{"refs type", `{"kibana":{"saved_objects":{"id":"x"}}}`, Limits{}, ErrWrongType, "kibana.saved_objects: expected an array of objects, got object"},
		{"ref element", `{"kibana":{"saved_objects":["x"]}}`, Limits{}, ErrWrongType, "kibana.saved_objects[0]: expected an object, got string"},
		{"ref value", `{"kibana":{"saved_objects":[{"id":7}]}}`, Limits{}, ErrWrongType, "kibana.saved_objects[0].id: expected a string, got number"},
		{"duration type", `{"event":{"duration":true}}`, Limits{}, ErrWrongType, "event.duration: expected an integer or a string of digits, got boolean"},
		{"duration string", `{"event":{"duration":"12ms"}}`, Limits{}, ErrWrongType, `event.duration: expected an integer or a string of digits, got "12ms"`},
		{"duration float", `{"event":{"duration":1.5}}`, Limits{}, ErrWrongType, "event.duration: expected an integer or a string of digits, got 1.5"},
		{"bad ip", `{"source":{"ip":"10.0.0.256"}}`, Limits{}, ErrWrongType, "source.ip: expected an IPv4 or IPv6 address"},
		{"ip zone", `{"client":{"ip":"fe80::1%eth0"}}`, Limits{}, ErrWrongType, "client.ip: expected an IPv4 or IPv6 address"},
		{"document limit", `{"message":"` + strings.Repeat("x", 300) + `"}`, small, ErrLimit, "document of 314 bytes is over the limit of 200 bytes"},
		{"string limit", `{"message":"123456"}`, small, ErrLimit, "message: string of 6 bytes is over the limit of 5 bytes"},
		{"list item limit", `{"tags":["a","123456"]}`, small, ErrLimit, "tags[1]: string of 6 bytes is over the limit of 5 bytes"},
		{"label value limit", `{"labels":{"k":"123456"}}`, small, ErrLimit, "labels.k: string of 6 bytes is over the limit of 5 bytes"},
		{"label key limit", `{"labels":{"123456":"v"}}`, small, ErrLimit, "labels: label key of 6 bytes is over the limit of 5 bytes"},
		{"ref string limit", `{"kibana":{"saved_objects":[{"id":"123456"}]}}`, small, ErrLimit, "kibana.saved_objects[0].id: string of 6 bytes is over the limit of 5 bytes"},
		{"tags limit", `{"tags":["a","b","c"]}`, small, ErrLimit, "tags: more than 2 items"},
		{"list limit", `{"user":{"roles":["a","b","c"]}}`, small, ErrLimit, "user.roles: more than 2 items"},
		{"labels limit", `{"labels":{"a":"1","b":"2","c":"3"}}`, small, ErrLimit, "labels: more than 2 labels"},
		{"refs limit", `{"kibana":{"saved_objects":[{},{},{}]}}`, small, ErrLimit, "kibana.saved_objects: more than 2 saved objects"},
		{"duplicate", `{"message":"a","message":"b"}`, Limits{}, ErrSyntax, "message: duplicate field"},
		{"duplicate object", `{"event":{"action":"a"},"event":{"code":"b"}}`, Limits{}, ErrSyntax, "event: duplicate field"},
		{"duplicate null", `{"message":null,"message":"b"}`, Limits{}, ErrSyntax, "message: duplicate field"},
		{"duplicate label", `{"labels":{"a":"1","a":"2"}}`, Limits{}, ErrSyntax, "labels.a: duplicate field"},
		{"duplicate ref key", `{"kibana":{"saved_objects":[{"id":"1","id":"2"}]}}`, Limits{}, ErrSyntax, "kibana.saved_objects[0].id: duplicate field"},
		{"missing colon", `{"message" "x"}`, Limits{}, ErrSyntax, "at 11: expected ':' after object key"},
		{"missing comma", `{"message":"x" "tags":"y"}`, Limits{}, ErrSyntax, "at 15: expected ',' or '}' after object member"},
		{"trailing comma", `{"message":"x",}`, Limits{}, ErrSyntax, `at 15: expected '"' to start an object key`},
		{"array trailing comma", `{"tags":["a",]}`, Limits{}, ErrSyntax, "at 13: expected a value"},
		{"unterminated", `{"message":"x`, Limits{}, ErrSyntax, `at 13: expected '"' to end string, got end of input`},
		{"truncated", `{"message":"x"`, Limits{}, ErrSyntax, "at 14: expected ',' or '}' after object member, got end of input"},
		{"empty input", ``, Limits{}, ErrSyntax, "at 0: expected '{' to start the document, got end of input"},
		{"trailing data", `{} {}`, Limits{}, ErrSyntax, "at 3: expected end of input after the document"},
		{"trailing garbage", `{"message":"x"}x`, Limits{}, ErrSyntax, "at 15: expected end of input after the document"},
		{"array top level", `["x"]`, Limits{}, ErrSyntax, "at 0: expected a JSON object, got array"},
		{"string top level", ` "x"`, Limits{}, ErrSyntax, "at 1: expected a JSON object, got string"},
		{"null top level", `null`, Limits{}, ErrSyntax, "at 0: expected a JSON object, got null"},
		{"not json", `not json`, Limits{}, ErrSyntax, "at 0: expected '{' to start the document"},
		{"bad escape", `{"message":"\x"}`, Limits{}, ErrSyntax, "at 12: invalid escape in string"},
		{"bad unicode escape", `{"message":"\u12G4"}`, Limits{}, ErrSyntax, `at 12: expected four hex digits after \u`},
		{"lone surrogate", `{"message":"\ud83d"}`, Limits{}, ErrSyntax, `at 12: unpaired surrogate in \u escape`},
		{"bad low surrogate", `{"message":"\ud83d\u0041"}`, Limits{}, ErrSyntax, `at 12: unpaired surrogate in \u escape`},
		{"control char", "{\"message\":\"a\nb\"}", Limits{}, ErrSyntax, "at 13: control character in string"},
		{"invalid utf8", "{\"message\":\"a\xffb\"}", Limits{}, ErrSyntax, "at 13: invalid UTF-8 in string"},
		{"invalid utf8 escaped", "{\"message\":\"\\n\xc3\"}", Limits{}, ErrSyntax, "at 14: invalid UTF-8 in string"},
		{"invalid utf8 key", "{\"m\xffx\":\"a\"}", Limits{}, ErrSyntax, "at 3: invalid UTF-8 in string"},
		{"bad literal", `{"message":nul}`, Limits{}, ErrSyntax, "at 11: expected null"},
		{"bad number", `{"event":{"severity":-}}`, Limits{}, ErrSyntax, "at 22: expected a digit in number"},
		{"leading zero", `{"event":{"severity":01}}`, Limits{}, ErrSyntax, "at 22: expected ',' or '}' after object member"},
		{"bad fraction", `{"event":{"risk_score":1.}}`, Limits{}, ErrSyntax, "at 25: expected a digit after decimal point"},
		{"bad exponent", `{"event":{"risk_score":1e+}}`, Limits{}, ErrSyntax, "at 26: expected a digit in exponent"},
		{"no value", `{"message":}`, Limits{}, ErrSyntax, "at 11: expected a value"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode([]byte(c.in), c.lim)
			if err == nil {
				t.Fatalf("Decode(%s) succeeded", c.in)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T is not a *FieldError: %v", err, err)
			}
			if !errors.Is(err, c.is) {
				t.Errorf("error %q does not wrap %v", err, c.is)
			}
			if err.Error() != c.msg {
				t.Errorf("error\n got %q\nwant %q", err.Error(), c.msg)
			}
		})
	}
}

func TestFieldErrorOffset(t *testing.T) {
	_, err := Decode([]byte(`{"event":{"action":"a","sverity":1}}`), Limits{})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Path != "event.sverity" || fe.Offset != 23 {
		t.Fatalf("got %#v", err)
	}
}
