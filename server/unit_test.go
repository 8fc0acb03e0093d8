package server

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/wal"
)

func TestSplitArray(t *testing.T) {
	ok := map[string][]string{
		`[]`:                                    nil,
		"[ ]\n ":                                nil,
		`[{}]`:                                  {`{}`},
		`[{"a":"]"},{"b":"}\""}]`:               {`{"a":"]"}`, `{"b":"}\""}`},
		`[ {"a":[1,{"b":2}]} , 42,"s\\",null ]`: {`{"a":[1,{"b":2}]}`, `42`, `"s\\"`, `null`},
		"[{\"m\":\"\\\\\"}\n]":                  {`{"m":"\\"}`},
	}
	for in, want := range ok {
		got, err := splitArray([]byte(in))
		var gotS []string
		for _, g := range got {
			gotS = append(gotS, string(g))
		}
		if err != nil || !slices.Equal(gotS, want) {
			t.Errorf("%s: %q, %v; want %q", in, gotS, err, want)
		}
	}
	bad := map[string]string{
		`[`:            "unexpected end",
		`[{}`:          "unexpected end",
		`[{"a":1}`:     "unexpected end",
		`[{"a":"x}]`:   "not closed",
		`[{"a":1} {}]`: "at offset 9: expected ','",
		`[{},]`:        "at offset 4: expected a value",
		`[,{}]`:        "at offset 1: expected a value",
		`[{}] []`:      "at offset 5: data after the array",
		`[{"a":[1,2}`:  "not closed",
	}
	for in, want := range bad {
		if _, err := splitArray([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", in, err, want)
		}
	}
}

func TestHealthOf(t *testing.T) {
	cases := []struct {
		st   eventlog.Stats
		want string
	}{
		{eventlog.Stats{}, `{"status":"ok"}`},
		{eventlog.Stats{Quarantined: []string{"a.seg"}}, `{"status":"degraded","quarantined":["a.seg"]}`},
		{eventlog.Stats{WAL: wal.Stats{Poisoned: true}}, `{"status":"failed","reason":"` + reasonPoisoned + `","wal_poisoned":true}`},
		{eventlog.Stats{SealError: "disk full"}, `{"status":"degraded","seal_error":"disk full"}`},
		{eventlog.Stats{DiskFull: "no space"}, `{"status":"degraded","disk_full":"no space"}`},
		{eventlog.Stats{ReadOnly: true}, `{"status":"ok"}`},
	}
	for _, c := range cases {
		got, err := json.Marshal(healthOf(c.st))
		if err != nil || string(got) != c.want {
			t.Errorf("%+v: %s, want %s", c.st, got, c.want)
		}
	}
}

func TestReadinessOf(t *testing.T) {
	cases := []struct {
		st           eventlog.Stats
		shuttingDown bool
		want         string
	}{
		{eventlog.Stats{}, false, `{"status":"ready"}`},
		{eventlog.Stats{Quarantined: []string{"a.seg"}, SealError: "x"}, false, `{"status":"ready"}`},
		{eventlog.Stats{DiskFull: "no space"}, false, `{"status":"not_ready","reasons":[{"type":"disk_full","reason":"no space"}]}`},
		{eventlog.Stats{ReadOnly: true}, false, `{"status":"not_ready","reasons":[{"type":"read_only","reason":"the store is open read-only"}]}`},
		{eventlog.Stats{WAL: wal.Stats{Poisoned: true}}, false, `{"status":"not_ready","reasons":[{"type":"wal_poisoned","reason":"` + reasonPoisoned + `"}]}`},
		{eventlog.Stats{}, true, `{"status":"not_ready","reasons":[{"type":"shutting_down","reason":"the server is shutting down"}]}`},
	}
	for _, c := range cases {
		got, err := json.Marshal(readinessOf(c.st, c.shuttingDown))
		if err != nil || string(got) != c.want {
			t.Errorf("%+v, shutting down %v: %s, want %s", c.st, c.shuttingDown, got, c.want)
		}
	}
}

func TestAppendHelpers(t *testing.T) {
	for _, seq := range []uint64{0, 1, 42, 1 << 40, ^uint64(0)} {
		if got, want := string(appendID(nil, seq)), `"`+eventlog.IDOf(seq)+`"`; got != want {
			t.Errorf("appendID(%d) = %s, want %s", seq, got, want)
		}
	}
	for _, s := range []string{"", "plain", `q"uote`, "back\\slash", "<tag>&", "ctl\x01\n", "ünï", "bad\xffutf8", "\u2028"} {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestClassifyErrors(t *testing.T) {
	unreg := eventlog.ErrUnregistered
	cases := []struct {
		err         error
		typ, reason string
	}{
		{errEventTooLarge, typeTooLarge, reasonTooLarge},
		{errors.Join(unreg), typeUnregistered, reasonUnregistered},
		{&event.FieldError{Path: "x", Err: event.ErrUnknownField}, typeInvalidEvent, reasonInvalid},
		{&event.FieldError{Offset: 3, Err: event.ErrSyntax}, typeInvalidEvent, reasonMalformed},
	}
	for _, c := range cases {
		if it := eventError(c.err); it.typ != c.typ || rejectReason(c.err) != c.reason {
			t.Errorf("%v: %s, %s; want %s, %s", c.err, it.typ, rejectReason(c.err), c.typ, c.reason)
		}
	}
}
