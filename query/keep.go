package query

import (
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/memory"
	"github.com/eventlogdb/eventlog/segment"
)

// BlockKeeper is a Source that can keep a block's decompressed columns
// from one read to the next (segment.Reader).
type BlockKeeper interface {
	// DecodeKept is Decode of every field, reading the block's columns
	// from from when it holds them; with keep it returns them kept (from,
	// or new ones charged to acct; nil when acct has no room).
	DecodeKept(block int, want []int, out []*event.Event, from *segment.KeptBlock, keep bool, acct *memory.Account) (*segment.KeptBlock, error)
}

// Keep carries the block where one page ends to the next page of the same
// query (Options.Keep), so that the next page, resuming inside that block,
// does not decompress it again. An export steps through its matches 4,096
// at a time, about 8 blocks of 8,192 rows a step for an object's events
// (6 % of the store): its boundary blocks were a ninth of its decoding.
// The kept block is charged to Memory (nil: uncounted) until Release. Not
// safe for concurrent use: one query at a time.
type Keep struct {
	Memory *memory.Account
	src    int
	kept   *segment.KeptBlock
}

// Release gives back the block k keeps. A nil k is a no-op.
func (k *Keep) Release() {
	if k == nil {
		return
	}
	k.kept.Release()
	k.kept = nil
}

// pageKeep is a page's use of a Keep: the groups (page's runs of one
// block) holding the page's first and last hits, and what the last kept.
type pageKeep struct {
	k           *Keep
	first, last int // group indexes
	src         int
	kept        *segment.KeptBlock
}

// newPageKeep finds the groups holding sel's first and last hits.
func newPageKeep(k *Keep, groups [][]int, n int) *pageKeep {
	if k == nil {
		return nil
	}
	p := &pageKeep{k: k, first: -1, last: -1}
	for gi, g := range groups {
		for _, i := range g {
			if i == 0 {
				p.first = gi
			}
			if i == n-1 {
				p.last = gi
			}
		}
	}
	return p
}

// decode decodes group gi's rows of block of src into dst, through the
// Keep when gi is the first or last group; ok is false when it did not.
func (p *pageKeep) decode(gi int, src Source, si, block int, rows []int, dst []*event.Event) (ok bool, err error) {
	bk, isKeeper := src.(BlockKeeper)
	if p == nil || !isKeeper || (gi != p.first && gi != p.last) {
		return false, nil
	}
	var from *segment.KeptBlock
	if p.k.kept != nil && p.k.src == si {
		from = p.k.kept
	} else if gi != p.last {
		return false, nil
	}
	kept, err := bk.DecodeKept(block, rows, dst, from, gi == p.last, p.k.Memory)
	if gi == p.last {
		p.src, p.kept = si, kept
	}
	return true, err
}

// done moves what the page's last group kept into the Keep, releasing
// what it kept before (unless that is the same block); after a failed
// page it keeps nothing.
func (p *pageKeep) done(failed bool) {
	if p == nil {
		return
	}
	if failed || p.kept != p.k.kept {
		p.k.kept.Release()
	}
	if failed {
		if p.kept != nil && p.kept != p.k.kept {
			p.kept.Release()
		}
		p.k.kept = nil
		return
	}
	p.k.src, p.k.kept = p.src, p.kept
}
