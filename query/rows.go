package query

import (
	"context"
	"fmt"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
)

// MatchingRows returns the rows of src (numbered as the Source numbers
// them) whose events match req's filter, time range and scope and whose
// sequence number is at most maxSeq. Sort, page, cursor and aggregations
// are ignored. It answers from the postings where they decide the filter
// and decodes only the filter's fields for the rest. The store uses it to
// find the rows a delete by query hides.
func MatchingRows(ctx context.Context, src Source, req Request, now time.Time, maxSeq uint64) (*roaring.Bitmap, error) {
	req.Sort, req.Page, req.PerPage, req.SearchAfter, req.Aggs = nil, 0, 0, "", nil
	p, err := compile(req, now, nil) // a tombstone's filter: stored pseudonymised
	if err != nil {
		return nil, err
	}
	out := roaring.New()
	cand, exact, err := p.candidates(src)
	if err != nil || (cand != nil && cand.IsEmpty()) {
		return out, err
	}
	x := &executor{plan: p, snap: Snapshot{Sources: []Source{src}, MaxSeq: maxSeq}}
	defer x.release()
	fields := p.fields(exact, false, false)
	for bi, b := range src.Blocks() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if b.MaxTS < p.minTS || b.MinTS > p.maxTS || b.MinSeq > maxSeq {
			continue
		}
		ts, seq, err := src.Keys(bi)
		if err != nil {
			return nil, fmt.Errorf("block %d: %w", bi, err)
		}
		w := work{block: bi, b: b, cand: cand, exact: exact}
		all := x.blockRows(&w, &rowKeys{ts: ts, seq: seq})
		for len(all) > 0 {
			rows := all[:min(len(all), maxChunkRows)]
			all = all[len(rows):]
			if !exact {
				evs := x.events(len(rows))
				for _, ev := range evs {
					clearFields(ev, fields)
				}
				if err := src.Decode(bi, rows, fields, evs); err != nil {
					return nil, fmt.Errorf("block %d: %w", bi, err)
				}
				rows, _ = x.residual(rows, evs, true, false)
			}
			for _, r := range rows {
				out.Add(b.FirstRow + uint32(r))
			}
		}
	}
	return out, nil
}
