package segment

import (
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/internal/match"
)

// Hit is one matching row: its position and its row number in the segment.
type Hit struct {
	match.Position
	Row uint32
}

// Find returns the rows within [q.MinTS, q.MaxTS] matching every term group
// and after q.After, in q's order, at most q.Limit of them (0 = all): the
// same answer as the head's Snapshot.Find. It prunes blocks by time, uses
// the postings for the groups and decodes only the timestamp and sequence
// columns of blocks that hold candidates.
func (r *Reader) Find(q match.Query) ([]Hit, error) {
	if err := r.live(); err != nil {
		return nil, err
	}
	if q.MinTS > r.f.MaxTS || q.MaxTS < r.f.MinTS {
		return nil, nil
	}
	bm, err := r.match(q.Groups)
	if err != nil || (bm != nil && bm.IsEmpty()) {
		return nil, err
	}
	var out []Hit
	for _, bi := range r.blockOrder(q.Desc) {
		if !r.candidate(bi, &q, bm) {
			continue
		}
		if out, err = r.findInBlock(bi, &q, bm, out); err != nil {
			return nil, err
		}
		if q.Limit > 0 && len(out) >= q.Limit {
			return out[:q.Limit], nil
		}
	}
	return out, nil
}

func (r *Reader) blockOrder(desc bool) []int {
	order := make([]int, len(r.blocks))
	for i := range order {
		order[i] = i
		if desc {
			order[i] = len(order) - 1 - i
		}
	}
	return order
}

// candidate reports whether block bi can hold a match: it overlaps the time
// range, is not wholly before the resume position and holds a postings hit.
func (r *Reader) candidate(bi int, q *match.Query, bm *roaring.Bitmap) bool {
	b := &r.blocks[bi]
	if b.MaxTS < q.MinTS || b.MinTS > q.MaxTS {
		return false
	}
	if q.After != nil && ((!q.Desc && b.MaxTS < q.After.TS) || (q.Desc && b.MinTS > q.After.TS)) {
		return false
	}
	return bm == nil || bm.IntersectsWithInterval(uint64(b.FirstRow), uint64(b.FirstRow)+uint64(b.Rows))
}

func (r *Reader) findInBlock(bi int, q *match.Query, bm *roaring.Bitmap, out []Hit) ([]Hit, error) {
	k, err := r.keys(bi)
	if err != nil {
		return nil, err
	}
	b := &r.blocks[bi]
	n := int(b.Rows)
	for j := 0; j < n; j++ {
		i := j
		if q.Desc {
			i = n - 1 - j
		}
		row := b.FirstRow + uint32(i)
		p := match.Position{TS: k.ts[i], Seq: k.seq[i]}
		if !q.Includes(p) || (bm != nil && !bm.Contains(row)) {
			continue
		}
		out = append(out, Hit{Position: p, Row: row})
		if q.Limit > 0 && len(out) >= q.Limit {
			break
		}
	}
	return out, nil
}

// match evaluates the term groups to the bitmap of matching rows, nil when
// there are no groups (every row matches). The result may alias the mapping:
// it must not be mutated or leave the Reader.
func (r *Reader) match(groups [][]index.Term) (*roaring.Bitmap, error) {
	var result *roaring.Bitmap
	for _, g := range groups {
		ors := make([]*roaring.Bitmap, 0, len(g))
		for _, t := range g {
			bm, ok, err := r.post.Lookup(t)
			if err != nil {
				return nil, r.corrupt(SectionPostings, -1, fmt.Errorf("term %s: %w", t.Field, err))
			}
			if ok {
				ors = append(ors, bm)
			}
		}
		u := roaring.New()
		switch len(ors) {
		case 0:
		case 1:
			u = ors[0]
		default:
			u = roaring.FastOr(ors...)
		}
		if result == nil {
			result = u
		} else {
			result = roaring.And(result, u)
		}
		if result.IsEmpty() {
			return result, nil
		}
	}
	if result != nil && uint64(result.Maximum()) >= r.f.Events {
		return nil, r.corrupt(SectionPostings, -1, fmt.Errorf("row %d out of range", result.Maximum()))
	}
	return result, nil
}

// Count returns the number of rows Find would return without a limit. When
// the query's time range covers the segment and it has no resume position,
// it decodes nothing: the answer is the event count or the cardinality of the
// groups' bitmap. Otherwise blocks wholly inside the range are counted from
// the bitmap and only the edge blocks are decoded.
func (r *Reader) Count(q match.Query) (int, error) {
	if err := r.live(); err != nil {
		return 0, err
	}
	if q.MinTS > r.f.MaxTS || q.MaxTS < r.f.MinTS {
		return 0, nil
	}
	bm, err := r.match(q.Groups)
	if err != nil {
		return 0, err
	}
	n := 0
	for bi := range r.blocks {
		c, err := r.countBlock(bi, &q, bm)
		if err != nil {
			return 0, err
		}
		n += c
	}
	return n, nil
}

func (r *Reader) countBlock(bi int, q *match.Query, bm *roaring.Bitmap) (int, error) {
	if !r.candidate(bi, q, bm) {
		return 0, nil
	}
	b := &r.blocks[bi]
	inside := b.MinTS >= q.MinTS && b.MaxTS <= q.MaxTS &&
		(q.After == nil || (!q.Desc && b.MinTS > q.After.TS) || (q.Desc && b.MaxTS < q.After.TS))
	if inside {
		if bm == nil {
			return int(b.Rows), nil
		}
		return int(rangeCardinality(bm, b.FirstRow, b.FirstRow+b.Rows-1)), nil
	}
	qq := *q
	qq.Limit = 0
	hits, err := r.findInBlock(bi, &qq, bm, nil)
	return len(hits), err
}

// rangeCardinality counts the values of bm in [lo, hi].
func rangeCardinality(bm *roaring.Bitmap, lo, hi uint32) uint64 {
	n := bm.Rank(hi)
	if lo > 0 {
		n -= bm.Rank(lo - 1)
	}
	return n
}
