package segment

import (
	"sync"

	"github.com/eventlogdb/eventlog/memory"
)

// keyCacheSize is how many blocks' decoded keys a Reader keeps. A query
// places its matches with the keys (Find) and then reads the same blocks'
// events (Events), which need the keys again; a few entries serve that
// without holding much memory (a full block's keys are 16 bytes a row,
// 128 KiB at 8,192 rows, when its timestamps share one format).
const keyCacheSize = 4

// keyCache keeps the decoded sequence and timestamp columns of the blocks a
// Reader used last. Entries are immutable once stored, so callers share
// them. Each entry is charged to acct (OpenOptions.KeyMemory) while kept;
// one the account refuses is not kept: under memory pressure the cache
// shrinks instead of the heap growing. Safe for concurrent use.
type keyCache struct {
	acct    *memory.Account // nil: unlimited, uncounted
	mu      sync.Mutex
	entries [keyCacheSize]struct {
		block int
		keys  *blockKeys
	}
	next int // the entry put replaces
}

func (c *keyCache) get(block int) *blockKeys {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.entries {
		if e.keys != nil && e.block == block {
			return e.keys
		}
	}
	return nil
}

func (c *keyCache) put(block int, k *blockKeys) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := &c.entries[c.next]
	if e.keys != nil {
		c.acct.Release(e.keys.bytes())
		e.keys = nil
	}
	if !c.acct.TryCharge(k.bytes()) {
		return
	}
	e.block, e.keys = block, k
	c.next = (c.next + 1) % keyCacheSize
}

// clear drops every entry and gives its memory back (Reader.Close).
func (c *keyCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.entries {
		if k := c.entries[i].keys; k != nil {
			c.acct.Release(k.bytes())
			c.entries[i].keys = nil
		}
	}
}

// bytes is what the keys hold: two 8-byte values a row, and a third when
// the block's timestamp formats differ (else one value for the block).
func (k *blockKeys) bytes() int64 { return 8 * int64(len(k.ts)+len(k.fmts.vals)+len(k.seq)+1) }
