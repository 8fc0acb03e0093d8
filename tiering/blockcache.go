package tiering

import (
	"container/list"
	"sync"

	"github.com/eventlogdb/eventlog/memory"
)

// blockCache keeps the byte ranges of segment objects that ranged GETs
// fetched (one column of one block each), least recently used first out,
// within max bytes and within what the memory budget grants: an entry the
// budget refuses is not kept (the read still succeeds). Entries are
// immutable and shared: readers may alias them after they leave the
// cache. Safe for concurrent use.
type blockCache struct {
	mu    sync.Mutex
	max   int64
	used  int64
	acct  *memory.Account
	lru   *list.List // of *blockEntry, most recent at the front
	byKey map[blockKey]*list.Element
}

// blockKey names a range of an object.
type blockKey struct {
	key    string
	off, n int64
}

type blockEntry struct {
	k    blockKey
	data []byte
}

func newBlockCache(max int64, acct *memory.Account) *blockCache {
	return &blockCache{max: max, acct: acct, lru: list.New(), byKey: map[blockKey]*list.Element{}}
}

// get returns the cached bytes of k, nil when absent.
func (c *blockCache) get(k blockKey) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byKey[k]
	if !ok {
		return nil
	}
	c.lru.MoveToFront(e)
	return e.Value.(*blockEntry).data
}

// put keeps data under k, evicting the least recently used entries to
// make room; data larger than the cache, or refused by the budget, is not
// kept.
func (c *blockCache) put(k blockKey, data []byte) {
	n := int64(len(data))
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[k]; ok || n > c.max {
		return
	}
	for c.used+n > c.max {
		c.removeOldest()
	}
	if !c.acct.TryCharge(n) {
		return
	}
	c.byKey[k] = c.lru.PushFront(&blockEntry{k: k, data: data})
	c.used += n
}

func (c *blockCache) removeOldest() {
	e := c.lru.Back()
	be := e.Value.(*blockEntry)
	c.lru.Remove(e)
	delete(c.byKey, be.k)
	c.used -= int64(len(be.data))
	c.acct.Release(int64(len(be.data)))
}

// size returns the bytes held.
func (c *blockCache) size() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}

// clear drops every entry, releasing its memory.
func (c *blockCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.lru.Len() > 0 {
		c.removeOldest()
	}
}
