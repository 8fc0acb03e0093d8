package segment

import (
	"container/list"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/memory"
)

// DocCache keeps whole documents that sparse reads decoded, so that the
// next read of the same rows skips their blocks. A block is the unit of
// decompression: a read of one row of a block decompresses every column
// of its 8,192 rows (about 1 ms of CPU), so a query for the few events of
// one saved object, or for the newest N of a condition, costs about that
// per row, every time it runs. Kibana asks such queries again and again
// (a saved object's page, a rule's history). The documents are kept in
// their binary form (event.AppendBinary, a few hundred bytes each) and
// decoded from it at each hit (a few microseconds), so a hit hands out
// an event of the caller's own, as a decode from the columns does.
//
// Only sparse reads fill it: a block read for at most DocCacheRows rows.
// A wide read (an export, a page of thousands) decodes the whole block
// for its rows anyway, costs little per row, and would only push out the
// rows that cost the most to decode again.
//
// The cache charges each document (its bytes and docEntryOverhead) to
// acct while it keeps it, keeps at most max bytes, and drops the least
// recently used first, also when acct refuses a charge. Segments are
// immutable, so an entry is never stale; a Reader's entries are dropped
// when it closes (its rows may be gone: compacted, erased). Safe for
// concurrent use.
type DocCache struct {
	acct *memory.Account // nil: uncounted
	max  int64
	mu   sync.Mutex
	m    map[docKey]*list.Element
	lru  list.List // *docEntry, most recently used at the front
	held int64
	// hits and misses count lookups, for tests and figures.
	hits, misses atomic.Int64
}

// DocCacheRows is the most rows of one block a read may ask for and still
// have them cached (see DocCache).
const DocCacheRows = 128

// docEntryOverhead is what an entry costs beside its document: the map's
// slot, the list element and the entry.
const docEntryOverhead = 128

type docKey struct {
	reader uint64 // Reader.id
	row    uint32
}

type docEntry struct {
	key docKey
	doc []byte // never modified once kept
	// ts and seq are the row's keys: a query places the rows of a sparse
	// read with them (RowKeys) before it decodes any.
	ts  int64
	seq uint64
}

// NewDocCache returns a cache of at most max bytes (max > 0) charging
// acct (nil: uncounted).
func NewDocCache(acct *memory.Account, max int64) *DocCache {
	return &DocCache{acct: acct, max: max, m: map[docKey]*list.Element{}}
}

// Held returns the bytes the cache holds now, overheads included.
func (c *DocCache) Held() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.held
}

// Hits and Misses count the rows looked up and found, and not found.
func (c *DocCache) Hits() int64   { return c.hits.Load() }
func (c *DocCache) Misses() int64 { return c.misses.Load() }

// get returns the kept entry of k, nil if none.
func (c *DocCache) get(k docKey) *docEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.m[k]
	if !ok {
		c.misses.Add(1)
		return nil
	}
	c.hits.Add(1)
	c.lru.MoveToFront(el)
	return el.Value.(*docEntry)
}

// put keeps doc, with its row's keys, for k, if it fits, dropping the
// least recently used documents to make room.
func (c *DocCache) put(k docKey, doc []byte, ts int64, seq uint64) {
	n := int64(len(doc)) + docEntryOverhead
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; ok || n > c.max {
		return
	}
	for c.held+n > c.max {
		c.dropLocked(c.lru.Back())
	}
	for !c.acct.TryCharge(n) {
		if c.lru.Len() == 0 {
			return // the budget has no room even for this one
		}
		c.dropLocked(c.lru.Back())
	}
	c.m[k] = c.lru.PushFront(&docEntry{key: k, doc: doc, ts: ts, seq: seq})
	c.held += n
}

// dropReader forgets every document of reader id (Reader.Close).
func (c *DocCache) dropReader(id uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for el := c.lru.Front(); el != nil; {
		next := el.Next()
		if el.Value.(*docEntry).key.reader == id {
			c.dropLocked(el)
		}
		el = next
	}
}

// dropLocked forgets the entry of el; called with mu held.
func (c *DocCache) dropLocked(el *list.Element) {
	e := c.lru.Remove(el).(*docEntry)
	delete(c.m, e.key)
	n := int64(len(e.doc)) + docEntryOverhead
	c.acct.Release(n)
	c.held -= n
}

// readerIDs numbers Readers for their DocCache entries.
var readerIDs atomic.Uint64

// decodeDocs decodes every field of the rows want (increasing, within the
// block) of block bi into out, taking the rows r.docs keeps from it and
// keeping there the rows a sparse read decodes.
func (r *Reader) decodeDocs(bi int, want []int, out []*event.Event) error {
	c := r.docs
	if c == nil || len(want) > DocCacheRows {
		return r.decodeWhole(bi, want, out)
	}
	first := r.blocks[bi].FirstRow
	var missWant []int
	var missOut []*event.Event
	for i, row := range want {
		e := c.get(docKey{r.id, first + uint32(row)})
		if e == nil {
			missWant, missOut = append(missWant, row), append(missOut, out[i])
			continue
		}
		ev, err := event.DecodeBinaryShared(e.doc)
		if err != nil { // kept from a decode that succeeded: a bug, not the file's damage
			return fmt.Errorf("segment %s: block %d row %d: cached document: %w", r.path, bi, row, err)
		}
		*out[i] = ev
	}
	if len(missWant) == 0 {
		return nil
	}
	k, err := r.keys(bi)
	if err != nil {
		return err
	}
	if err := r.decodeRows(bi, k, missWant, missOut); err != nil {
		return err
	}
	for i, row := range missWant {
		c.put(docKey{r.id, first + uint32(row)}, event.AppendBinary(nil, missOut[i]), k.ts[row], k.seq[row])
	}
	return nil
}

// decodeWhole decodes every field of the rows want of block bi into out,
// from the block's columns.
func (r *Reader) decodeWhole(bi int, want []int, out []*event.Event) error {
	k, err := r.keys(bi)
	if err != nil {
		return err
	}
	return r.decodeRows(bi, k, want, out)
}

// RowKeys returns the @timestamp (Unix ns) and sequence number of the rows
// want (increasing, within the block) of block bi when the document cache
// holds every one of them, so that a query places a sparse read's rows
// without decoding the block's keys (query.RowKeyer); ok is false when it
// does not.
func (r *Reader) RowKeys(bi int, want []int) (ts []int64, seq []uint64, ok bool) {
	if r.docs == nil || r.live() != nil || bi < 0 || bi >= len(r.blocks) {
		return nil, nil, false
	}
	b := &r.blocks[bi]
	ts, seq = make([]int64, len(want)), make([]uint64, len(want))
	for i, row := range want {
		if row < 0 || row >= int(b.Rows) {
			return nil, nil, false
		}
		e := r.docs.peek(docKey{r.id, b.FirstRow + uint32(row)})
		if e == nil {
			return nil, nil, false
		}
		ts[i], seq[i] = e.ts, e.seq
	}
	return ts, seq, true
}

// peek returns the kept entry of k, nil if none, without counting a hit
// or a miss: RowKeys asks before the read that decodes.
func (c *DocCache) peek(k docKey) *docEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.m[k]; ok {
		c.lru.MoveToFront(el)
		return el.Value.(*docEntry)
	}
	return nil
}
