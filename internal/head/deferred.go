package head

import "github.com/eventlogdb/eventlog/index"

// Deferred postings (Batch.Defer): replay after a crash inserts every
// record's rows at once, so the store opens with every event present, and
// leaves adding their postings to later. Inserting postings is half of
// the sequential part of replay (a map lookup per distinct term of each
// record, most of them saved-object refs of a row or two, each a cache
// miss), and a restart does not need them before it serves: whoever
// first needs a head's postings (Postings, EachTerm, UnionTerms) adds
// every pending one first, under the head's lock, and the store adds them
// in the background meanwhile, a record at a time (IndexPending). So a
// reader never sees a posting without all of its rows.
//
// A pending record keeps its posting keys and rows in three slices. Its
// keys' strings may share the record's payload, which the head keeps
// (Batch.Adopt) until it is dropped.

// pendingPostings are one deferred batch's postings: term i holds rows
// rows[ends[i-1]:ends[i]], numbered from the batch's first row, base.
type pendingPostings struct {
	base  uint32
	terms []index.Term
	ends  []uint32
	rows  []uint32
}

// deferPostings queues b's postings, whose first row is base, and returns
// the memory estimate of what they will add: every term is counted as
// new to the head, since that is unknown until they are added, which
// makes the estimate of a replayed head an upper one (it also covers the
// queued copy). h.mu is held.
func (h *Head) deferPostings(b *Batch, base uint32) (grew int64) {
	n := len(b.byTerm)
	p := pendingPostings{base: base, terms: make([]index.Term, n), ends: make([]uint32, n)}
	total := 0
	for i := range n {
		total += len(b.postings[i].rows)
	}
	p.rows = make([]uint32, 0, total)
	for i := range n {
		bp := &b.postings[i]
		p.terms[i] = bp.term
		p.rows = append(p.rows, bp.rows...)
		p.ends[i] = uint32(len(p.rows))
		grew += int64(len(bp.rows))*postingMemory + termMemory + int64(len(bp.term.Value))
	}
	h.pending = append(h.pending, p)
	h.unindexed.Store(true)
	return grew
}

// addPending adds the oldest pending postings, if any, and reports
// whether more are left. h.mu is held.
func (h *Head) addPending() (more bool) {
	if len(h.pending) == 0 {
		return false
	}
	p := h.pending[0]
	h.pending[0] = pendingPostings{}
	h.pending = h.pending[1:]
	start := uint32(0)
	for i, t := range p.terms {
		rows := p.rows[start:p.ends[i]]
		for j := range rows {
			rows[j] += p.base
		}
		h.postings.add(t, rows)
		start = p.ends[i]
	}
	if len(h.pending) == 0 {
		h.pending = nil
		h.unindexed.Store(false)
		return false
	}
	return true
}

// IndexPending adds the oldest record's deferred postings (Batch.Defer), if
// any, and reports whether more are left: the store calls it in the
// background until it returns false, taking the head's lock once a record
// so that readers and the writer wait little.
func (h *Head) IndexPending() (more bool) {
	if !h.unindexed.Load() {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.addPending()
}

// ensureIndexed adds every deferred posting: a reader of postings calls it
// first.
func (h *Head) ensureIndexed() {
	if !h.unindexed.Load() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.addPending() {
	}
}
