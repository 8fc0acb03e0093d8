package segment

import (
	"cmp"
	"slices"

	"github.com/eventlogdb/eventlog/event"
)

// SeqCursor walks a segment in sequence order one range at a time, for a
// reader that follows the sequence numbers (a tail). Late events (stored
// by @timestamp far before the rows of their sequence numbers) spread a
// range's rows over many blocks, each costing a whole block's
// decompression; so when the cursor reads a block it also decodes the
// block's rows due in later ranges and keeps them, within a budget of
// rows the caller gives, and the block is not read again. Not safe for
// concurrent use; the Reader must stay open while the cursor is used.
type SeqCursor struct {
	r       *Reader
	next    uint64                // first sequence number not yet yielded
	pending map[uint32]pendingRow // decoded rows due in later ranges
	drained []uint64              // bit per block: its rows due later are all pending
}

// SeqCursor returns a cursor whose first range starts at from.
func (r *Reader) SeqCursor(from uint64) *SeqCursor {
	return &SeqCursor{r: r, next: from, pending: map[uint32]pendingRow{}, drained: make([]uint64, (len(r.blocks)+63)/64)}
}

// Next is the first sequence number the next range starts at.
func (c *SeqCursor) Next() uint64 { return c.next }

// Pending is how many decoded rows the cursor holds for later ranges.
func (c *SeqCursor) Pending() int { return len(c.pending) }

// Each calls fn, in sequence order, for every row whose sequence number is
// within [c.Next(), hi], then moves the cursor past hi. It keeps at most
// maxPending rows for later ranges (0: none, as EachSeqRange). It stops at
// the first error fn returns and returns it; the cursor is then unusable.
// ev is fn's to keep.
func (c *SeqCursor) Each(hi uint64, maxPending int, fn func(seq uint64, ev *event.Event) error) error {
	if err := c.r.live(); err != nil {
		return err
	}
	lo := c.next
	if hi < lo || lo > c.r.f.MaxSeq || hi < c.r.f.MinSeq {
		c.next = max(c.next, hi+1)
		return nil
	}
	rows, seqs, err := c.r.seqRows(lo, hi)
	if err != nil {
		return err
	}
	evs, err := c.events(rows, hi, maxPending)
	if err != nil {
		return err
	}
	c.next = hi + 1
	for i, ev := range evs {
		if err := fn(seqs[i], ev); err != nil {
			return err
		}
	}
	return nil
}

// events returns the events of rows (the range's, in sequence order),
// from the pending rows or by reading their blocks.
func (c *SeqCursor) events(rows []uint32, hi uint64, maxPending int) ([]*event.Event, error) {
	evs := make([]*event.Event, len(rows))
	var read []int // indices of rows to read, by row
	for i, row := range rows {
		if p, ok := c.pending[row]; ok {
			evs[i] = p.ev
			delete(c.pending, row)
			continue
		}
		read = append(read, i)
	}
	slices.SortFunc(read, func(a, b int) int { return cmp.Compare(rows[a], rows[b]) })
	for s := 0; s < len(read); {
		bi := c.r.blockOf(rows[read[s]])
		end := s + 1
		for end < len(read) && rows[read[end]] < c.r.blocks[bi].FirstRow+c.r.blocks[bi].Rows {
			end++
		}
		if err := c.readBlock(bi, rows, read[s:end], evs, hi, maxPending); err != nil {
			return nil, err
		}
		s = end
	}
	return evs, nil
}

// readBlock decodes into evs[i], for i in idx (sorted by row, all in block
// bi), the event of rows[i]; and, if they fit within maxPending, the
// block's rows due after hi into c.pending.
func (c *SeqCursor) readBlock(bi int, rows []uint32, idx []int, evs []*event.Event, hi uint64, maxPending int) error {
	k, err := c.r.keys(bi)
	if err != nil {
		return err
	}
	b := &c.r.blocks[bi]
	type slot struct {
		row int // within the block
		i   int // index in evs, or -1: pending
	}
	slots := make([]slot, 0, len(idx))
	for _, i := range idx {
		slots = append(slots, slot{row: int(rows[i] - b.FirstRow), i: i})
	}
	if c.drained[bi/64]&(1<<(bi%64)) == 0 {
		var later []slot
		for j, s := range k.seq {
			if s > hi {
				later = append(later, slot{row: j, i: -1})
			}
		}
		if len(c.pending)+len(later) <= maxPending {
			slots = append(slots, later...)
			slices.SortFunc(slots, func(a, b slot) int { return cmp.Compare(a.row, b.row) })
			c.drained[bi/64] |= 1 << (bi % 64)
		}
	}
	// Pending rows get their own array, so they do not keep the range's
	// alive.
	now := make([]event.Event, len(idx))
	later := make([]event.Event, len(slots)-len(idx))
	want := make([]int, len(slots))
	out := make([]*event.Event, len(slots))
	for j, s := range slots {
		want[j] = s.row
		if s.i >= 0 {
			out[j], now = &now[0], now[1:]
		} else {
			out[j], later = &later[0], later[1:]
		}
	}
	if err := c.r.decodeRows(bi, k, want, out); err != nil {
		return err
	}
	for j, s := range slots {
		if s.i >= 0 {
			evs[s.i] = out[j]
		} else {
			c.pending[b.FirstRow+uint32(s.row)] = pendingRow{ev: out[j], seq: k.seq[s.row]}
		}
	}
	return nil
}

// pendingRow is a decoded row due in a later range.
type pendingRow struct {
	ev  *event.Event
	seq uint64
}
