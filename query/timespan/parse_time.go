package timespan

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// timeForms is the end of every ParseTime error.
const timeForms = "expected an RFC 3339 time (2024-05-01T14:02:00Z, 2024-05-01T16:02:00.5+02:00), " +
	"now, now-15m, now+1h, or a duration before now (15m, 2h, 7d)"

// ParseTime parses the start or end bound of a request, as the Kibana
// event log accepts it:
//
//   - an RFC 3339 time, with or without fractional seconds, with Z or a
//     numeric offset: "2024-05-01T14:02:00Z", "2024-05-01T16:02:00.5+02:00";
//   - "now", or now plus or minus a duration: "now-15m", "now+1h";
//   - a bare duration, meaning that long before now: "15m", "2h", "7d".
//
// Durations are those of ParseDuration (d is 24 hours). Errors name the
// text and the accepted forms. Date-math rounding ("now/d") is not
// supported.
func ParseTime(s string, now time.Time) (time.Time, error) {
	t, err := parseTime(s, now)
	if err != nil {
		return time.Time{}, fmt.Errorf("timespan: time %q: %w", s, err)
	}
	return t, nil
}

func parseTime(s string, now time.Time) (time.Time, error) {
	switch {
	case s == "now":
		return now, nil
	case strings.HasPrefix(s, "now"):
		return parseNowOffset(s[len("now"):], now)
	case len(s) > 4 && s[4] == '-': // a year, as in 2024-05-01: no duration has it
		return parseRFC3339(s)
	}
	d, err := parseDuration(s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s (%w)", timeForms, err)
	}
	return now.Add(-d), nil
}

// parseNowOffset parses the "+1h" or "-15m" after "now".
func parseNowOffset(s string, now time.Time) (time.Time, error) {
	sign := s[0]
	if sign != '+' && sign != '-' {
		return time.Time{}, errors.New(timeForms)
	}
	d, err := parseDuration(s[1:])
	if err != nil {
		return time.Time{}, fmt.Errorf("%s (after now%c: %w)", timeForms, sign, err)
	}
	if sign == '-' {
		d = -d
	}
	return now.Add(d), nil
}

// parseRFC3339 parses an RFC 3339 time, reporting what time.Parse found
// wrong without repeating the text.
func parseRFC3339(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err == nil {
		return t, nil
	}
	var pe *time.ParseError
	if errors.As(err, &pe) && pe.Message != "" {
		return time.Time{}, fmt.Errorf("%s (%s)", timeForms, strings.TrimPrefix(pe.Message, ": "))
	}
	return time.Time{}, errors.New(timeForms)
}
