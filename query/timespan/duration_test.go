package timespan

import (
	"math"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"
)

func TestParseDuration(t *testing.T) {
	for s, want := range map[string]time.Duration{
		"0":                        0,
		"0s":                       0,
		"500ms":                    500 * time.Millisecond,
		"30s":                      30 * time.Second,
		"15m":                      15 * time.Minute,
		"2h":                       2 * time.Hour,
		"7d":                       7 * 24 * time.Hour,
		"2w":                       14 * 24 * time.Hour,
		"1h30m":                    90 * time.Minute,
		"1d12h":                    36 * time.Hour,
		"1.5h":                     90 * time.Minute,
		".5s":                      500 * time.Millisecond,
		"1.s":                      time.Second,
		"0.5d":                     12 * time.Hour,
		"1us":                      time.Microsecond,
		"1µs":                      time.Microsecond,
		"3ns":                      3,
		"9223372036854775807ns":    math.MaxInt64,
		"2562047h47m16.854775807s": math.MaxInt64,
	} {
		got, err := ParseDuration(s)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
}

func TestParseDurationErrors(t *testing.T) {
	for s, detail := range map[string]string{
		"":                      "empty",
		"-15m":                  "negative",
		"15":                    "expected a number and a unit",
		"m":                     "expected a number and a unit",
		"15M":                   `unknown unit "M"`,
		"1y":                    `unknown unit "y"`,
		"1h 30m":                "expected a number and a unit",
		"1..5h":                 "malformed number",
		".h":                    "malformed number",
		"106752d":               "longer than 292 years",
		"9223372036854775808ns": "longer than 292 years",
		"2562047h47m17s":        "longer than 292 years",
		"+5m":                   "expected a number and a unit",
	} {
		_, err := ParseDuration(s)
		if err == nil {
			t.Errorf("ParseDuration(%q): no error", s)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, detail) || !strings.Contains(msg, `"`+s+`"`) {
			t.Errorf("ParseDuration(%q) error %q: want the text and %q", s, msg, detail)
		}
	}
}

// TestParseDurationAsGo checks that every Go duration string (as
// time.Duration.String writes it) means the same here.
func TestParseDurationAsGo(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := time.Duration(rapid.Int64Range(0, math.MaxInt64).Draw(t, "d"))
		got, err := ParseDuration(d.String())
		if err != nil || got != d {
			t.Fatalf("ParseDuration(%q) = %v, %v", d.String(), got, err)
		}
	})
}
