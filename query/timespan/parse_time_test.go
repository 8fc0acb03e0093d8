package timespan

import (
	"strings"
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	now := time.Date(2024, 5, 1, 14, 2, 0, 0, time.UTC)
	for s, want := range map[string]time.Time{
		"now":                            now,
		"now-15m":                        now.Add(-15 * time.Minute),
		"now+1h":                         now.Add(time.Hour),
		"now-7d":                         now.Add(-7 * 24 * time.Hour),
		"now-1h30m":                      now.Add(-90 * time.Minute),
		"now+0s":                         now,
		"15m":                            now.Add(-15 * time.Minute),
		"2h":                             now.Add(-2 * time.Hour),
		"7d":                             now.Add(-7 * 24 * time.Hour),
		"2w":                             now.Add(-14 * 24 * time.Hour),
		"2024-05-01T14:02:00Z":           now,
		"2024-05-01T14:02:00.5Z":         now.Add(500 * time.Millisecond),
		"2024-05-01T14:02:00.123456789Z": now.Add(123456789),
		"2024-05-01T16:02:00+02:00":      now,
		"2024-05-01T09:32:00.250-04:30":  now.Add(250 * time.Millisecond),
		"1969-12-31T23:59:59.999999999Z": time.Unix(0, -1),
	} {
		got, err := ParseTime(s, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
}

func TestParseTimeErrors(t *testing.T) {
	now := time.Date(2024, 5, 1, 14, 2, 0, 0, time.UTC)
	for s, detail := range map[string]string{
		"":                         "expected an RFC 3339 time",
		"yesterday":                "expected an RFC 3339 time",
		"-15m":                     "negative",
		"15":                       "expected a number and a unit",
		"now-":                     "after now-: empty",
		"now+-1h":                  "after now+: negative",
		"now*2":                    "expected an RFC 3339 time",
		"now-1d/d":                 "expected a number and a unit",
		"nowish":                   "expected an RFC 3339 time",
		"2024-05-01":               "expected an RFC 3339 time",
		"2024-13-01T00:00:00Z":     "month out of range",
		"2024-05-01 14:02:00Z":     "expected an RFC 3339 time",
		"2024-05-01T14:02:00":      "expected an RFC 3339 time",
		"2024-05-01T25:02:00Z":     "hour out of range",
		"2024-05-01T14:02:00+2:00": "expected an RFC 3339 time",
		"now-300000d":              "longer than 292 years",
	} {
		_, err := ParseTime(s, now)
		if err == nil {
			t.Errorf("ParseTime(%q): no error", s)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, detail) || !strings.Contains(msg, `"`+s+`"`) {
			t.Errorf("ParseTime(%q) error %q: want the text and %q", s, msg, detail)
		}
	}
}
