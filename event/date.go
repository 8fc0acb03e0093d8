package event

import (
	"errors"
	"fmt"
	"time"
)

// Date is an RFC 3339 timestamp that remembers how it was written. It keeps
// the instant (Unix nanoseconds, which orders and ranges use) and a small
// Format code (fraction digits and offset) from which the exact input text is
// rebuilt; segments store the same two numbers instead of the string.
//
// Accepted: YYYY-MM-DDTHH:MM:SS, an optional fraction of 1 to 9 digits, then
// Z or ±HH:MM, with years 1678 to 2261 (the range of int64 nanoseconds).
type Date struct {
	nanos  int64
	format Format
}

// Format says how a Date is written: bits 0-3 hold the number of fraction
// digits (0-9); bits 4-5 the offset form (0 absent/zero Date, 1 "Z", 2 "+HH:MM",
// 3 "-HH:MM"); bits 6 and up the offset's absolute value in minutes.
type Format uint32

const (
	offsetZ     = 1
	offsetPlus  = 2
	offsetMinus = 3
)

// errDate is the reason every malformed date shares.
var errDate = errors.New("expected an RFC 3339 date like 2019-12-09T21:16:43.425Z")

// ParseDate parses s. The error says what is wrong without the field name;
// callers add it.
func ParseDate(s string) (Date, error) {
	if len(s) < len("2006-01-02T15:04:05Z") || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return Date{}, errDate
	}
	// The six numbers two digits at a time, one test for them all: a loop
	// over their spans was most of a date's cost.
	c, ok0 := digits2(s, 0)
	y, ok1 := digits2(s, 2)
	mo, ok2 := digits2(s, 5)
	d, ok3 := digits2(s, 8)
	h, ok4 := digits2(s, 11)
	mi, ok5 := digits2(s, 14)
	sec, ok6 := digits2(s, 17)
	if !(ok0 && ok1 && ok2 && ok3 && ok4 && ok5 && ok6) {
		return Date{}, errDate
	}
	f := [6]int{c*100 + y, mo, d, h, mi, sec}
	rest := s[19:]
	frac, fracDigits := 0, 0
	if rest[0] == '.' {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		fracDigits = i - 1
		if fracDigits == 0 || fracDigits > 9 {
			return Date{}, fmt.Errorf("%w (1 to 9 fraction digits)", errDate)
		}
		frac, _ = digits(rest[1:i])
		frac *= int(fractionUnit[fracDigits])
		rest = rest[i:]
	}
	form, offMin, err := parseOffset(rest)
	if err != nil {
		return Date{}, err
	}
	if f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > daysIn(f[0], f[1]) || f[3] > 23 || f[4] > 59 || f[5] > 59 {
		return Date{}, fmt.Errorf("%w (a field is out of range)", errDate)
	}
	// Plain arithmetic rather than time.Date: dates are most of what an
	// ingested event costs to decode after its strings.
	secs := daysFromCivil(f[0], f[1], f[2])*86400 + int64(f[3]*3600+f[4]*60+f[5])
	if form == offsetMinus {
		secs += int64(offMin) * 60
	} else {
		secs -= int64(offMin) * 60
	}
	if secs < minDateSecs || secs >= endDateSecs {
		return Date{}, fmt.Errorf("%w (years 1678 to 2261)", errDate)
	}
	return Date{nanos: secs*1e9 + int64(frac), format: Format(fracDigits) | Format(form)<<4 | Format(offMin)<<6}, nil
}

// The instants a Date may hold, in Unix seconds: from the start of 1678 to
// the end of 2261, the whole years int64 nanoseconds reach.
var (
	minDateSecs = daysFromCivil(1678, 1, 1) * 86400
	endDateSecs = daysFromCivil(2262, 1, 1) * 86400
)

// daysFromCivil is the number of days from 1970-01-01 to the proleptic
// Gregorian date y-m-d (m 1-12, d 1-31), negative before it: Howard
// Hinnant's days_from_civil.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400                     // [0, 399]
	mp := (m + 9) % 12                     // March is 0
	doy := (153*mp+2)/5 + d - 1            // [0, 365]
	doe := yoe*365 + yoe/4 - yoe/100 + doy // [0, 146096]
	return int64(era)*146097 + int64(doe) - 719468
}

func parseOffset(s string) (form, minutes int, err error) {
	if s == "Z" {
		return offsetZ, 0, nil
	}
	if len(s) != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' {
		return 0, 0, fmt.Errorf("%w (offset must be Z or ±HH:MM)", errDate)
	}
	h, ok1 := digits(s[1:3])
	m, ok2 := digits(s[4:6])
	if !ok1 || !ok2 || h > 23 || m > 59 {
		return 0, 0, fmt.Errorf("%w (offset out of range)", errDate)
	}
	form = offsetPlus
	if s[0] == '-' {
		form = offsetMinus
	}
	return form, h*60 + m, nil
}

