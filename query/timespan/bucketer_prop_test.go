package timespan

import (
	"math"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// propZones are zones with the offset changes that strain bucketing:
// 30-minute DST (Lord_Howe), negative DST (Dublin), double summer time
// (London), midnight changes (Sao_Paulo, Santiago, Havana), a skipped day
// (Apia), frequent flips (Casablanca), 2-hour DST (Troll), odd offsets
// (Kathmandu, Chatham, historical LMT everywhere) and fixed zones.
var propZones = []string{
	"UTC", "Europe/Berlin", "Asia/Kolkata", "America/St_Johns", "Australia/Lord_Howe",
	"Europe/Dublin", "Europe/London", "America/Sao_Paulo", "America/Santiago", "America/Havana",
	"Pacific/Apia", "Africa/Casablanca", "Antarctica/Troll", "Asia/Kathmandu", "Pacific/Chatham",
	"America/New_York", "Asia/Tehran", "Pacific/Kiritimati", "Etc/GMT+5",
}

func genLocation(t *rapid.T) *time.Location {
	if rapid.IntRange(0, 20).Draw(t, "fixed zone?") == 0 {
		off := rapid.IntRange(-14*3600, 14*3600).Draw(t, "fixed offset")
		return time.FixedZone("fixed", off)
	}
	name := rapid.SampledFrom(propZones).Draw(t, "zone")
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// genInstant draws an instant anywhere in the int64 range, mostly near a
// zone transition of loc, sometimes at the ends of the range.
func genInstant(t *rapid.T, loc *time.Location) int64 {
	switch rapid.IntRange(0, 9).Draw(t, "where") {
	case 0:
		return rapid.Int64().Draw(t, "anywhere")
	case 1:
		return math.MinInt64 + rapid.Int64Range(0, int64(400*24*time.Hour)).Draw(t, "from start")
	case 2:
		return math.MaxInt64 - rapid.Int64Range(0, int64(400*24*time.Hour)).Draw(t, "from end")
	}
	// Near a transition between 1850 and 2100, uniformly: rapid favours
	// small numbers, which would all land around 1970.
	const from, to = -3786825600, 4102444800 // Unix seconds of 1850 and 2100
	base := from + int64(mix(rapid.Uint64().Draw(t, "seed"))%(to-from))
	start, end := time.Unix(base, 0).In(loc).ZoneBounds()
	edge := start
	if rapid.Bool().Draw(t, "end?") || start.IsZero() {
		edge = end
	}
	if edge.IsZero() {
		edge = time.Unix(base, 0)
	}
	delta := rapid.Int64Range(-int64(50*time.Hour), int64(50*time.Hour)).Draw(t, "delta")
	return addClamp(edge.UnixNano(), delta)
}

// TestBucketerPartition checks the laws that make buckets a partition of
// time, for random zones, intervals and instants (many instants per zone
// and interval: most miss the rare transitions that matter).
func TestBucketerPartition(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		loc := genLocation(t)
		b := NewBucketer(genInterval(t), loc)
		for range 20 {
			checkPartition(t, b, loc, genInstant(t, loc))
		}
	})
}

// checkPartition checks the partition laws at x.
func checkPartition(t *rapid.T, b Bucketer, loc *time.Location, x int64) {
	f := b.Floor(x)
	nx := b.Next(f)
	if f > x {
		t.Fatalf("Floor(%d) = %d > x", x, f)
	}
	if g := b.Floor(f); g != f {
		t.Fatalf("Floor(Floor(%d)) = %d, Floor = %d", x, g, f)
	}
	if g := b.Next(x); g != nx {
		t.Fatalf("Next(%d) = %d, Next(Floor) = %d", x, g, nx)
	}
	if nx == math.MaxInt64 {
		return // the last bucket: saturated, as documented
	}
	if nx <= x {
		t.Fatalf("Next(Floor(%d)) = %d <= x (Floor %d)", x, nx, f)
	}
	if g := b.Floor(nx); g != nx {
		t.Fatalf("Floor(Next(%d)) = %d, Next = %d", f, g, nx)
	}
	y := rapid.Int64Range(f, nx-1).Draw(t, "y in bucket")
	for _, z := range []int64{y, nx - 1} {
		if g := b.Floor(z); g != f {
			t.Fatalf("bucket [%d, %d): Floor(%d) = %d", f, nx, z, g)
		}
	}
	if f != math.MinInt64 {
		if p := b.Floor(f - 1); b.Next(p) != f {
			t.Fatalf("bucket before %d starts at %d, ends at %d", f, p, b.Next(p))
		}
	}
	checkBucketModel(t, b, loc, x, f, nx)
}

// checkBucketModel checks a bucket against the definition of its interval:
// fixed buckets are never longer than the interval and start where the
// formula puts them unless an offset change intervenes; calendar buckets
// start at the local midnight opening their unit, or at an offset change.
func checkBucketModel(t *rapid.T, b Bucketer, loc *time.Location, x, f, nx int64) {
	atChange := func(ns int64) bool {
		start, _ := time.Unix(0, ns).In(loc).ZoneBounds()
		return !start.IsZero() && start.UnixNano() == ns
	}
	if length, ok := b.iv.fixedLength(); ok {
		if uint64(nx-f) > uint64(length) {
			t.Fatalf("fixed bucket [%d, %d) longer than %d", f, nx, length)
		}
		start, _ := time.Unix(0, x).In(loc).ZoneBounds()
		_, off := time.Unix(0, x).In(loc).Zone()
		c := fixedCell(x, int64(off), length)
		inPeriod := start.IsZero() || c.start >= start.UnixNano()
		if inPeriod && c.start != math.MinInt64 && f != c.start {
			t.Fatalf("Floor(%d) = %d, formula %d", x, f, c.start)
		}
		if f != c.start && !atChange(f) && f != math.MinInt64 {
			t.Fatalf("Floor(%d) = %d: neither the formula %d nor an offset change", x, f, c.start)
		}
		return
	}
	if f == math.MinInt64 || atChange(f) {
		return
	}
	w := time.Unix(0, f).In(loc)
	h, m, s := w.Clock()
	y, mon, d := w.Date()
	day := daysFromCivil(int64(y), int64(mon), int64(d))
	opens := h == 0 && m == 0 && s == 0 && w.Nanosecond() == 0
	switch b.iv.unit {
	case unitDay:
		opens = opens && mod(day, b.iv.count()) == 0
	case unitWeek:
		opens = opens && w.Weekday() == time.Monday
	case unitMonth:
		opens = opens && d == 1
	case unitYear:
		opens = opens && mon == time.January && d == 1
	}
	if !opens {
		t.Fatalf("%s bucket of %s starts at %s (%d)", b.iv, fmtNs(x), w.Format(time.RFC3339Nano), f)
	}
}

// mix is the splitmix64 finaliser: it spreads rapid's small draws over
// the whole uint64 range.
func mix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
