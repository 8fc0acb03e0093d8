package segment

import (
	"container/list"
	"sync"
	"sync/atomic"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/memory"
)

// DictCache keeps the decoded postings dictionaries of the segments it
// serves while queries use them, instead of for as long as each segment
// is open: a dictionary takes about 20 bytes an event, so a store of many
// segments would otherwise hold tens of megabytes on the Go heap that the
// collector rescans on every cycle, and under a memory limit the
// collector runs more and more often as segments accumulate.
//
// A Reader loads its dictionary on the first read that needs one (a term
// lookup other than a paged client id, a term enumeration, a refs column
// of a version 5 file, Verify, Describe); concurrent reads of the same
// segment wait for that one load and share it. The cache keeps each
// dictionary charged to acct and drops the least recently used ones when
// a new one would take it past max (0: no bound of its own) or when acct
// refuses the charge (the budget is full); a dictionary that does not fit
// even in an empty cache is used by the read that loaded it and not kept.
// Dropping only forgets the cache's pointer and gives back the charge: a
// read still holding the dictionary keeps using it, and the Go collector
// frees it when the last one is done. Safe for concurrent use.
type DictCache struct {
	acct *memory.Account // nil: uncounted
	max  int64
	mu   sync.Mutex
	lru  list.List // *dictSlot, most recently used at the front
	held int64     // bytes of the kept dictionaries
	// loads counts dictionaries decoded, for tests and figures.
	loads atomic.Int64
}

// NewDictCache returns a cache charging acct (nil: uncounted) that keeps
// at most max bytes of dictionaries (0: as many as acct accepts).
func NewDictCache(acct *memory.Account, max int64) *DictCache {
	return &DictCache{acct: acct, max: max}
}

// Held returns the bytes of the dictionaries kept now.
func (c *DictCache) Held() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.held
}

// Loads returns how many dictionaries the cache's readers have decoded.
func (c *DictCache) Loads() int64 { return c.loads.Load() }

// dictSlot is one Reader's place in its DictCache.
type dictSlot struct {
	// load is held while the dictionary is decoded, so that concurrent
	// reads decode it once.
	load sync.Mutex
	// Guarded by the cache's mu.
	post  *index.Postings // nil: not kept
	bytes int64
	elem  *list.Element
}

// get returns the slot's kept dictionary (nil: none), marking it used.
func (c *DictCache) get(s *dictSlot) *index.Postings {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.post != nil {
		c.lru.MoveToFront(s.elem)
	}
	return s.post
}

// put keeps p for s if it fits, dropping the least recently used
// dictionaries to make room.
func (c *DictCache) put(s *dictSlot, p *index.Postings) {
	n := p.DictBytes()
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.post != nil || (c.max > 0 && n > c.max) {
		return
	}
	for c.max > 0 && c.held+n > c.max {
		c.dropOldest()
	}
	for !c.acct.TryCharge(n) {
		if c.lru.Len() == 0 {
			return // not kept: the budget has no room even for this one
		}
		c.dropOldest()
	}
	s.post, s.bytes = p, n
	s.elem = c.lru.PushFront(s)
	c.held += n
}

// dropOldest forgets the least recently used dictionary. Called with mu
// held and the cache not empty.
func (c *DictCache) dropOldest() {
	c.dropLocked(c.lru.Back().Value.(*dictSlot))
}

// drop forgets s's dictionary, if kept (Reader.Close).
func (c *DictCache) drop(s *dictSlot) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dropLocked(s)
}

func (c *DictCache) dropLocked(s *dictSlot) {
	if s.post == nil {
		return
	}
	c.lru.Remove(s.elem)
	c.acct.Release(s.bytes)
	c.held -= s.bytes
	s.post, s.elem, s.bytes = nil, nil, 0
}

// ShareDicts makes the Reader keep its dictionary in c, a store's shared
// DictCache, instead of the cache it was opened with (whatever that holds
// of it is dropped): for a Reader a store did not open itself
// (Options.OpenSegment), so that its dictionary is charged and dropped
// like the others. It must be called before the Reader is shared, never
// concurrently with its reads.
func (r *Reader) ShareDicts(c *DictCache) {
	if c == nil || c == r.dicts {
		return
	}
	r.dicts.drop(&r.slot)
	r.dicts = c
}

// postingsOf returns postings that answer for field's terms: for the
// client ids of a version 4 or later file, their pages, which need no
// dictionary (deduplication looks ids up at every append that carries
// them); else the dictionary (postings()).
func (r *Reader) postingsOf(field string) (*index.Postings, error) {
	if field == event.ClientIDField {
		if p := r.sect.IDPostings(); p != nil {
			return p, nil
		}
	}
	return r.postings()
}

// postings returns the segment's decoded dictionary, from its cache or
// decoded now (see DictCache). In a version 5 file the ref key table is
// checked against it at each load.
func (r *Reader) postings() (*index.Postings, error) {
	c := r.dicts
	if p := c.get(&r.slot); p != nil {
		return p, nil
	}
	r.slot.load.Lock()
	defer r.slot.load.Unlock()
	if p := c.get(&r.slot); p != nil {
		return p, nil // another read loaded it while this one waited
	}
	p, err := r.sect.Dict(r.dec)
	if err == nil && r.f.Version >= VersionRefKeys {
		err = checkRefKeys(r.ranks, p)
	}
	if err != nil {
		return nil, r.corrupt(SectionPostings, -1, err)
	}
	c.loads.Add(1)
	c.put(&r.slot, p)
	return p, nil
}
