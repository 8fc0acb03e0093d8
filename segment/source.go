package segment

import (
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/internal/match"
)

// This file is the Reader's side of the query engine's source interface:
// block bounds, keys, postings and column-selective decoding. Bitmaps
// returned here alias the mapping: they must not be modified, nor used after
// Close.

// Blocks returns the bounds of the segment's blocks, in storage order, which
// is (@timestamp, sequence) order. The slice is shared: do not modify it.
// (Made once at Open: a query asks each segment for them several times,
// and copying them on each call took 11 % of a rare object's lookup.)
func (r *Reader) Blocks() []match.Block { return r.bounds }

// blockBounds returns the bounds of blocks.
func blockBounds(blocks []blockMeta) []match.Block {
	out := make([]match.Block, len(blocks))
	for i := range blocks {
		b := &blocks[i]
		out[i] = match.Block{FirstRow: b.FirstRow, Rows: b.Rows, MinTS: b.MinTS, MaxTS: b.MaxTS, MinSeq: b.MinSeq, MaxSeq: b.MaxSeq}
	}
	return out
}

// Keys returns the @timestamp (Unix ns) and sequence number of every row of
// block bi. The slices are shared: do not modify them.
func (r *Reader) Keys(bi int) (ts []int64, seq []uint64, err error) {
	if err := r.live(); err != nil {
		return nil, nil, err
	}
	if bi < 0 || bi >= len(r.blocks) {
		return nil, nil, fmt.Errorf("segment %s: block %d out of range", r.path, bi)
	}
	k, err := r.keys(bi)
	if err != nil {
		return nil, nil, err
	}
	return k.ts, k.seq, nil
}

// Layout returns the set of posting keys the file holds: the layout of
// its format version (LayoutV1 to LayoutV4 for versions 1 to 4; version 5
// holds LayoutV4's postings, and reports Layout(5), which every check of
// the form "at least LayoutVn" treats alike; version 6 LayoutV6's,
// version 7 reports Layout(7), with LayoutV6's postings, version 8
// LayoutV8's, and version 9 reports Layout(9), with LayoutV8's).
func (r *Reader) Layout() index.Layout { return index.Layout(r.f.Version) }

// Postings returns the rows holding t, or nil when none does.
func (r *Reader) Postings(t index.Term) (*roaring.Bitmap, error) {
	if err := r.live(); err != nil {
		return nil, err
	}
	post, err := r.postingsOf(t.Field)
	if err != nil {
		return nil, err
	}
	bm, ok, err := post.Lookup(t)
	if err != nil {
		return nil, r.corrupt(SectionPostings, -1, fmt.Errorf("term %s: %w", t.Field, err))
	}
	if !ok {
		return nil, nil
	}
	return bm, nil
}

// EachTerm calls fn for every value of the indexed field that starts with
// prefix, in value order, with its rows.
func (r *Reader) EachTerm(field, prefix string, fn func(value string, rows *roaring.Bitmap) error) error {
	if err := r.live(); err != nil {
		return err
	}
	post, err := r.postingsOf(field)
	if err != nil {
		return err
	}
	return post.EachPrefix(field, prefix, func(v string, bm *roaring.Bitmap) error {
		if bm.GetCardinality() > 0 && uint64(bm.Maximum()) >= r.f.Events {
			return r.corrupt(SectionPostings, -1, fmt.Errorf("term %s: row %d out of range", field, bm.Maximum()))
		}
		return fn(v, bm)
	})
}

// UnionTerms returns the rows of every value of the indexed field that
// starts with prefix and for which keep holds (nil: every one); keep must
// not retain the value. The bitmap may alias the mapping.
func (r *Reader) UnionTerms(field, prefix string, keep func(value string) bool) (*roaring.Bitmap, error) {
	if err := r.live(); err != nil {
		return nil, err
	}
	post, err := r.postingsOf(field)
	if err != nil {
		return nil, err
	}
	bm, err := post.UnionWhere(field, prefix, keep)
	if err != nil {
		return nil, r.corrupt(SectionPostings, -1, err)
	}
	if !bm.IsEmpty() && uint64(bm.Maximum()) >= r.f.Events {
		return nil, r.corrupt(SectionPostings, -1, fmt.Errorf("term %s: row %d out of range", field, bm.Maximum()))
	}
	return bm, nil
}

// Decode decodes the given fields of the rows want (increasing, relative to
// the block) of block bi into out (out[i] receives row want[i]); nil fields
// means every field, and then the rows may come from the Reader's DocCache
// (OpenOptions.Docs). Only the needed columns are read, so a filter or
// aggregation on one field costs one column (@timestamp and other dates,
// stored relative to it, cost the keys too).
func (r *Reader) Decode(bi int, want []int, fields []*event.Field, out []*event.Event) error {
	if err := r.live(); err != nil {
		return err
	}
	if bi < 0 || bi >= len(r.blocks) {
		return fmt.Errorf("segment %s: block %d out of range", r.path, bi)
	}
	b := &r.blocks[bi]
	for i, row := range want {
		if row < 0 || row >= int(b.Rows) || (i > 0 && row <= want[i-1]) {
			return fmt.Errorf("segment %s: block %d: rows not increasing within 0..%d", r.path, bi, b.Rows-1)
		}
	}
	if fields == nil {
		return r.decodeDocs(bi, want, out) // doccache.go
	}
	var ids [256]bool
	needTS := false
	for _, f := range fields {
		ids[f.ID] = true
		// Other dates are stored as offsets from @timestamp.
		needTS = needTS || f.Kind == event.KindDate
	}
	if needTS {
		k, err := r.keys(bi)
		if err != nil {
			return err
		}
		setTimestamps(k, want, out)
	}
	return r.decodeColumns(bi, want, out, func(id uint8) bool { return ids[id] })
}
