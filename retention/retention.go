// Package retention decides which segments to drop. It is pure policy over
// segment metadata; the engine carries the decisions out (retention.go,
// through segments.go's swap), records each drop as an event in the store
// and hides expired events from queries before their segments are gone
// (retention_periods.go).
//
// # Rules
//
//   - Age: an event is expired once its @timestamp is older than now minus
//     the max_age that applies to it: that of the first retention rule
//     whose filter it matches; else, when spaces have their own max_age,
//     the longest of its spaces' (a space without one has the default;
//     an event in several spaces is kept while any of them keeps it);
//     else the engine's default. A segment is dropped
//     whole once every event in it is expired: its ExpiresAt (the latest
//     instant one of its events expires, computed by the engine) is past.
//     Queries never return an expired event, even before its segment is
//     dropped; the space comes back when it is (or when compaction
//     rewrites the segment without them).
//   - MaxBytes: while the store's size on disk (segments plus the WAL)
//     exceeds MaxBytes, the oldest segments (by newest @timestamp) are
//     dropped. The head and the WAL are never dropped, so the bound can be
//     exceeded by what they hold.
//   - Protect: segments holding events with a sequence number above it
//     (events a destination has not delivered) are kept past MaxAge; only
//     MaxBytes overrides that, and the drop says so.
package retention

import (
	"cmp"
	"slices"
	"time"
)

// Policy says what to keep. Zero fields are off.
type Policy struct {
	// ByAge drops segments whose events have all expired.
	ByAge    bool
	MaxBytes int64
}

// Segment is what retention knows of a live segment.
type Segment struct {
	Name           string
	Bytes          int64
	Events         int
	MinTS, MaxTS   int64
	MinSeq, MaxSeq uint64
	// ExpiresAt is when its last event expires (Unix ns: it is expired at
	// any later instant); math.MaxInt64
	// when one never does.
	ExpiresAt int64
	// Held: an incident hold pins one of its events; Plan never drops it
	// (by age it lists it as a Held drop, to say what the hold kept; by
	// size it skips it, and the bound may then stay out of reach).
	Held bool
}

// Reasons for a drop.
const (
	ReasonMaxAge   = "max_age"
	ReasonMaxBytes = "max_bytes"
)

// Drop is one segment to drop and why.
type Drop struct {
	Segment
	Reason string
	// Undelivered is set when MaxBytes drops events above the protected
	// sequence number.
	Undelivered bool
	// Held: the segment is expired but holds an event an incident hold
	// pins, so it is kept; the drop is listed to say what the hold kept.
	Held bool
}

// Plan returns the segments to drop now. otherBytes is the rest of the
// store's size on disk (the WAL); protect is the highest sequence number
// every consumer has taken (0: nothing protected beyond MaxAge's rule is
// needed — pass math.MaxUint64 when there are no consumers).
func Plan(segs []Segment, otherBytes int64, now time.Time, p Policy, protect uint64) []Drop {
	var drops []Drop
	dropped := map[string]bool{}
	if p.ByAge {
		for _, s := range segs {
			if s.ExpiresAt < now.UnixNano() && s.MaxSeq <= protect {
				drops = append(drops, Drop{Segment: s, Reason: ReasonMaxAge, Held: s.Held})
				dropped[s.Name] = !s.Held
			}
		}
	}
	if p.MaxBytes > 0 {
		total := otherBytes
		var left []Segment
		for _, s := range segs {
			if !dropped[s.Name] {
				total += s.Bytes
				left = append(left, s)
			}
		}
		slices.SortFunc(left, func(a, b Segment) int { return cmp.Or(cmp.Compare(a.MaxTS, b.MaxTS), cmp.Compare(a.Name, b.Name)) })
		for _, s := range left {
			if total <= p.MaxBytes {
				break
			}
			if s.Held { // kept, and the bound may stay out of reach
				continue
			}
			drops = append(drops, Drop{Segment: s, Reason: ReasonMaxBytes, Undelivered: s.MaxSeq > protect})
			total -= s.Bytes
		}
	}
	return drops
}

// ExpiredBefore is the @timestamp (Unix ns) below which events are expired
// under maxAge at now; math.MinInt64 when maxAge is off.
func ExpiredBefore(now time.Time, maxAge time.Duration) int64 {
	if maxAge <= 0 {
		return minInt64
	}
	t := now.Add(-maxAge)
	if t.Before(time.Unix(0, minInt64)) {
		return minInt64
	}
	return t.UnixNano()
}

const minInt64 = -1 << 63

// ExpiresAt is when an event stamped ts (Unix ns) expires under maxAge:
// math.MaxInt64 (never) when maxAge is off, saturating on overflow.
func ExpiresAt(ts int64, maxAge time.Duration) int64 {
	const maxInt64 = 1<<63 - 1
	if maxAge <= 0 || ts > maxInt64-int64(maxAge) {
		return maxInt64
	}
	return ts + int64(maxAge)
}
