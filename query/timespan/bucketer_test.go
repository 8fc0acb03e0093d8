package timespan

import (
	"math"
	"testing"
	"time"
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustInterval(t testing.TB, s string) Interval {
	t.Helper()
	iv, err := ParseInterval(s)
	if err != nil {
		t.Fatal(err)
	}
	return iv
}

func ns(t testing.TB, s string) int64 {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm.UnixNano()
}

func TestBucketer(t *testing.T) {
	for _, tc := range []struct {
		zone, iv, at, floor, next string
	}{
		// UTC, fixed and calendar.
		{"UTC", "1h", "2024-05-01T14:02:00Z", "2024-05-01T14:00:00Z", "2024-05-01T15:00:00Z"},
		{"UTC", "90m", "2024-05-01T01:45:00Z", "2024-05-01T01:30:00Z", "2024-05-01T03:00:00Z"},
		{"UTC", "500ms", "2024-05-01T00:00:00.7Z", "2024-05-01T00:00:00.5Z", "2024-05-01T00:00:01Z"},
		{"UTC", "1d", "2024-05-01T14:02:00Z", "2024-05-01T00:00:00Z", "2024-05-02T00:00:00Z"},
		{"UTC", "1h", "1969-12-31T23:30:00Z", "1969-12-31T23:00:00Z", "1970-01-01T00:00:00Z"},
		// Europe/Berlin, spring forward 2024-03-31 02:00 CET -> 03:00 CEST
		// (01:00Z): a 23-hour day; hours stay UTC hours.
		{"Europe/Berlin", "1d", "2024-03-31T12:00:00Z", "2024-03-30T23:00:00Z", "2024-03-31T22:00:00Z"},
		{"Europe/Berlin", "1d", "2024-03-31T00:30:00Z", "2024-03-30T23:00:00Z", "2024-03-31T22:00:00Z"},
		{"Europe/Berlin", "1d", "2024-03-30T23:00:00Z", "2024-03-30T23:00:00Z", "2024-03-31T22:00:00Z"},
		{"Europe/Berlin", "1h", "2024-03-31T00:59:59Z", "2024-03-31T00:00:00Z", "2024-03-31T01:00:00Z"},
		{"Europe/Berlin", "1h", "2024-03-31T01:00:00Z", "2024-03-31T01:00:00Z", "2024-03-31T02:00:00Z"},
		// Fall back 2024-10-27 03:00 CEST -> 02:00 CET (01:00Z): a 25-hour
		// day; the repeated local hour 02:00 is two buckets.
		{"Europe/Berlin", "1d", "2024-10-27T12:00:00Z", "2024-10-26T22:00:00Z", "2024-10-27T23:00:00Z"},
		{"Europe/Berlin", "1d", "2024-10-27T23:00:00Z", "2024-10-27T23:00:00Z", "2024-10-28T23:00:00Z"},
		{"Europe/Berlin", "1h", "2024-10-27T00:30:00Z", "2024-10-27T00:00:00Z", "2024-10-27T01:00:00Z"},
		{"Europe/Berlin", "1h", "2024-10-27T01:30:00Z", "2024-10-27T01:00:00Z", "2024-10-27T02:00:00Z"},
		// 3h buckets follow local 00/03/06...: the change cuts one short.
		{"Europe/Berlin", "3h", "2024-10-27T00:30:00Z", "2024-10-26T22:00:00Z", "2024-10-27T01:00:00Z"},
		{"Europe/Berlin", "3h", "2024-10-27T01:30:00Z", "2024-10-27T01:00:00Z", "2024-10-27T02:00:00Z"},
		{"Europe/Berlin", "3h", "2024-10-27T02:00:00Z", "2024-10-27T02:00:00Z", "2024-10-27T05:00:00Z"},
		{"Europe/Berlin", "3h", "2024-03-31T00:30:00Z", "2024-03-30T23:00:00Z", "2024-03-31T01:00:00Z"},
		{"Europe/Berlin", "3h", "2024-03-31T01:00:00Z", "2024-03-31T01:00:00Z", "2024-03-31T04:00:00Z"},
		// America/Havana falls back at 01:00 CDT to 00:00 CST (05:00Z):
		// 2024-11-03 is one 25-hour day although the clock shows its
		// midnight twice.
		{"America/Havana", "1d", "2024-11-03T12:00:00Z", "2024-11-03T04:00:00Z", "2024-11-04T05:00:00Z"},
		{"America/Havana", "1d", "2024-11-03T05:00:00Z", "2024-11-03T04:00:00Z", "2024-11-04T05:00:00Z"},
		{"America/Havana", "1h", "2024-11-03T05:30:00Z", "2024-11-03T05:00:00Z", "2024-11-03T06:00:00Z"},
		// Asia/Kolkata (+05:30): hours start at :30 UTC.
		{"Asia/Kolkata", "1h", "2024-05-01T14:10:00Z", "2024-05-01T13:30:00Z", "2024-05-01T14:30:00Z"},
		{"Asia/Kolkata", "1d", "2024-05-01T14:10:00Z", "2024-04-30T18:30:00Z", "2024-05-01T18:30:00Z"},
		// America/St_Johns (-03:30, -02:30 in summer): hours at :30 all
		// year; 2024-03-10 02:00 NST -> 03:00 NDT makes a 23-hour day.
		{"America/St_Johns", "1h", "2024-01-15T12:00:00Z", "2024-01-15T11:30:00Z", "2024-01-15T12:30:00Z"},
		{"America/St_Johns", "1h", "2024-07-15T12:00:00Z", "2024-07-15T11:30:00Z", "2024-07-15T12:30:00Z"},
		{"America/St_Johns", "1d", "2024-03-10T12:00:00Z", "2024-03-10T03:30:00Z", "2024-03-11T02:30:00Z"},
		// Weeks start on Monday at local midnight.
		{"UTC", "1w", "2024-05-01T14:02:00Z", "2024-04-29T00:00:00Z", "2024-05-06T00:00:00Z"},
		{"UTC", "1w", "2024-04-29T00:00:00Z", "2024-04-29T00:00:00Z", "2024-05-06T00:00:00Z"},
		{"UTC", "1w", "2024-04-28T23:59:59Z", "2024-04-22T00:00:00Z", "2024-04-29T00:00:00Z"},
		{"UTC", "1w", "1970-01-01T00:00:00Z", "1969-12-29T00:00:00Z", "1970-01-05T00:00:00Z"},
		{"Europe/Berlin", "1w", "2024-05-01T12:00:00Z", "2024-04-28T22:00:00Z", "2024-05-05T22:00:00Z"},
		{"Europe/Berlin", "1w", "2024-03-27T12:00:00Z", "2024-03-24T23:00:00Z", "2024-03-31T22:00:00Z"},
		// Months on the 1st, years on January 1.
		{"UTC", "1M", "2024-02-15T00:00:00Z", "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z"},
		{"UTC", "1M", "2024-12-31T23:59:59Z", "2024-12-01T00:00:00Z", "2025-01-01T00:00:00Z"},
		{"Europe/Berlin", "1M", "2024-03-15T00:00:00Z", "2024-02-29T23:00:00Z", "2024-03-31T22:00:00Z"},
		{"UTC", "1y", "2024-07-01T00:00:00Z", "2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"},
		{"Europe/Berlin", "1y", "2024-07-01T00:00:00Z", "2023-12-31T23:00:00Z", "2024-12-31T23:00:00Z"},
		{"Europe/Berlin", "1y", "2023-12-31T23:30:00Z", "2023-12-31T23:00:00Z", "2024-12-31T23:00:00Z"},
		// 3d counts days from 1970-01-01 (day 19844 is 2024-05-01; 19842
		// is a multiple of 3).
		{"UTC", "3d", "2024-05-01T14:02:00Z", "2024-04-29T00:00:00Z", "2024-05-02T00:00:00Z"},
		{"UTC", "3d", "1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "1970-01-04T00:00:00Z"},
		{"UTC", "3d", "1969-12-31T00:00:00Z", "1969-12-29T00:00:00Z", "1970-01-01T00:00:00Z"},
		{"Europe/Berlin", "3d", "2024-05-01T14:02:00Z", "2024-04-28T22:00:00Z", "2024-05-01T22:00:00Z"},
	} {
		b := NewBucketer(mustInterval(t, tc.iv), mustLoad(t, tc.zone))
		x := ns(t, tc.at)
		if got, want := b.Floor(x), ns(t, tc.floor); got != want {
			t.Errorf("%s %s: Floor(%s) = %s, want %s", tc.zone, tc.iv, tc.at, fmtNs(got), tc.floor)
		}
		if got, want := b.Next(b.Floor(x)), ns(t, tc.next); got != want {
			t.Errorf("%s %s: Next(Floor(%s)) = %s, want %s", tc.zone, tc.iv, tc.at, fmtNs(got), tc.next)
		}
	}
}

// TestBucketerExtremes checks the clamping at both ends of the int64 range.
func TestBucketerExtremes(t *testing.T) {
	for _, zone := range []string{"UTC", "Europe/Berlin", "Asia/Kolkata", "America/St_Johns"} {
		for _, s := range []string{"1ms", "7s", "1h", "1d", "5d", "1w", "1M", "1y", "2562047h"} {
			b := NewBucketer(mustInterval(t, s), mustLoad(t, zone))
			if got := b.Floor(math.MinInt64); got != math.MinInt64 {
				t.Errorf("%s %s: Floor(MinInt64) = %d", zone, s, got)
			}
			if got := b.Next(math.MinInt64); got == math.MinInt64 {
				t.Errorf("%s %s: Next(MinInt64) = %d", zone, s, got)
			}
			last := b.Floor(math.MaxInt64)
			if last == math.MaxInt64 || b.Next(last) != math.MaxInt64 || b.Floor(last) != last {
				t.Errorf("%s %s: last bucket %d, Next %d", zone, s, last, b.Next(last))
			}
		}
	}
}

func TestZeroBucketer(t *testing.T) {
	var b Bucketer // 1ms in UTC
	if got := b.Floor(1_234_567); got != 1_000_000 {
		t.Errorf("Floor = %d, want 1000000", got)
	}
	if got := b.Next(1_000_000); got != 2_000_000 {
		t.Errorf("Next = %d, want 2000000", got)
	}
	nb := NewBucketer(Interval{}, nil)
	if nb.Floor(-1) != -1_000_000 {
		t.Errorf("NewBucketer(Interval{}, nil).Floor(-1) = %d", nb.Floor(-1))
	}
}

func fmtNs(ns int64) string {
	return time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
}
