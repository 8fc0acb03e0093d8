package timespan

import (
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func TestParseInterval(t *testing.T) {
	for s, want := range map[string]Interval{
		"1ms":   {},
		"500ms": {unit: unitMilli, more: 499},
		"30s":   {unit: unitSecond, more: 29},
		"15m":   {unit: unitMinute, more: 14},
		"1h":    {unit: unitHour},
		"90m":   {unit: unitMinute, more: 89},
		"1d":    {unit: unitDay},
		"3d":    {unit: unitDay, more: 2},
		"1w":    {unit: unitWeek},
		"1M":    {unit: unitMonth},
		"1y":    {unit: unitYear},
	} {
		got, err := ParseInterval(s)
		if err != nil || got != want {
			t.Errorf("ParseInterval(%q) = %#v, %v; want %#v", s, got, err, want)
		}
		if got.String() != s {
			t.Errorf("ParseInterval(%q).String() = %q", s, got.String())
		}
	}
	if got, _ := ParseInterval("01h"); got.String() != "1h" {
		t.Errorf(`ParseInterval("01h").String() = %q, want "1h"`, got)
	}
}

func TestParseIntervalErrors(t *testing.T) {
	for s, detail := range map[string]string{
		"":                       "no leading number",
		"h":                      "no leading number",
		"0h":                     "out of range",
		"-1h":                    "no leading number",
		"1":                      `unknown unit ""`,
		"1H":                     `unknown unit "H"`,
		"1x":                     `unknown unit "x"`,
		"1 h":                    `unknown unit " h"`,
		"1.5h":                   `unknown unit ".5h"`,
		"2w":                     "no multiple but 1",
		"3M":                     "no multiple but 1",
		"2y":                     "no multiple but 1",
		"1q":                     `unknown unit "q"`,
		"2562048h":               "longer than 292 years",
		"106752d":                "longer than 106751 days",
		"99999999999999999999ms": "out of range",
	} {
		_, err := ParseInterval(s)
		if err == nil {
			t.Errorf("ParseInterval(%q): no error", s)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, detail) || !strings.Contains(msg, `"`+s+`"`) || !strings.Contains(msg, "1w, 1M, 1y") {
			t.Errorf("ParseInterval(%q) error %q: want the text, %q and the accepted forms", s, msg, detail)
		}
	}
}

// genInterval draws any valid Interval, often a single unit (the usual
// histogram intervals) and calendar ones as often as fixed ones.
func genInterval(t *rapid.T) Interval {
	u := unit(rapid.OneOf(
		rapid.IntRange(int(unitMilli), int(unitHour)),
		rapid.IntRange(int(unitDay), int(unitYear)),
	).Draw(t, "unit"))
	limit := maxDays
	if u <= unitHour {
		limit = int64(time.Duration(1<<63-1)) / unitLengths[u]
	}
	switch u {
	case unitWeek, unitMonth, unitYear:
		return Interval{unit: u}
	}
	return Interval{unit: u, more: rapid.OneOf(
		rapid.Just(int64(0)),
		rapid.Int64Range(0, 400),
		rapid.Int64Range(0, limit-1),
	).Draw(t, "more")}
}

func TestIntervalRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		iv := genInterval(t)
		got, err := ParseInterval(iv.String())
		if err != nil || got != iv {
			t.Fatalf("ParseInterval(%q) = %#v, %v; want %#v", iv.String(), got, err, iv)
		}
	})
}
