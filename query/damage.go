package query

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
)

// ErrCorrupt marks an answer refused because stored events it needs are
// damaged (a block whose checksum fails, a segment set aside in
// quarantine). Check it with errors.Is; errors.As gives the
// *CorruptionError naming the file and block.
var ErrCorrupt = errors.New("stored data damaged")

// Damage is a range of stored events a snapshot cannot read: one block of a
// segment file, or (Block -1) the whole file. Its sequence and time bounds
// say what a query or tail would miss.
type Damage struct {
	// File is the segment file's name.
	File string `json:"file"`
	// Block is the damaged block's number in the file; -1: the whole file.
	Block int `json:"block"`
	// Events is how many events the range holds; 0: unknown.
	Events int    `json:"events,omitempty"`
	MinSeq uint64 `json:"min_seq"`
	MaxSeq uint64 `json:"max_seq"`
	// MinTS and MaxTS bound the range's @timestamp (Unix ns).
	MinTS int64 `json:"min_ts"`
	MaxTS int64 `json:"max_ts"`
	// Reason is what the check found.
	Reason string `json:"reason"`
	// Source is the index in Snapshot.Sources of the file's readable rest,
	// -1 when none is readable; the damaged block's rows are FirstRow to
	// FirstRow+Rows-1 of that source.
	Source         int    `json:"-"`
	FirstRow, Rows uint32 `json:"-"`
}

// String names the range: "segment FILE block N" or "segment FILE".
func (d *Damage) String() string {
	if d.MaxSeq == math.MaxUint64 {
		return fmt.Sprintf("segment %s (which events it held is unknown)", d.File)
	}
	if d.Block < 0 {
		return fmt.Sprintf("segment %s (sequence numbers %d-%d, %s to %s)", d.File, d.MinSeq, d.MaxSeq, stamp(d.MinTS), stamp(d.MaxTS))
	}
	return fmt.Sprintf("segment %s block %d (sequence numbers %d-%d, %s to %s)", d.File, d.Block, d.MinSeq, d.MaxSeq, stamp(d.MinTS), stamp(d.MaxTS))
}

func stamp(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }

// CorruptionError is the error of a query that needed a damaged range and
// did not allow a partial answer. errors.Is(err, ErrCorrupt) holds for it.
type CorruptionError struct {
	Damage
	// Err is the failure that found the damage, when this read found it.
	Err error
}

// Unwrap returns the failure that found the damage, if any.
func (e *CorruptionError) Unwrap() error { return e.Err }

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("%s is damaged: %s; run eventlog verify and eventlog repair (searches with allow_partial answer from the rest)", e.Damage.String(), e.Reason)
}

// Is makes errors.Is(err, ErrCorrupt) hold.
func (e *CorruptionError) Is(target error) bool { return target == ErrCorrupt }

// touches reports whether the query reads damage d: its time range and the
// watermark reach it and, where the file's rest is readable, the
// candidate rows (nil: every row) of its source reach the damaged block.
func (x *executor) touches(d *Damage, cand *roaring.Bitmap) bool {
	if d.MaxTS < x.plan.minTS || d.MinTS > x.plan.maxTS || d.MinSeq > x.snap.MaxSeq {
		return false
	}
	return d.Source < 0 || cand == nil || cand.IntersectsWithInterval(uint64(d.FirstRow), uint64(d.FirstRow)+uint64(d.Rows))
}

// damaged checks the damage of source si (every damage without a source
// when si is -1) against its candidates: a range the query reads fails it
// unless the request allows a partial answer, which then records the range
// as a warning. It returns the damaged rows of si, to be left out.
func (x *executor) damaged(si int, cand *roaring.Bitmap) (*roaring.Bitmap, error) {
	var rows *roaring.Bitmap
	for i := range x.snap.Damaged {
		d := &x.snap.Damaged[i]
		if d.Source != si {
			continue
		}
		if si >= 0 {
			if rows == nil {
				rows = roaring.New()
			}
			rows.AddRange(uint64(d.FirstRow), uint64(d.FirstRow)+uint64(d.Rows))
		}
		if !x.touches(d, cand) {
			continue
		}
		if !x.allowPartial {
			return nil, &CorruptionError{Damage: *d}
		}
		x.warnings = append(x.warnings, *d)
	}
	return rows, nil
}

// union returns a bitmap of the rows of a and b (either may be nil),
// leaving both alone.
func union(a, b *roaring.Bitmap) *roaring.Bitmap {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return roaring.Or(a, b)
}
