package timespan

import "time"

// autoLadder holds the round intervals Auto picks from, shortest first.
var autoLadder = [...]Interval{
	{unit: unitSecond}, {unit: unitSecond, more: 4}, {unit: unitSecond, more: 9}, {unit: unitSecond, more: 29},
	{unit: unitMinute}, {unit: unitMinute, more: 4}, {unit: unitMinute, more: 9}, {unit: unitMinute, more: 29},
	{unit: unitHour}, {unit: unitHour, more: 2}, {unit: unitHour, more: 11},
	{unit: unitDay}, {unit: unitWeek}, {unit: unitMonth}, {unit: unitYear},
}

// Auto picks the interval of an automatic date_histogram: the smallest of
// 1s 5s 10s 30s 1m 5m 10m 30m 1h 3h 12h 1d 1w 1M 1y giving at most target
// buckets over [minNs, maxNs] (Unix ns, both included; swapped if
// minNs > maxNs),
// or 1y when none does. Buckets are counted in UTC, as Auto has no
// location; in another zone the histogram can hold a bucket more or less
// where it is aligned differently or crosses an offset change. A target
// below 1 counts as 1.
func Auto(minNs, maxNs int64, target int) Interval {
	if minNs > maxNs {
		minNs, maxNs = maxNs, minNs
	}
	target = max(target, 1)
	for _, iv := range autoLadder {
		if bucketsUTC(iv, minNs, maxNs) <= uint64(target) {
			return iv
		}
	}
	return autoLadder[len(autoLadder)-1]
}

// bucketsUTC returns the number of UTC buckets of iv that [lo, hi]
// touches: in UTC, consecutive buckets have consecutive cell numbers.
func bucketsUTC(iv Interval, lo, hi int64) uint64 {
	b := NewBucketer(iv, time.UTC)
	return uint64(b.cellAt(hi, 0).id.n-b.cellAt(lo, 0).id.n) + 1
}
