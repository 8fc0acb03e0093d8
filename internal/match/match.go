// Package match describes what a read selects from the head or a segment: a
// time range, groups of equality terms, an order, a resume position and a
// limit. Both implement the same Find over it, so the DB merges their
// answers without knowing which is which.
package match

import (
	"cmp"
	"math"
	"time"

	"github.com/eventlogdb/eventlog/index"
)

// The widest time range.
const (
	MinTime = math.MinInt64
	MaxTime = math.MaxInt64
)

// Query selects rows.
type Query struct {
	// MinTS and MaxTS bound @timestamp (Unix ns), both inclusive.
	MinTS, MaxTS int64
	// Groups are ANDed; the terms inside a group are ORed. Empty matches all.
	Groups [][]index.Term
	// Desc orders newest first.
	Desc bool
	// After, when set, resumes after that position in the query's order
	// (exclusive).
	After *Position
	// Limit caps the result; 0 means no limit.
	Limit int
}

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

// Includes reports whether a row at p is within the query's time range and
// after its resume position.
func (q *Query) Includes(p Position) bool {
	if p.TS < q.MinTS || p.TS > q.MaxTS {
		return false
	}
	if q.After == nil {
		return true
	}
	c := Compare(p, *q.After)
	if q.Desc {
		return c < 0
	}
	return c > 0
}

// InOrder compares two positions in the query's order.
func (q *Query) InOrder(a, b Position) int {
	if q.Desc {
		return Compare(b, a)
	}
	return Compare(a, b)
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