// digits2 returns the number of the two digits at s[i:], and false when
// either is not a digit.
func digits2(s string, i int) (int, bool) {
	a, b := s[i]-'0', s[i+1]-'0' // a byte below '0' wraps above 9
	return int(a)*10 + int(b), a <= 9 && b <= 9
}

func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(s) > 0
}

// daysIn is the number of days of a month (1-12) of the proleptic
// Gregorian calendar.
func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// DateOf returns the Date of t written as UTC with millisecond precision, the
// way Kibana writes dates ("2019-12-09T21:16:43.425Z").
func DateOf(t time.Time) Date {
	return Date{nanos: t.Truncate(time.Millisecond).UnixNano(), format: 3 | offsetZ<<4}
}

// The instants ParseDate accepts: years 1678 to 2261 in UTC.
var (
	minDateNanos = time.Date(1678, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	maxDateNanos = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano() - 1
)

// DateFromParts rebuilds a Date from its instant and Format, as stored on
// disk. It reports false when the format code is invalid, when the instant
// has more fraction digits than the format writes, or when the instant is
// outside the years ParseDate accepts: exactly the Dates ParseDate can
// return (and the zero Date, for 0, 0) are accepted.
func DateFromParts(nanos int64, f Format) (Date, bool) {
	d := Date{nanos: nanos, format: f}
	form := (f >> 4) & 3
	if f == 0 && nanos == 0 {
		return Date{}, true
	}
	if f&15 > 9 || form == 0 || (form == offsetZ && f>>6 != 0) || f>>6 >= 24*60 {
		return Date{}, false
	}
	if nanos < minDateNanos || nanos > maxDateNanos || nanos%fractionUnit[f&15] != 0 {
		return Date{}, false
	}
	return d, true
}

// Unit returns the nanoseconds of the last digit format f writes, of
// which a date of that format holds a whole number (DateFromParts); 0 when
// f has no valid number of fraction digits.
func (f Format) Unit() int64 {
	if f&15 > 9 {
		return 0
	}
	return fractionUnit[f&15]
}

// fractionUnit[n] is the nanoseconds of the last of n fraction digits.
var fractionUnit = [10]int64{1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 1e2, 1e1, 1}

// IsZero reports whether the date is absent.
func (d Date) IsZero() bool { return d.format == 0 }

// UnixNano returns the instant in nanoseconds since the Unix epoch.
func (d Date) UnixNano() int64 { return d.nanos }

// Time returns the instant, in the offset it was written with.
func (d Date) Time() time.Time {
	return time.Unix(0, d.nanos).In(d.location())
}

// Format returns the format code (see Format).
func (d Date) Format() Format { return d.format }

func (d Date) offsetMinutes() int {
	m := int(d.format >> 6)
	if (d.format>>4)&3 == offsetMinus {
		return -m
	}
	return m
}

func (d Date) location() *time.Location {
	if (d.format>>4)&3 == offsetZ {
		return time.UTC
	}
	return time.FixedZone("", d.offsetMinutes()*60)
}

// String returns the date exactly as it was written, or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return string(d.AppendText(make([]byte, 0, 35)))
}

// AppendText appends the date's text to dst.
func (d Date) AppendText(dst []byte) []byte {
	if d.IsZero() {
		return dst
	}
	t := time.Unix(0, d.nanos).UTC().Add(time.Duration(d.offsetMinutes()) * time.Minute)
	dst = appendDateTime(dst, t)
	if n := int(d.format & 15); n > 0 {
		frac := t.Nanosecond()
		var buf [10]byte
		buf[0] = '.'
		for i := 9; i >= 1; i-- {
			buf[i] = byte('0' + frac%10)
			frac /= 10
		}
		dst = append(dst, buf[:1+n]...)
	}
	switch (d.format >> 4) & 3 {
	case offsetZ:
		return append(dst, 'Z')
	case offsetPlus:
		dst = append(dst, '+')
	default:
		dst = append(dst, '-')
	}
	m := int(d.format >> 6)
	return append(dst, byte('0'+m/600), byte('0'+m/60%10), ':', byte('0'+m%60/10), byte('0'+m%10))
}

// appendDateTime appends t as t.AppendFormat(dst, "2006-01-02T15:04:05")
// does, without reading a layout: writing dates was a tenth of writing an
// export's documents as JSON.
func appendDateTime(dst []byte, t time.Time) []byte {
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, "2006-01-02T15:04:05")
	}
	hour, minute, sec := t.Clock()
	two := func(v int) (byte, byte) { return byte('0' + v/10), byte('0' + v%10) }
	mo1, mo2 := two(int(month))
	d1, d2 := two(day)
	h1, h2 := two(hour)
	mi1, mi2 := two(minute)
	s1, s2 := two(sec)
	return append(dst, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10),
		'-', mo1, mo2, '-', d1, d2, 'T', h1, h2, ':', mi1, mi2, ':', s1, s2)
}

// MarshalJSON writes the date as a JSON string exactly as it arrived.
func (d Date) MarshalJSON() ([]byte, error) {
	b := append([]byte{'"'}, d.AppendText(nil)...)
	return append(b, '"'), nil
}
