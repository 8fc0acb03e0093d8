package segment

import (
	"sort"

	"github.com/eventlogdb/eventlog/event"
)

// scanCacheBlocks is how many decoded blocks ScanSeq keeps.
const scanCacheBlocks = 2

// ScanSeq calls fn for every row with sequence number >= from, in sequence
// order, following the sequence index (nothing is sorted). It stops at the
// first error fn returns and returns it. ev is owned by the caller.
//
// Each block is decoded about once: when a decoded block leaves the small
// cache, its rows still due later in sequence order (late events) are kept
// aside, so memory stays near two blocks plus the late rows.
func (r *Reader) ScanSeq(from uint64, fn func(seq uint64, ev *event.Event) error) error {
	if err := r.live(); err != nil {
		return err
	}
	if from > r.f.MaxSeq {
		return nil
	}
	// Skip the runs that end before from: run i ends before run i+1 starts.
	first := sort.Search(len(r.runs), func(i int) bool {
		return i+1 == len(r.runs) || r.runs[i+1].FirstSeq > from
	})
	c := newScanCache(r, from)
	for _, run := range r.runs[first:] {
		for row := run.Start; row < run.Start+run.Len; row++ {
			ev, seq, err := c.row(row)
			if err != nil {
				return err
			}
			if seq < from {
				continue
			}
			if err := fn(seq, ev); err != nil {
				return err
			}
		}
	}
	return nil
}

// scanCache holds the last few decoded blocks and the rows of evicted
// blocks that are still due.
type scanCache struct {
	r       *Reader
	from    uint64
	done    []uint64    // bit per row: already emitted
	entries []scanEntry // most recent last
	pending map[uint32]pendingRow
}

type scanEntry struct {
	bi   int
	evs  []event.Event
	keys *blockKeys
}

type pendingRow struct {
	ev  *event.Event
	seq uint64
}

func newScanCache(r *Reader, from uint64) *scanCache {
	return &scanCache{r: r, from: from, done: make([]uint64, (r.f.Events+63)/64), pending: map[uint32]pendingRow{}}
}

func (c *scanCache) row(row uint32) (*event.Event, uint64, error) {
	c.done[row/64] |= 1 << (row % 64)
	if p, ok := c.pending[row]; ok {
		delete(c.pending, row)
		return p.ev, p.seq, nil
	}
	bi := c.r.blockOf(row)
	e, err := c.block(bi)
	if err != nil {
		return nil, 0, err
	}
	i := row - c.r.blocks[bi].FirstRow
	ev := new(event.Event)
	*ev = e.evs[i]
	return ev, e.keys.seq[i], nil
}

func (c *scanCache) block(bi int) (*scanEntry, error) {
	for i := len(c.entries) - 1; i >= 0; i-- {
		if c.entries[i].bi == bi {
			return &c.entries[i], nil
		}
	}
	evs, keys, err := c.r.decodeBlock(bi)
	if err != nil {
		return nil, err
	}
	if len(c.entries) == scanCacheBlocks {
		c.evict(&c.entries[0])
		c.entries = append(c.entries[:0], c.entries[1:]...)
	}
	c.entries = append(c.entries, scanEntry{bi: bi, evs: evs, keys: keys})
	return &c.entries[len(c.entries)-1], nil
}

// evict keeps the rows of e not yet emitted and still due (seq >= from).
func (c *scanCache) evict(e *scanEntry) {
	first := c.r.blocks[e.bi].FirstRow
	for i := range e.evs {
		row := first + uint32(i)
		if c.done[row/64]&(1<<(row%64)) == 0 && e.keys.seq[i] >= c.from {
			ev := new(event.Event)
			*ev = e.evs[i]
			c.pending[row] = pendingRow{ev: ev, seq: e.keys.seq[i]}
		}
	}
}

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
// (segments seldom overlap in time). It differs in two ways:
//
//   - It decodes the first row on its own, and the rest of its block only
//     when fn returns, so a merge does not hold a decoded block of every
//     input (about 1.4 KiB an event for the garbage collector to scan)
//     before it needs them. This reads the first block's columns twice.
//   - It calls pause, if not nil, after decoding each column: decoding a
//     block takes milliseconds (8,192 rows by default), and pause lets a
//     background caller give up the processor in between.
func (r *Reader) EachForMerge(pause func(), fn func(seq uint64, ev *event.Event) error) error {
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
		if err := r.eachOf(bi, from, int(r.blocks[bi].Rows), pause, fn); err != nil {
			return err
		}
	}
	return nil
}

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
