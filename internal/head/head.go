// Package head is the in-memory part of the store: every event appended since
// the last seal, ordered by (@timestamp, sequence) in a B-tree, with roaring
// postings on the indexed fields so equality terms and saved-object refs are
// answered by bitmap operations.
//
// Events are kept in their binary form (event.AppendBinary) in append-only
// arena chunks, so the head costs little more than the encoded bytes and a
// row's bytes never move once written. Rows are numbered in arrival order,
// which is sequence order: the write path inserts under the WAL's ordering
// lock.
//
// Visibility: Insert makes rows present but not visible; Publish(seq) makes
// every row with a sequence number up to seq visible. A Snapshot shows exactly
// the rows published when it was taken, so readers never see an event before
// every lower-numbered one.
package head

import (
	"cmp"
	"sync"
	"sync/atomic"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/google/btree"

	"github.com/eventlogdb/eventlog/event"
)

// chunkSize is the size of one arena chunk. Events larger than a chunk get a
// chunk of their own.
const chunkSize = 1 << 20

// btreeDegree was measured best for inserts and scans (DEPENDENCIES.md).
const btreeDegree = 32

// Item is one row as the B-tree orders it. Data is the event's binary form;
// it is immutable and stays valid as long as the head is referenced.
type Item struct {
	TS   int64
	Seq  uint64
	Row  uint32
	Data []byte
}

func less(a, b Item) bool { return Compare(a, b) < 0 }

// Compare orders items by (@timestamp, sequence).
func Compare(a, b Item) int {
	if c := cmp.Compare(a.TS, b.TS); c != 0 {
		return c
	}
	return cmp.Compare(a.Seq, b.Seq)
}

// Head is the mutable in-memory segment. Insert must be called by one
// goroutine at a time, in sequence order; everything else is safe for
// concurrent use.
type Head struct {
	mu       sync.RWMutex
	tree     *btree.BTreeG[Item]
	rows     []Item // by row number
	postings map[Term]*roaring.Bitmap
	chunk    []byte
	bytes    int64 // encoded bytes held
	minTS    int64
	maxTS    int64
	firstSeq uint64

	published atomic.Uint64
}

// New returns an empty head.
func New() *Head {
	return &Head{
		tree:     btree.NewG[Item](btreeDegree, less),
		postings: make(map[Term]*roaring.Bitmap),
	}
}

// Insert adds one event with sequence number seq and binary form data (which
// is copied). ev is the decoded event, from which the postings are taken.
func (h *Head) Insert(seq uint64, ev *event.Event, data []byte) {
	stored := h.store(data)
	h.mu.Lock()
	defer h.mu.Unlock()
	row := uint32(len(h.rows))
	it := Item{TS: ev.Timestamp.UnixNano(), Seq: seq, Row: row, Data: stored}
	h.rows = append(h.rows, it)
	h.tree.ReplaceOrInsert(it)
	if row == 0 {
		h.minTS, h.maxTS, h.firstSeq = it.TS, it.TS, seq
	}
	h.minTS = min(h.minTS, it.TS)
	h.maxTS = max(h.maxTS, it.TS)
	h.bytes += int64(len(data))
	for _, t := range Terms(ev) {
		bm := h.postings[t]
		if bm == nil {
			bm = roaring.New()
			h.postings[t] = bm
		}
		bm.Add(row)
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

// Publish makes every inserted row with a sequence number up to seq visible
// to snapshots taken from now on. Publishing a lower seq than before is a
// no-op, so concurrent appenders may publish in any order.
func (h *Head) Publish(seq uint64) {
	for {
		cur := h.published.Load()
		if seq <= cur || h.published.CompareAndSwap(cur, seq) {
			return
		}
	}
}

// Published returns the highest published sequence number.
func (h *Head) Published() uint64 { return h.published.Load() }

// Stats describes the head's contents.
type Stats struct {
	Rows     int
	Bytes    int64
	MinTS    int64
	MaxTS    int64
	FirstSeq uint64
	Terms    int
}

// Stats returns the head's size and bounds.
func (h *Head) Stats() Stats {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return Stats{Rows: len(h.rows), Bytes: h.bytes, MinTS: h.minTS, MaxTS: h.maxTS, FirstSeq: h.firstSeq, Terms: len(h.postings)}
}
