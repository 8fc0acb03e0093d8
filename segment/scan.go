package segment

import (
	"sort"

	"github.com/eventlogdb/eventlog/event"
)

// scanCacheBlocks is how many decoded blocks ScanSeq keeps: runs of the
// sequence index jump between nearby blocks when events arrive late.
const scanCacheBlocks = 4

// ScanSeq calls fn for every row with sequence number >= from, in sequence
// order, following the sequence index (nothing is sorted). It stops at the
// first error fn returns and returns it. ev is owned by the caller.
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
	c := scanCache{r: r}
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

// scanCache holds the last few decoded blocks.
type scanCache struct {
	r       *Reader
	entries []scanEntry // most recent last
}

type scanEntry struct {
	bi   int
	evs  []event.Event
	keys *blockKeys
}

func (c *scanCache) row(row uint32) (*event.Event, uint64, error) {
	bi := c.r.blockOf(row)
	e, err := c.block(bi)
	if err != nil {
		return nil, 0, err
	}
	i := row - c.r.blocks[bi].FirstRow
	ev := e.evs[i] // a copy, so the caller may keep it
	return &ev, e.keys.seq[i], nil
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
		c.entries = append(c.entries[:0], c.entries[1:]...)
	}
	c.entries = append(c.entries, scanEntry{bi: bi, evs: evs, keys: keys})
	return &c.entries[len(c.entries)-1], nil
}
