package timespan

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// unit is the unit of an Interval.
type unit uint8

const (
	unitMilli unit = iota
	unitSecond
	unitMinute
	unitHour
	unitDay
	unitWeek
	unitMonth
	unitYear
)

// unitNames are the suffixes of ParseInterval, indexed by unit.
var unitNames = [...]string{"ms", "s", "m", "h", "d", "w", "M", "y"}

// unitLengths are the lengths of the fixed units, indexed by unit.
var unitLengths = [...]int64{
	int64(time.Millisecond), int64(time.Second), int64(time.Minute), int64(time.Hour),
}

// maxDays bounds Nd: a day interval at most as long as the longest fixed
// one (the int64 nanosecond range, about 292 years).
const maxDays = math.MaxInt64 / int64(24*time.Hour)

// intervalForms is the end of every ParseInterval error.
const intervalForms = "expected a fixed interval (a positive whole multiple of ms, s, m or h: 500ms, 30s, 15m, 3h) " +
	"or a calendar interval (Nd: 1d, 3d; or 1w, 1M, 1y)"

// Interval is a date_histogram interval: fixed (a multiple of ms, s, m or
// h) or calendar (a multiple of days, or one week, month or year). The
// zero Interval is one millisecond.
type Interval struct {
	unit unit
	// more is the multiple minus one, so that the zero Interval is a valid
	// one and equal to ParseInterval("1ms").
	more int64
}

// ParseInterval parses an interval: "500ms", "30s", "15m", "1h", "3h" and
// any other positive multiple of ms, s, m and h; "1d", "3d" and any other
// multiple of days; "1w", "1M" (month) and "1y". Units are case-sensitive,
// as "m" is minutes and "M" months. The multiple is limited so that the
// interval spans at most the int64 nanosecond range (about 292 years).
func ParseInterval(s string) (Interval, error) {
	iv, err := parseInterval(s)
	if err != nil {
		return Interval{}, fmt.Errorf("timespan: interval %q: %s; %s", s, err, intervalForms)
	}
	return iv, nil
}

func parseInterval(s string) (Interval, error) {
	digits := len(s) - len(strings.TrimLeft(s, "0123456789"))
	if digits == 0 {
		return Interval{}, fmt.Errorf("no leading number")
	}
	n, err := strconv.ParseInt(s[:digits], 10, 64)
	if err != nil || n < 1 {
		return Interval{}, fmt.Errorf("multiple %s out of range", s[:digits])
	}
	u, ok := parseUnit(s[digits:])
	if !ok {
		return Interval{}, fmt.Errorf("unknown unit %q", s[digits:])
	}
	switch {
	case u <= unitHour && n > math.MaxInt64/unitLengths[u]:
		return Interval{}, fmt.Errorf("longer than 292 years")
	case u == unitDay && n > maxDays:
		return Interval{}, fmt.Errorf("longer than %d days", maxDays)
	case u > unitDay && n != 1:
		return Interval{}, fmt.Errorf("weeks, months and years take no multiple but 1")
	}
	return Interval{unit: u, more: n - 1}, nil
}

func parseUnit(s string) (unit, bool) {
	for u, name := range unitNames {
		if s == name {
			return unit(u), true
		}
	}
	return 0, false
}

// String returns the interval as ParseInterval accepts it ("1h", "3d",
// "1M"); ParseInterval(iv.String()) == iv.
func (iv Interval) String() string {
	return strconv.FormatInt(iv.count(), 10) + unitNames[iv.unit]
}

// count returns the multiple.
func (iv Interval) count() int64 {
	return iv.more + 1
}

// fixedLength returns the length in nanoseconds of a fixed interval, and
// false for a calendar one.
func (iv Interval) fixedLength() (int64, bool) {
	if iv.unit > unitHour {
		return 0, false
	}
	return iv.count() * unitLengths[iv.unit], true
}
