package timespan

import (
	"math"
	"time"
)

// Bucketer maps instants (Unix nanoseconds) to the buckets of a
// date_histogram: an Interval in a location (see the package documentation
// for the rules). It is a small value, safe for concurrent use. The zero
// Bucketer has 1ms buckets in UTC.
//
// Floor takes about 10ns in UTC and fixed zones and a few times that in
// a zone with offset changes, where it looks the zone up; callers
// bucketing many instants in order can reuse [Floor(x), Next(Floor(x)))
// while the instants stay inside it.
type Bucketer struct {
	iv  Interval
	loc *time.Location // nil means UTC
	// zoneless is set when loc has one offset for all time (UTC, fixed
	// zones), so that no lookup is needed: off is that offset in seconds.
	zoneless bool
	off      int64
}

// NewBucketer returns the Bucketer of iv in loc; a nil loc is UTC.
func NewBucketer(iv Interval, loc *time.Location) Bucketer {
	if loc == nil {
		loc = time.UTC
	}
	b := Bucketer{iv: iv, loc: loc}
	t := time.Unix(0, 0).In(loc)
	if start, end := t.ZoneBounds(); start.IsZero() && end.IsZero() {
		_, off := t.Zone()
		b.zoneless, b.off = true, int64(off)
	}
	return b
}

// Floor returns the start of the bucket holding ns: the smallest instant
// s <= ns such that the wall clock gives every instant of [s, ns] the same
// bucket. Floor(Floor(x)) == Floor(x).
func (b Bucketer) Floor(ns int64) int64 {
	z := b.zoneAt(ns)
	c := b.cellAt(ns, z.off)
	// The clock's bucket begins at or before the zone period: it goes on
	// back into the previous period if that period's clock shows the same
	// bucket at its last instant.
	for c.start <= z.start && z.start != math.MinInt64 {
		prev := b.zoneAt(z.start - 1)
		pc := b.cellAt(z.start-1, prev.off)
		if pc.id != c.id {
			return z.start
		}
		z, c.start = prev, pc.start
	}
	return c.start
}

// Next returns the start of the bucket after the one holding start (the
// smallest bucket start greater than start), so that the bucket at s is
// [s, Next(s)). It saturates at math.MaxInt64: the last bucket holds
// instants up to and including math.MaxInt64, and Next of it (or of any
// instant in it) returns math.MaxInt64 — the only place where
// Next(x) > x and Floor(Next(s)) == Next(s) fail.
func (b Bucketer) Next(start int64) int64 {
	z := b.zoneAt(start)
	c := b.cellAt(start, z.off)
	// Mirror of Floor: the bucket goes on into the next zone period if that
	// period's clock shows the same bucket at its first instant.
	for c.end >= z.end && z.end != math.MaxInt64 {
		nz := b.zoneAt(z.end)
		nc := b.cellAt(z.end, nz.off)
		if nc.id != c.id {
			return z.end
		}
		z, c.end = nz, nc.end
	}
	return c.end
}

// period is a stretch of time with one UTC offset.
type period struct {
	off        int64 // seconds east of UTC
	start, end int64 // [start, end) in Unix ns; MinInt64/MaxInt64 when unbounded
}

// zoneAt returns the zone period holding ns.
func (b Bucketer) zoneAt(ns int64) period {
	if b.zoneless || b.loc == nil {
		return period{off: b.off, start: math.MinInt64, end: math.MaxInt64}
	}
	t := time.Unix(0, ns).In(b.loc)
	_, off := t.Zone()
	p := period{off: int64(off), start: math.MinInt64, end: math.MaxInt64}
	start, end := t.ZoneBounds()
	if !start.IsZero() {
		p.start = secToNs(start.Unix(), int64(start.Nanosecond()))
	}
	if !end.IsZero() {
		p.end = secToNs(end.Unix(), int64(end.Nanosecond()))
	}
	// Past a zone's transition table, Go derives periods from the TZ rule
	// and ends the last one of a leap year a day early, before the instant
	// looked up (golang/go#81583). The offset holds through that day, so
	// extending the period by days is exact there and a no-op elsewhere;
	// without it Floor and Next would never leave that period.
	for p.end <= ns && p.end != math.MaxInt64 {
		p.end = addClamp(p.end, int64(24*time.Hour))
	}
	p.start = min(p.start, ns)
	return p
}
