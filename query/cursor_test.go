package query

import (
	"math"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

func mustSort(t testing.TB, fields ...SortField) []sortKey {
	keys, err := compileSort(fields)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// TestCursorRoundTrip: every hit's cursor decodes to its own sort values
// and sequence number, for every kind of sort value.
func TestCursorRoundTrip(t *testing.T) {
	keys := mustSort(t, SortField{Field: "event.duration", Order: "desc"}, SortField{Field: "event.action"}, SortField{Field: "event.risk_score"}, SortField{Field: "@timestamp"})
	rapid.Check(t, func(rt *rapid.T) {
		h := hit{seq: rapid.Uint64().Draw(rt, "seq"), vals: []value{
			{present: rapid.Bool().Draw(rt, "p0"), kind: valueInt, i: rapid.Int64().Draw(rt, "i")},
			{present: rapid.Bool().Draw(rt, "p1"), kind: valueString, s: rapid.String().Draw(rt, "s")},
			{present: rapid.Bool().Draw(rt, "p2"), kind: valueFloat, f: rapid.Float64().Draw(rt, "f")},
			{present: true, kind: valueInt, i: rapid.Int64().Draw(rt, "ts")},
		}}
		for i := range h.vals { // a missing value carries nothing
			if !h.vals[i].present {
				h.vals[i] = value{kind: h.vals[i].kind}
			}
		}
		c, err := decodeCursor(encodeCursor(keys, &h), keys)
		if err != nil {
			rt.Fatalf("decode: %v", err)
		}
		got := hit{vals: c.vals, seq: c.seq}
		if compareHits(keys, &got, &h) != 0 || got.seq != h.seq {
			rt.Fatalf("round trip: got %+v, want %+v", got, h)
		}
	})
}

func TestCursorRejects(t *testing.T) {
	byTime := mustSort(t)
	byDuration := mustSort(t, SortField{Field: "event.duration"})
	good := encodeCursor(byTime, &hit{vals: []value{{present: true, kind: valueInt, i: 42}}, seq: 7})
	for name, tc := range map[string]struct {
		cursor string
		keys   []sortKey
		want   string
	}{
		"another sort":   {good, byDuration, "different sort"},
		"not base64":     {"!!!", byTime, "malformed"},
		"padded":         {good + "=", byTime, "malformed"},
		"truncated":      {good[:len(good)-2], byTime, "malformed"},
		"trailing bytes": {good + "AA", byTime, "malformed"},
		"empty":          {"", byTime, "malformed"},
	} {
		if _, err := decodeCursor(tc.cursor, tc.keys); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %q gave %v, want an error saying %q", name, tc.cursor, err, tc.want)
		}
	}
	nan := encodeCursor(mustSort(t, SortField{Field: "event.risk_score"}), &hit{vals: []value{{present: true, kind: valueFloat, f: math.NaN()}}})
	if _, err := decodeCursor(nan, mustSort(t, SortField{Field: "event.risk_score"})); err == nil {
		t.Error("a NaN sort value was accepted")
	}
}

// FuzzDecodeCursor: search_after comes from clients. Decoding never
// panics, and what it accepts is the canonical encoding of what it returns.
func FuzzDecodeCursor(f *testing.F) {
	keys := mustSort(f, SortField{Field: "event.action", Order: "desc"}, SortField{Field: "event.duration"})
	f.Add(encodeCursor(keys, &hit{vals: []value{{present: true, kind: valueString, s: "execute"}, {kind: valueInt}}, seq: 3}))
	f.Add("AQAAAAACAwA")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(s, keys)
		if err != nil {
			return
		}
		if again := encodeCursor(keys, &hit{vals: c.vals, seq: c.seq}); again != s {
			t.Fatalf("accepted %q, which encodes back as %q", s, again)
		}
	})
}
