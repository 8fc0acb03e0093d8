package segment

import "sync"

// keyCacheSize is how many blocks' decoded keys a Reader keeps. A query
// places its matches with the keys (Find) and then reads the same blocks'
// events (Events), which need the keys again; a few entries serve that
// without holding much memory (a full block's keys are 16 bytes a row,
// 128 KiB at 8,192 rows, when its timestamps share one format).
const keyCacheSize = 4

// keyCache keeps the decoded sequence and timestamp columns of the blocks a
// Reader used last. Entries are immutable once stored, so callers share
// them. Safe for concurrent use.
type keyCache struct {
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
	c.entries[c.next].block, c.entries[c.next].keys = block, k
	c.next = (c.next + 1) % keyCacheSize
}
