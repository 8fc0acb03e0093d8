// Package head is the in-memory part of the store: every event appended since
// the last seal, in arrival order, with postings on the indexed fields
// (postings.go: a row list per term, folded into roaring bitmaps as it
// grows) so equality terms and saved-object refs are answered by bitmap
// operations. Replay may leave a batch's postings to be added later
// (Batch.Defer, deferred.go); readers of postings add them first.
// Sealing asks for the rows in (@timestamp, sequence) order (Sorted), which is
// a sort of nearly sorted rows then, not a tree kept on every insert: replay
// and ingest insert far more often than heads are sealed. It takes the
// segments' postings from the head's, by term (EachPosting), rather than
// finding every row's terms again.
//
// Events are kept in their binary form (event.AppendBinary) in append-only
// arena chunks, or where replay found them (Batch.Adopt: a mapped WAL
// file, kept mapped as long as the head, Batch.Owner), so the head costs
// little more than the encoded bytes and a row's bytes never move once
// written. Rows are numbered in arrival order,
// which is sequence order: the write path inserts under the WAL's ordering
// lock.
//
// Visibility: InsertBatch makes rows present but not visible; Publish(w, seq) makes
// every row with a sequence number up to seq visible. A Snapshot shows exactly
// the rows published when it was taken, so readers never see an event before
// every lower-numbered one.
package head

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventlogdb/eventlog/internal/match"
)

// chunkSize is the size of one arena chunk. Events larger than a chunk get a
// chunk of their own.
const chunkSize = 1 << 20

// Item is one row. Data is the event's binary form; it is immutable and
// stays valid as long as the head is referenced.
type Item struct {
	match.Position
	Row  uint32
	Data []byte
}

// Head is the mutable in-memory segment. InsertBatch must be called by one
// goroutine at a time, in sequence order; everything else is safe for
// concurrent use.
type Head struct {
	mu       sync.RWMutex
	rows     rowPages // by row number
	postings postings
	chunk    []byte
	bytes    int64 // encoded bytes held
	mapped   int64 // of which in memory Batch.Owner keeps (Stats.Mapped)
	memory   int64 // estimate of everything held but mapped bytes (Stats.Memory)
	// owners keep adopted memory valid (Batch.Owner) as long as the head,
	// which is why an Item's Data is only valid while the head is
	// reachable (a Snapshot holds it).
	owners []any
	// pending are the rows whose postings are not yet added (Batch.Defer),
	// oldest first; unindexed says there are some, for readers' fast
	// path; scratch is what adding them reuses; onGrow is told of the
	// memory estimate's changes when they are added (OnGrow).
	pending   []rowRange
	unindexed atomic.Bool
	scratch   *indexScratch
	onGrow    func(int64)
	minTS     int64
	maxTS     int64
	firstSeq  uint64

	created time.Time // when the first row arrived
	updated time.Time // when the last row arrived
	lastSeq uint64

	// published is shared by every head of a store: rows with a sequence
	// number up to it are visible.
	published *atomic.Uint64
}

// New returns an empty head whose visibility follows the shared watermark
// published (see Publish).
func New(published *atomic.Uint64) *Head { return NewSized(published, 0, 0) }

// NewSized is New with room for rows rows and terms posting keys made
// ahead: a head that replaces a full one of that size then fills without
// growing its page table and rehashing its postings map at every doubling,
// which costs the writer while it holds the ordering lock.
func NewSized(published *atomic.Uint64, rows, terms int) *Head {
	return &Head{
		rows:      rowPages{pages: make([][]Item, 0, (rows+rowPageSize-1)/rowPageSize)},
		postings:  newPostings(terms),
		published: published,
	}
}

// store copies data into the arena. Only the inserting goroutine touches the
// current chunk, so it needs no lock; readers only see the returned slice.
func (h *Head) store(data []byte) []byte {
	if len(data) > chunkSize/4 {
		return append([]byte(nil), data...)
	}
	if len(h.chunk)+len(data) > cap(h.chunk) {
		h.chunk = make([]byte, 0, chunkSize)
	}
	start := len(h.chunk)
	h.chunk = append(h.chunk, data...)
	return h.chunk[start:len(h.chunk):len(h.chunk)]
}

// Publish raises the watermark w to seq, making every inserted row with a
// sequence number up to seq visible to snapshots taken from now on.
// Publishing a lower seq than before is a no-op, so concurrent appenders may
// publish in any order.
func Publish(w *atomic.Uint64, seq uint64) {
	for {
		cur := w.Load()
		if seq <= cur || w.CompareAndSwap(cur, seq) {
			return
		}
	}
}

// Stats describes the head's contents.
type Stats struct {
	Rows  int
	Bytes int64
	// Mapped is the part of Bytes in mapped files' pages (Batch.Owner):
	// page cache, which the kernel may reclaim, not the process's own.
	Mapped int64
	// Memory estimates the head's own footprint: Bytes less Mapped, the
	// rows and the postings (see rowMemory, termMemory and postingMemory).
	Memory   int64
	MinTS    int64
	MaxTS    int64
	FirstSeq uint64
	LastSeq  uint64
	// Terms is the number of posting keys added (deferred ones are not,
	// until they are added: Batch.Defer).
	Terms int
	// Created is when the first row arrived, Updated when the last did
	// (both zero for an empty head).
	Created time.Time
	Updated time.Time
}

// Stats returns the head's size and bounds.
func (h *Head) Stats() Stats {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return Stats{Rows: h.rows.len(), Bytes: h.bytes, Mapped: h.mapped, Memory: h.memory, MinTS: h.minTS, MaxTS: h.maxTS, FirstSeq: h.firstSeq, LastSeq: h.lastSeq, Terms: h.postings.len(), Created: h.created, Updated: h.updated}
}
