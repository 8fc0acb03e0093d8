package segment

import (
	"github.com/eventlogdb/eventlog/event"
)

// Each calls fn for every row in storage ((@timestamp, sequence)) order,
// decoding one block at a time; ev is fn's to keep. It stops at the first
// error fn returns and returns it.
func (r *Reader) Each(fn func(seq uint64, ev *event.Event) error) error {
	if err := r.live(); err != nil {
		return err
	}
	for bi := range r.blocks {
		if err := r.eachOf(bi, 0, int(r.blocks[bi].Rows), nil, fn); err != nil {
			return err
		}
	}
	return nil
}

// EachForMerge is Each for a k-way merge, which takes the first row of
// every input at once, then mostly reads the inputs one after another
// (segments seldom overlap in time). It differs in three ways:
//
//   - It decodes the first row on its own, and the rest of its block only
//     when fn returns, so a merge does not hold a decoded block of every
//     input (about 1.4 KiB an event for the garbage collector to scan)
//     before it needs them. This reads the first block's columns twice.
//   - It decodes a block MergeChunkRows rows at a time, not whole.
//   - It calls pause, if not nil, after decoding each column: decoding a
//     block takes milliseconds (8,192 rows by default), and pause lets a
//     background caller give up the processor in between.
func (r *Reader) EachForMerge(pause func(), fn func(seq uint64, ev *event.Event) error) error {
	return r.eachInChunks(MergeChunkRows, pause, fn)
}

// eachInChunks is EachForMerge decoding chunk rows of a block at a time.
func (r *Reader) eachInChunks(chunk int, pause func(), fn func(seq uint64, ev *event.Event) error) error {
	if err := r.live(); err != nil || len(r.blocks) == 0 {
		return err
	}
	if err := r.eachOf(0, 0, 1, pause, fn); err != nil {
		return err
	}
	for bi := range r.blocks {
		from := 0
		if bi == 0 {
			from = 1
		}
		for rows := int(r.blocks[bi].Rows); from < rows; from += chunk {
			if err := r.eachOf(bi, from, min(from+chunk, rows), pause, fn); err != nil {
				return err
			}
		}
	}
	return nil
}

// MergeChunkRows is how many rows of a block EachForMerge decodes at a
// time: a merge holds at most this many decoded events of each input
// (about 2.4 KiB each with their strings) rather than a whole block's
// 8,192, so that background merges fit beside ingest and queries in the
// memory budget. Each chunk decompresses the block's columns again: a
// block is read DefaultBlockRows/MergeChunkRows times.
const MergeChunkRows = 2048

// eachOf decodes rows [from, to) of block bi and calls fn for each.
func (r *Reader) eachOf(bi, from, to int, pause func(), fn func(seq uint64, ev *event.Event) error) error {
	if from == to {
		return nil
	}
	evs, k, err := r.decodeRange(bi, from, to, pause)
	if err != nil {
		return err
	}
	for i := range evs {
		if err := fn(k.seq[from+i], &evs[i]); err != nil {
			return err
		}
	}
	return nil
}
