package event

import (
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// modelParseDate is the instant of a date ParseDate accepted, computed by
// package time: the independent model of ParseDate's arithmetic. ok is
// false when the fields are out of range or the instant is outside the
// years 1678 to 2261.
func modelParseDate(y, mo, d, h, mi, s, frac, offSign, offMin int) (int64, bool) {
	t := time.Date(y, time.Month(mo), d, h, mi, s, frac, time.UTC)
	if t.Year() != y || int(t.Month()) != mo || t.Day() != d || h > 23 || mi > 59 || s > 59 {
		return 0, false // time.Date normalised an out-of-range field
	}
	t = t.Add(-time.Duration(offSign*offMin) * time.Minute)
	if t.Year() < 1678 || t.Year() > 2261 {
		return 0, false
	}
	return t.UnixNano(), true
}

// TestParseDateMatchesTime: for dates drawn across every year a date can
// be written with (0000 to 9999, weighted to the edges of the accepted
// range), out-of-range fields and offsets included, ParseDate accepts
// exactly what package time calls a valid instant in range, at the same
// instant, and writes it back as given.
func TestParseDateMatchesTime(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		y := rapid.OneOf(rapid.IntRange(0, 9999), rapid.IntRange(1676, 1679), rapid.IntRange(2260, 2263), rapid.SampledFrom([]int{1900, 2000, 2024, 2100})).Draw(t, "year")
		mo := rapid.IntRange(0, 13).Draw(t, "month")
		d := rapid.IntRange(0, 32).Draw(t, "day")
		h, mi, s := rapid.IntRange(0, 24).Draw(t, "hour"), rapid.IntRange(0, 60).Draw(t, "minute"), rapid.IntRange(0, 60).Draw(t, "second")
		fracDigits := rapid.IntRange(0, 9).Draw(t, "fraction digits")
		fracVal := rapid.IntRange(0, 999_999_999).Draw(t, "fraction") % pow10(fracDigits)
		form := rapid.IntRange(offsetZ, offsetMinus).Draw(t, "offset form")
		offMin := 0
		if form != offsetZ {
			offMin = rapid.IntRange(0, 23*60+59).Draw(t, "offset minutes")
		}
		text := fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", y, mo, d, h, mi, s)
		if fracDigits > 0 {
			text += fmt.Sprintf(".%0*d", fracDigits, fracVal)
		}
		sign := 1
		switch form {
		case offsetZ:
			text += "Z"
		case offsetPlus:
			text += fmt.Sprintf("+%02d:%02d", offMin/60, offMin%60)
		case offsetMinus:
			text += fmt.Sprintf("-%02d:%02d", offMin/60, offMin%60)
			sign = -1
		}
		want, ok := modelParseDate(y, mo, d, h, mi, s, fracVal*pow10(9-fracDigits), sign, offMin)
		got, err := ParseDate(text)
		switch {
		case ok != (err == nil):
			t.Fatalf("ParseDate(%q) = %v; the model says valid: %v", text, err, ok)
		case ok && got.UnixNano() != want:
			t.Fatalf("ParseDate(%q) = %d ns, want %d", text, got.UnixNano(), want)
		case ok && got.String() != text:
			t.Fatalf("ParseDate(%q) writes back as %q", text, got.String())
		}
	})
}

func pow10(n int) int {
	p := 1
	for range n {
		p *= 10
	}
	return p
}

// TestAppendDateTimeLikeTime: appendDateTime writes what package time's
// AppendFormat writes with the layout it stands for, for instants across
// years -9999 to 19999 (those outside 0000 to 9999 take AppendFormat
// itself) and at the edges of days and years.
func TestAppendDateTimeLikeTime(t *testing.T) {
	const layout = "2006-01-02T15:04:05"
	rapid.Check(t, func(t *rapid.T) {
		var tm time.Time
		if rapid.Bool().Draw(t, "edge") {
			y := rapid.IntRange(-1, 10000).Draw(t, "year")
			tm = time.Date(y, 1, 1, 0, 0, rapid.SampledFrom([]int{-1, 0, 1}).Draw(t, "second"), 0, time.UTC)
		} else {
			sec := rapid.Int64Range(-377705116800, 568971820799).Draw(t, "unix") // -9999 to 19999
			tm = time.Unix(sec, rapid.Int64Range(0, 999_999_999).Draw(t, "nanos")).UTC()
		}
		if got, want := string(appendDateTime([]byte("x"), tm)), "x"+tm.Format(layout); got != want {
			t.Fatalf("appendDateTime(%v) = %q, want %q", tm, got, want)
		}
	})
}

// parseDateBySpans is ParseDate's reading of the date and time numbers as
// it was before it read them two digits at a time (digits over each
// span): the reference for TestPropertyParseDateAsSpans.
func parseDateBySpans(s string) ([6]int, bool) {
	var f [6]int
	if len(s) < len("2006-01-02T15:04:05Z") || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return f, false
	}
	for i, span := range [6][2]int{{0, 4}, {5, 7}, {8, 10}, {11, 13}, {14, 16}, {17, 19}} {
		n, ok := digits(s[span[0]:span[1]])
		if !ok {
			return f, false
		}
		f[i] = n
	}
	return f, true
}

// TestPropertyParseDateAsSpans: a date with bytes of its numbers replaced
// by any byte is refused by ParseDate exactly when a number is not all
// digits; when it is accepted, its numbers are the ones read by span.
func TestPropertyParseDateAsSpans(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := []byte("2026-03-04T05:06:07.891Z")
		for range rapid.IntRange(0, 3).Draw(t, "changes") {
			i := rapid.SampledFrom([]int{0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18}).Draw(t, "at")
			b[i] = rapid.OneOf(rapid.Byte(), rapid.SampledFrom([]byte("/0189:\x00\xff"))).Draw(t, "byte")
		}
		s := string(b)
		want, ok := parseDateBySpans(s)
		got, err := ParseDate(s)
		if ok {
			wantDate, wantOK := modelParseDate(want[0], want[1], want[2], want[3], want[4], want[5], 891_000_000, 1, 0)
			if (err == nil) != wantOK || err == nil && got.UnixNano() != wantDate {
				t.Fatalf("ParseDate(%q) = %v, %v; numbers %v give %d, %v", s, got.UnixNano(), err, want, wantDate, wantOK)
			}
		} else if err == nil || err.Error() != errDate.Error() {
			t.Fatalf("ParseDate(%q) = %v, %v; want %v", s, got, err, errDate)
		}
	})
}
