package head

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/internal/match"
)

// This file is the Snapshot's side of the query engine's source interface.
// A snapshot is one block holding its rows in arrival order (not time
// order); bitmaps it returns are its own copies.

// snapshotKeys holds a snapshot's row positions, built on first use.
type snapshotKeys struct {
	once sync.Once
	ts   []int64
	seq  []uint64
	b    match.Block
}

func (s *Snapshot) positions() *snapshotKeys {
	k := &s.keys
	k.once.Do(func() {
		n := s.rows.len()
		k.ts = make([]int64, n)
		k.seq = make([]uint64, n)
		k.b = match.Block{Rows: uint32(n), MinTS: math.MaxInt64, MaxTS: math.MinInt64}
		for i, it := range s.rows.all {
			k.ts[i], k.seq[i] = it.TS, it.Seq
			k.b.MinTS, k.b.MaxTS = min(k.b.MinTS, it.TS), max(k.b.MaxTS, it.TS)
		}
		if n > 0 {
			k.b.MinSeq, k.b.MaxSeq = s.rows.at(0).Seq, s.rows.at(n-1).Seq
		}
	})
	return k
}

// Blocks returns one block holding every visible row, or none when the
// snapshot is empty.
func (s *Snapshot) Blocks() []match.Block {
	if s.rows.len() == 0 {
		return nil
	}
	return []match.Block{s.positions().b}
}

// Keys returns the @timestamp and sequence number of every visible row, by
// row number. The slices are shared: do not modify them.
func (s *Snapshot) Keys(block int) (ts []int64, seq []uint64, err error) {
	if block != 0 || s.rows.len() == 0 {
		return nil, nil, fmt.Errorf("head: block %d out of range", block)
	}
	k := s.positions()
	return k.ts, k.seq, nil
}

// Layout returns index.LayoutV3: the head indexes the terms of
// index.AppendTerms.
func (s *Snapshot) Layout() index.Layout { return index.LayoutV3 }

// Postings returns the visible rows holding t, or nil when none does.
func (s *Snapshot) Postings(t index.Term) (*roaring.Bitmap, error) {
	s.h.ensureIndexed()
	s.h.mu.RLock()
	bm := s.h.postings.bitmap(t)
	s.h.mu.RUnlock()
	if bm == nil {
		return nil, nil
	}
	bm.RemoveRange(uint64(s.rows.len()), math.MaxUint32+1)
	return bm, nil
}

// EachTerm calls fn for every value of the indexed field that starts with
// prefix, in value order, with its visible rows.
func (s *Snapshot) EachTerm(field, prefix string, fn func(value string, rows *roaring.Bitmap) error) error {
	type term struct {
		value string
		rows  *roaring.Bitmap
	}
	var terms []term
	s.h.ensureIndexed()
	s.h.mu.RLock()
	for t, rows := range s.h.postings.all {
		if t.Field == field && strings.HasPrefix(t.Value, prefix) {
			terms = append(terms, term{t.Value, rows.bitmap()})
		}
	}
	s.h.mu.RUnlock()
	slices.SortFunc(terms, func(a, b term) int { return strings.Compare(a.value, b.value) })
	for _, t := range terms {
		t.rows.RemoveRange(uint64(s.rows.len()), math.MaxUint32+1)
		if t.rows.IsEmpty() {
			continue
		}
		if err := fn(t.value, t.rows); err != nil {
			return err
		}
	}
	return nil
}

// UnionTerms returns the visible rows of every value of the indexed field
// that starts with prefix and for which keep holds (nil: every one).
func (s *Snapshot) UnionTerms(field, prefix string, keep func(value string) bool) (*roaring.Bitmap, error) {
	out := roaring.New()
	s.h.ensureIndexed()
	s.h.mu.RLock()
	for t, rows := range s.h.postings.all {
		if t.Field == field && strings.HasPrefix(t.Value, prefix) && (keep == nil || keep(t.Value)) {
			rows.orInto(out)
		}
	}
	s.h.mu.RUnlock()
	out.RemoveRange(uint64(s.rows.len()), math.MaxUint32+1)
	return out, nil
}

// Decode decodes the rows want (row numbers) into out. The head keeps whole
// events in binary form, so every field is decoded whatever fields asks.
func (s *Snapshot) Decode(block int, want []int, _ []*event.Field, out []*event.Event) error {
	if block != 0 {
		return fmt.Errorf("head: block %d out of range", block)
	}
	for i, row := range want {
		if row < 0 || row >= s.rows.len() {
			return fmt.Errorf("head: row %d out of range", row)
		}
		it := s.rows.at(row)
		ev, err := event.DecodeBinary(it.Data)
		if err != nil {
			return fmt.Errorf("head: event %d: %w", it.Seq, err)
		}
		*out[i] = ev
	}
	return nil
}
