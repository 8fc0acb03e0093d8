package event

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"testing"
)

func decodeKeep(t *testing.T, doc string) Event {
	t.Helper()
	e, err := DecodeWith([]byte(doc), DecodeOptions{KeepUnknown: true})
	if err != nil {
		t.Fatalf("DecodeWith(%s): %v", doc, err)
	}
	return e
}

// TestKeepInPlace checks where kept fields come back: inside their known
// object after its known fields, objects holding only kept fields at their
// schema place, kept top-level keys last, values as sent.
func TestKeepInPlace(t *testing.T) {
	for doc, want := range map[string]string{
		`{"syslog":{"facility":"local0"},"message":"m","host":{"os":{"family":"linux"},"name":"h1"}}`: `{"message":"m","host":{"name":"h1","os":{"family":"linux"}},"syslog":{"facility":"local0"}}`,
		`{"kibana":{"alert":{"rule":{"x":1}}},"event":{"y":2}}`:                                       `{"event":{"y":2},"kibana":{"alert":{"rule":{"x":1}}}}`,
		`{"n":[1,-0,1.50,1e3,9223372036854775808,null,true,false,"s",[],{}]}`:                         `{"n":[1,-0,1.50,1e3,9223372036854775808,null,true,false,"s",[],{}]}`,
		`{"a.b":1,"host":{"x.y":"z"}}`:                                                                `{"host":{"x.y":"z"},"a.b":1}`,
		`{"user":{"name":"u"},"b":1,"a":2}`:                                                           `{"user":{"name":"u"},"b":1,"a":2}`,
		`{"host":null,"x":{"<&>":"\u2028"}}`:                                                          `{"x":{"\u003c\u0026\u003e":"\u2028"}}`,
	} {
		e := decodeKeep(t, doc)
		if got := string(AppendJSON(nil, &e)); got != want {
			t.Errorf("%s:\n got %s\nwant %s", doc, got, want)
		}
	}
}

// TestKeepRefusals checks what KeepUnknown still refuses, with the path
// and sentinel of each error; strict Decode refuses every unknown key.
func TestKeepRefusals(t *testing.T) {
	deep := `{"d":` + strings.Repeat(`[`, 25) + strings.Repeat(`]`, 25) + `}`
	many := `{"m":[` + strings.Repeat(`0,`, 1000) + `0]}`
	for doc, want := range map[string]struct {
		path string
		kind error
	}{
		`{"host":{"name":1,"x":1}}`:                       {"host.name", ErrWrongType},
		`{"x":1,"host":"h"}`:                              {"host", ErrWrongType},
		`{"user.name":"alice"}`:                           {"user.name", ErrUnknownField},
		`{"user":{"name.x":"alice"}}`:                     {"user.name.x", ErrUnknownField},
		`{"kibana.alert":{"rule":{"consumer":"c"}}}`:      {"kibana.alert", ErrUnknownField},
		`{"kibana":{"saved_objects":[{"id":"a","q":1}]}}`: {"kibana.saved_objects[0].q", ErrUnknownField},
		`{"x":1,"x":2}`:                                   {"x", ErrSyntax},
		`{"x":{"a":1,"a":2}}`:                             {"x.a", ErrSyntax},
		deep:                                              {"d" + strings.Repeat("[0]", 20), ErrLimit},
		many:                                              {"m[999]", ErrLimit},
		`{"x":tru}`:                                       {"", ErrSyntax},
	} {
		_, err := DecodeWith([]byte(doc), DecodeOptions{KeepUnknown: true})
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Path != want.path || !errors.Is(err, want.kind) {
			t.Errorf("%.60s: error %v, want path %q and %v", doc, err, want.path, want.kind)
		}
	}
	// _seq is an engine field (the printed sequence number): accepted and
	// ignored, never kept.
	if e, err := DecodeWith([]byte(`{"_seq":7,"x":1}`), DecodeOptions{KeepUnknown: true}); err != nil ||
		string(AppendJSON(nil, &e)) != `{"x":1}` {
		t.Errorf(`{"_seq":7,"x":1} kept: %s, %v; want {"x":1}`, AppendJSON(nil, &e), err)
	}
	if _, err := Decode([]byte(`{"x":1}`), Limits{}); !errors.Is(err, ErrUnknownField) {
		t.Errorf("strict Decode of an unknown key: %v", err)
	}
	long := `{"x":"` + strings.Repeat("a", 100) + `"}`
	if _, err := DecodeWith([]byte(long), DecodeOptions{KeepUnknown: true, Limits: Limits{MaxStringBytes: 50}}); !errors.Is(err, ErrLimit) {
		t.Errorf("kept string over MaxStringBytes: %v", err)
	}
	if _, err := DecodeWith([]byte(long), DecodeOptions{KeepUnknown: true, Limits: Limits{MaxDocumentBytes: 50}}); !errors.Is(err, ErrLimit) {
		t.Errorf("kept fields over MaxDocumentBytes: %v", err)
	}
}

