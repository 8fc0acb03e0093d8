package event

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// This file holds the rapid generators of random events used by the
// property tests.

// specialStrings need escaping in JSON or are multi-byte.
var specialStrings = []string{`"`, `\`, "<", ">", "&", "\u2028", "\u2029", "\x00", "\x1f", "\x7f", "\b\f\n\r\t", "é", "😀", "\ufffd", "/", " "}

func genString(minLen int) *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		var b strings.Builder
		for b.Len() < minLen || rapid.IntRange(0, 3).Draw(t, "more") > 0 {
			if rapid.Bool().Draw(t, "special") {
				b.WriteString(rapid.SampledFrom(specialStrings).Draw(t, "s"))
			} else {
				b.WriteString(rapid.StringN(0, 8, -1).Draw(t, "s"))
			}
		}
		return b.String()
	})
}

func genDate() *rapid.Generator[Date] {
	return rapid.Custom(func(t *rapid.T) Date {
		s := fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d",
			rapid.IntRange(1700, 2200).Draw(t, "year"), rapid.IntRange(1, 12).Draw(t, "month"),
			rapid.IntRange(1, 28).Draw(t, "day"), rapid.IntRange(0, 23).Draw(t, "hour"),
			rapid.IntRange(0, 59).Draw(t, "min"), rapid.IntRange(0, 59).Draw(t, "sec"))
		if n := rapid.IntRange(0, 9).Draw(t, "digits"); n > 0 {
			s += "." + rapid.StringOfN(rapid.RuneFrom([]rune("0123456789")), n, n, -1).Draw(t, "frac")
		}
		switch rapid.IntRange(0, 2).Draw(t, "offset") {
		case 0:
			s += "Z"
		default:
			s += fmt.Sprintf("%s%02d:%02d", rapid.SampledFrom([]string{"+", "-"}).Draw(t, "sign"),
				rapid.IntRange(0, 23).Draw(t, "oh"), rapid.IntRange(0, 59).Draw(t, "om"))
		}
		d, err := ParseDate(s)
		if err != nil {
			t.Fatalf("ParseDate(%q): %v", s, err)
		}
		return d
	})
}

func genIP() *rapid.Generator[string] {
	return rapid.Custom(func(t *rapid.T) string {
		if rapid.Bool().Draw(t, "v4") {
			return netip.AddrFrom4([4]byte(rapid.SliceOfN(rapid.Byte(), 4, 4).Draw(t, "b"))).String()
		}
		return netip.AddrFrom16([16]byte(rapid.SliceOfN(rapid.Byte(), 16, 16).Draw(t, "b"))).String()
	})
}

func genList() *rapid.Generator[StringList] {
	return rapid.Custom(func(t *rapid.T) StringList {
		if rapid.Bool().Draw(t, "scalar") {
			return StringList{Values: []string{genString(1).Draw(t, "v")}, Scalar: true}
		}
		return StringList{Values: rapid.SliceOfN(genString(0), 1, 5).Draw(t, "vs")}
	})
}

func genRefs() *rapid.Generator[[]SavedObject] {
	return rapid.SliceOfN(rapid.Custom(func(t *rapid.T) SavedObject {
		var r SavedObject
		for _, p := range refFields(&r) {
			if rapid.Bool().Draw(t, "has") {
				*p = genString(1).Draw(t, "ref")
			}
		}
		return r
	}), 1, 3)
}

// genEvent generates events with every kind of field, each present with
// probability about 1/2, in the form Decode returns (empty = absent = nil).
func genEvent() *rapid.Generator[Event] {
	return rapid.Custom(func(t *rapid.T) Event {
		var e Event
		for i := range fields {
			f := &fields[i]
			if !rapid.Bool().Draw(t, f.Name) {
				continue
			}
			setRandom(t, &e, f)
		}
		return e
	})
}

func setRandom(t *rapid.T, e *Event, f *Field) {
	switch f.Kind {
	case KindString:
		*f.Str(e) = genString(1).Draw(t, f.Name)
	case KindIP:
		*f.Str(e) = genIP().Draw(t, f.Name)
	case KindStrings:
		*f.List(e) = genList().Draw(t, f.Name)
	case KindDate:
		*f.Date(e) = genDate().Draw(t, f.Name)
	case KindInt:
		*f.Int(e) = Int(rapid.Int64().Draw(t, f.Name))
	case KindFloat:
		*f.Float(e) = Float(rapid.Float64().Draw(t, f.Name))
	case KindDuration:
		*durationOf(e) = &Duration{Nanos: rapid.Int64().Draw(t, "nanos"), Quoted: rapid.Bool().Draw(t, "quoted")}
	case KindLabels:
		*labelsOf(e) = rapid.MapOfN(genString(0), genString(0), 1, 5).Draw(t, f.Name)
	case KindRefs:
		*refsOf(e) = genRefs().Draw(t, f.Name)
	case KindExtra:
		// Kept fields come from documents: the tests in package event_test
		// draw them with internal/eventgen, which imports this package.
	default:
		t.Fatalf("field %s: kind %d has no generator", f.Name, f.Kind)
	}
}

func TestGenStringsAreValid(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		e := genEvent().Draw(t, "event")
		if err := e.Validate(Limits{}); err != nil {
			t.Fatal(err)
		}
	})
}
