package head

import (
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
)

// Deferred postings (Batch.Defer): replay after a crash inserts every
// record's rows at once, so the store opens with every event present, and
// leaves finding and adding their postings to later. Finding an event's
// posting keys and adding them is most of replay's work past checking
// the events (grouping the keys by term, then a map lookup per distinct
// term of each record, most of them saved-object refs of a row or two,
// each a cache miss), and a restart does not need them before it serves:
// whoever first needs a head's postings (Postings, EachTerm, UnionTerms)
// adds every pending one first, under the head's lock, and the store adds
// them in the background meanwhile, a record at a time (IndexPending).
// So a reader never sees a posting without all of its rows.
//
// Pending rows are found again from their events' binary form, which the
// head keeps: event.IndexDecoder decodes only what the keys need.

// rowRange is a run of rows whose postings are pending.
type rowRange struct{ first, end uint32 }

// deferredPostingMemory is the memory estimate a deferred row is charged
// at insert, for the postings it will add: about what a realistic event's
// eight keys add (postingMemory each, and a share of new terms). Adding
// them corrects the estimate to the real one (OnGrow).
const deferredPostingMemory = 64

// indexChunk is how many pending rows IndexPending adds under one lock.
const indexChunk = 1024

// deferRows queues the postings of rows [first, first+n). h.mu is held.
func (h *Head) deferRows(first uint32, n int) (grew int64) {
	end := first + uint32(n)
	if k := len(h.pending); k > 0 && h.pending[k-1].end == first {
		h.pending[k-1].end = end
	} else {
		h.pending = append(h.pending, rowRange{first, end})
	}
	h.unindexed.Store(true)
	return int64(n) * deferredPostingMemory
}

// OnGrow sets the function told how much the head's memory estimate
// changed when it changes outside InsertBatch (deferred postings being
// added; negative: it shrank). Call it before the head is shared.
func (h *Head) OnGrow(fn func(delta int64)) { h.onGrow = fn }

// addPending adds the postings of up to indexChunk pending rows, if any,
// and reports whether more are left. h.mu is held.
func (h *Head) addPending() (more bool) {
	if len(h.pending) == 0 {
		return false
	}
	r := &h.pending[0]
	end := min(r.end, r.first+indexChunk)
	h.indexRows(r.first, end)
	r.first = end
	if r.first == r.end {
		h.pending = h.pending[1:]
	}
	if len(h.pending) == 0 {
		h.pending, h.scratch = nil, nil
		h.unindexed.Store(false)
		return false
	}
	return true
}

// indexScratch is what finding pending rows' keys reuses.
type indexScratch struct {
	dec   event.IndexDecoder
	terms []index.Term
	batch Batch
}

// indexRows finds and adds the postings of rows [first, end), correcting
// the memory estimate. A row whose event no longer decodes (its bytes were
// checked when inserted, so only a file changed behind the store's back
// does that) gets no postings. h.mu is held.
func (h *Head) indexRows(first, end uint32) {
	if h.scratch == nil {
		h.scratch = new(indexScratch)
	}
	s := h.scratch
	s.batch.Reset()
	for row := first; row < end; row++ {
		s.terms = s.terms[:0]
		if ev, err := s.dec.Decode(h.rows.at(int(row)).Data); err == nil {
			s.terms = index.AppendTerms(s.terms, ev)
		}
		s.batch.Add(0, s.terms)
	}
	grew := -int64(end-first) * deferredPostingMemory
	grew += h.addPostings(&s.batch, first)
	s.batch.Reset()
	clear(s.terms[:cap(s.terms)])
	h.memory += grew
	if h.onGrow != nil {
		h.onGrow(grew)
	}
}

// IndexPending adds the deferred postings (Batch.Defer) of up to 1024
// rows, if any, and reports whether more are left: the store calls it in
// the background until it returns false, taking the head's lock for a
// short while each time, so that readers and the writer wait little.
func (h *Head) IndexPending() (more bool) {
	if !h.unindexed.Load() {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.addPending()
}

// IndexAll adds every deferred posting now.
func (h *Head) IndexAll() {
	if !h.unindexed.Load() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for h.addPending() {
	}
}

// ensureIndexed adds every deferred posting: a reader of postings calls it
// first.
func (h *Head) ensureIndexed() { h.IndexAll() }
