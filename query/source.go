package query

import (
	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/internal/match"
)

// Source is one readable part of the store: the head or a segment. Rows are
// numbered from 0 and grouped in blocks; a block's rows need not be in time
// order. Bitmaps a Source returns must not be modified.
type Source interface {
	// Blocks returns the bounds of every block; the slice may be the
	// source's own and must not be modified.
	Blocks() []match.Block
	// Keys returns the @timestamp (Unix ns) and sequence number of every row
	// of a block, indexed from the block's first row.
	Keys(block int) (ts []int64, seq []uint64, err error)
	// Layout says which posting keys the source holds: a query checks
	// decoded rows for what an older layout cannot answer.
	Layout() index.Layout
	// Postings returns the rows holding an indexed term, nil when none do.
	Postings(t index.Term) (*roaring.Bitmap, error)
	// EachTerm calls fn for every value of an indexed field starting with
	// prefix, with its rows.
	EachTerm(field, prefix string, fn func(value string, rows *roaring.Bitmap) error) error
	// UnionTerms returns the rows of every value of an indexed field
	// starting with prefix for which keep holds (nil: every one). keep
	// must not retain the value it is given.
	UnionTerms(field, prefix string, keep func(value string) bool) (*roaring.Bitmap, error)
	// Decode decodes at least the given fields (nil: all) of the rows want
	// (increasing, relative to the block) into out. A query calls it for
	// several blocks at once (a page's blocks, an aggregation's workers).
	Decode(block int, want []int, fields []*event.Field, out []*event.Event) error
}

// Snapshot is what a query reads: sources that together hold each visible
// event once, and the sequence watermark above which rows are invisible (a
// segment may briefly hold rows above it).
type Snapshot struct {
	Sources []Source
	MaxSeq  uint64
	// Hidden, when set, holds per source (by index; nil: none) the rows a
	// query must not see: events deleted by query whose rows are still on
	// disk. It is subtracted from every source's candidates, so counts and
	// aggregations answered from postings stay exact.
	Hidden []*roaring.Bitmap
	// Damaged lists the stored ranges the snapshot cannot read: blocks of
	// its sources (never visited) and whole files it has no source for. A
	// query whose time range and candidates reach one fails with a
	// *CorruptionError, or with Request.AllowPartial answers without it
	// and lists it in Result.Warnings.
	Damaged []Damage
}

// hidden returns the rows of source si to leave out, nil when none.
func (s Snapshot) hidden(si int) *roaring.Bitmap {
	if si >= len(s.Hidden) || s.Hidden[si] == nil || s.Hidden[si].IsEmpty() {
		return nil
	}
	return s.Hidden[si]
}
