package timespan

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// durationForms is the end of every ParseDuration error.
const durationForms = "expected a number and a unit (ns, us, ms, s, m, h, d, w), e.g. 500ms, 15m, 7d or 1h30m"

// ParseDuration parses a non-negative duration: a sequence of decimal
// numbers, each with an optional fraction and a unit, as time.ParseDuration
// accepts ("500ms", "30s", "1h30m", "1.5h"), plus d = 24h and w = 7d ("7d",
// "2w", "1d12h"). A day is always 24 hours here, not a calendar day. Signs
// are not accepted: it returns an error for a negative, empty or malformed
// duration, and for one longer than time.Duration holds (about 292 years).
func ParseDuration(s string) (time.Duration, error) {
	d, err := parseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("timespan: duration %q: %w", s, err)
	}
	return d, nil
}

func parseDuration(s string) (time.Duration, error) {
	switch {
	case s == "":
		return 0, errors.New("empty; " + durationForms)
	case s[0] == '-':
		return 0, errors.New("negative; " + durationForms)
	case s == "0":
		return 0, nil // as time.ParseDuration: the one number without unit
	}
	var total int64
	for rest := s; rest != ""; {
		v, r, err := durationTerm(rest)
		if err != nil {
			return 0, err
		}
		if v > math.MaxInt64-total {
			return 0, errors.New("longer than 292 years")
		}
		total += v
		rest = r
	}
	return time.Duration(total), nil
}

// durationTerm parses the leading number and unit of s ("1.5h" of
// "1.5h30m") into nanoseconds and returns the rest.
func durationTerm(s string) (ns int64, rest string, err error) {
	num := len(s) - len(strings.TrimLeft(s, "0123456789."))
	name := s[num:]
	name = name[:len(name)-len(strings.TrimLeft(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZµμ"))]
	rest = s[num+len(name):]
	if num == 0 || name == "" {
		return 0, "", errors.New(durationForms)
	}
	unit, ok := durationUnit(name)
	if !ok {
		return 0, "", fmt.Errorf("unknown unit %q; %s", name, durationForms)
	}
	whole, frac, _ := strings.Cut(s[:num], ".")
	if whole == "" && frac == "" || strings.Contains(frac, ".") {
		return 0, "", fmt.Errorf("malformed number %q; %s", s[:num], durationForms)
	}
	w := int64(0)
	if whole != "" {
		if w, err = strconv.ParseInt(whole, 10, 64); err != nil || w > math.MaxInt64/unit {
			return 0, "", errors.New("longer than 292 years")
		}
	}
	ns = w * unit
	fns, err := fractionNs(frac, unit)
	if err != nil || fns > math.MaxInt64-ns {
		return 0, "", errors.New("longer than 292 years")
	}
	return ns + fns, rest, nil
}

// fractionNs returns the nanoseconds of the fraction digits of a number of
// unit, as time.ParseDuration does: digits past the 18th are dropped, and
// the product is exact when unit/10^digits is (as for seconds with up to
// nine digits).
func fractionNs(digits string, unit int64) (int64, error) {
	digits = digits[:min(len(digits), 18)]
	if digits == "" {
		return 0, nil
	}
	f, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, err
	}
	return int64(float64(f) * (float64(unit) / math.Pow10(len(digits)))), nil
}

// durationUnit returns the length of a ParseDuration unit in nanoseconds.
func durationUnit(name string) (int64, bool) {
	switch name {
	case "ns":
		return 1, true
	case "us", "µs", "μs": // ASCII, micro sign, Greek mu
		return int64(time.Microsecond), true
	case "ms":
		return int64(time.Millisecond), true
	case "s":
		return int64(time.Second), true
	case "m":
		return int64(time.Minute), true
	case "h":
		return int64(time.Hour), true
	case "d":
		return int64(24 * time.Hour), true
	case "w":
		return int64(7 * 24 * time.Hour), true
	}
	return 0, false
}
