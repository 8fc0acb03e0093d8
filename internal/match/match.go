// Package match holds the small vocabulary the head, segments, the query
// engine and compaction share: positions in (@timestamp, sequence) order,
// block bounds, and the time arithmetic they agree on.
package match

import (
	"cmp"
	"math"
	"time"
)

// The widest time range.
const (
	MinTime = math.MinInt64
	MaxTime = math.MaxInt64
)

// Position is a place in (@timestamp, sequence) order.
type Position struct {
	TS  int64
	Seq uint64
}

// Compare orders positions by (@timestamp, sequence).
func Compare(a, b Position) int {
	if c := cmp.Compare(a.TS, b.TS); c != 0 {
		return c
	}
	return cmp.Compare(a.Seq, b.Seq)
}

// Block is a run of rows a source stores together: rows FirstRow to
// FirstRow+Rows-1, with @timestamps within [MinTS, MaxTS] and sequence
// numbers within [MinSeq, MaxSeq]. Readers prune whole blocks with these
// bounds before decoding anything.
type Block struct {
	FirstRow, Rows uint32
	MinTS, MaxTS   int64
	MinSeq, MaxSeq uint64
}

// UnixNano is t in Unix nanoseconds, clamped to the int64 range: clients
// send sentinels like 0001-01-01 or 9999-12-31, where t.UnixNano overflows.
func UnixNano(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// FloorDiv is a/b rounded toward negative infinity, for b > 0: the time
// partition or unit a (possibly pre-1970) instant falls in.
func FloorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