// TestLookup checks the values a dotted path finds, nested or dotted,
// through arrays, and Has for values of every kind.
func TestLookup(t *testing.T) {
	e := decodeKeep(t, `{"process":{"pid":42,"args":["a",2.5,{"k":"v"}],"n":null},"log.syslog":{"facility":{"code":16}},"host":{"os":{"family":"linux"}},"o":[{"k":1},{"k":"2"}]}`)
	for path, want := range map[string]string{
		"process.pid":               "3:42",
		"process.args":              "5:a 4:2.5",
		"process.args.k":            "5:v",
		"process.n":                 "0:",
		"log.syslog.facility.code":  "3:16",
		"host.os.family":            "5:linux",
		"o.k":                       "3:1 5:2",
		"process":                   "",
		"missing":                   "",
		"process.pid.x":             "",
		"log.syslog.facility.other": "",
	} {
		var got []string
		e.Extra.Lookup(path, func(v ExtraValue) bool {
			s := strconv.Itoa(int(v.Kind)) + ":" + v.Text
			if v.Kind == ExtraInt {
				s += strconv.FormatInt(v.Int, 10)
			}
			got = append(got, s)
			return true
		})
		if strings.Join(got, " ") != want {
			t.Errorf("Lookup(%s) = %q, want %q", path, got, want)
		}
	}
	for path, want := range map[string]bool{"process": true, "process.n": false, "process.pid": true, "o.k": true, "log.syslog": true, "host.os": true, "host.name": false, "o.z": false, "log": false} {
		if got := e.Extra.Has(path); got != want {
			t.Errorf("Has(%s) = %v, want %v", path, got, want)
		}
	}
}

// TestParseExtraRefuses checks the stored-tree checker against damaged
// and forged trees: each is refused with ErrSyntax, never a panic.
func TestParseExtraRefuses(t *testing.T) {
	good := decodeKeep(t, `{"x":{"a":[1,"s"]},"host":{"y":2.5}}`).Extra.Encoded()
	if _, err := ParseExtra(good); err != nil {
		t.Fatalf("ParseExtra of a decoded tree: %v", err)
	}
	str := func(s string) string { return string(binary.AppendUvarint(nil, uint64(len(s)))) + s }
	member := str("k") + "\x05" + str("v")
	for name, enc := range map[string]string{
		"truncated":        good[:len(good)-1],
		"trailing":         good + "\x00",
		"no groups":        "\x00",
		"unknown group":    "\x01" + str("nohost") + "\x01" + member,
		"leaf as group":    "\x01" + str("host.name") + "\x01" + member,
		"repeated group":   "\x02" + str("") + "\x01" + member + str("") + "\x01" + member,
		"empty group":      "\x01" + str("") + "\x00",
		"repeated key":     "\x01" + str("") + "\x02" + member + member,
		"schema key":       "\x01" + str("user") + "\x01" + str("name") + "\x05" + str("v"),
		"dotted schema":    "\x01" + str("") + "\x01" + str("user.email") + "\x05" + str("v"),
		"bad tag":          "\x01" + str("") + "\x01" + str("k") + "\x09",
		"bad number":       "\x01" + str("") + "\x01" + str("k") + "\x04" + str("1}"),
		"bad utf8":         "\x01" + str("") + "\x01" + str("\xff") + "\x00",
		"huge count":       "\x01" + str("") + "\x01" + str("k") + "\x06\xff\xff\x03",
		"overlong uvarint": "\x01" + str("") + "\x01" + str("k") + "\x03\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f",
		"too deep":         "\x01" + str("") + "\x01" + str("k") + strings.Repeat("\x06\x01", MaxExtraDepthCap) + "\x00",
	} {
		if _, err := ParseExtra(enc); !errors.Is(err, ErrSyntax) && !errors.Is(err, ErrLimit) {
			t.Errorf("%s: ParseExtra = %v, want a syntax or limit error", name, err)
		}
		bin := append([]byte{94}, str(enc)...)
		if _, err := DecodeBinary(bin); !errors.Is(err, ErrSyntax) {
			t.Errorf("%s: DecodeBinary = %v, want a syntax error", name, err)
		}
	}
}

// TestValidateKeptLimits checks that Validate applies the caller's limits
// to kept fields, as DecodeWith does.
func TestValidateKeptLimits(t *testing.T) {
	e := decodeKeep(t, `{"x":[[[1]]],"y":"`+strings.Repeat("b", 40)+`"}`)
	if err := e.Validate(Limits{}); err != nil {
		t.Fatalf("Validate with the default limits: %v", err)
	}
	for _, lim := range []Limits{{MaxExtraDepth: 3}, {MaxExtraKeys: 3}, {MaxStringBytes: 10}} {
		if err := e.Validate(lim); !errors.Is(err, ErrLimit) {
			t.Errorf("Validate(%+v) = %v, want ErrLimit", lim, err)
		}
	}
}

// TestCheckNamesPath checks that a limit error on a stored tree names the
// kept field's dotted path, array indexes included.
func TestCheckNamesPath(t *testing.T) {
	e := decodeKeep(t, `{"host":{"meta":{"tags":["ok","`+strings.Repeat("x", 30)+`"]}}}`)
	err := e.Validate(Limits{MaxStringBytes: 20})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Path != "host.meta.tags[1]" || !errors.Is(err, ErrLimit) {
		t.Fatalf("Validate = %v, want a limit error at host.meta.tags[1]", err)
	}
}
