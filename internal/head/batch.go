package head

import (
	"iter"
	"time"

	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/internal/match"
)

// Batch is the events of one insert, prepared outside the store's ordering
// lock: each event's @timestamp, and the batch's posting keys grouped by
// term. Grouping is what makes inserts cheap: the head's postings map is
// large (one entry per saved-object ref), so a lookup is a cache miss, and a
// batch of a thousand events holds far fewer distinct terms than event-term
// pairs; each distinct term is looked up once and gets its rows in bulk.
//
// The zero value is an empty batch. A Batch borrows the terms' strings until
// Reset; InsertBatch copies what the head keeps.
type Batch struct {
	// Adopt hands the events' binary forms over to the head: InsertBatch
	// keeps the slices its data yields instead of copying them. Set it
	// only for memory that never changes afterwards (replay's copies of
	// WAL records), which then lives as long as the head.
	Adopt bool
	// Owner, with Adopt, is what keeps the adopted memory valid (a mapping
	// of a WAL file, whose pages are the page cache's): the head keeps it
	// reachable as long as itself, and counts the adopted bytes as mapped
	// (Stats.Mapped), not as its own memory. Reset clears it.
	Owner any
	// Defer leaves the batch's postings to be found and added later, from
	// the events' binary forms (deferred.go): replay sets it, so that the
	// store opens sooner, and adds no posting keys (Add's terms are
	// ignored).
	Defer bool

	ts []int64
	// byField groups the batch's terms by field, each field's by value:
	// an index into postings. The fields are a dozen constants that come
	// in the same order in every event (index.AppendTerms), so finding a
	// term's field is a comparison or two from where the last one was
	// (nextField), and finding the value compares it with the field's
	// few values or hashes it alone (fieldTerms), never a two-string key
	// (which was a tenth of a bulk request's CPU).
	byField   []fieldTerms
	nextField int
	terms     int // distinct terms: postings[:terms] are in use
	postings  []posting
	stored    [][]byte // InsertBatch's scratch: the events' arena copies
	// headIDs is InsertBatch's scratch: the head's terms of each field of
	// byField (postings.idsOf), found once a batch.
	headIDs []map[string]uint32
}

// fieldTerms is one field's terms in a Batch: value to index into
// Batch.postings. Most fields have a handful of values (levels, outcomes,
// providers), found by comparing the value with each of few, which costs
// less than hashing it; a field with more than fewTerms values moves them
// into byValue, and finds them there for the rest of the batch.
type fieldTerms struct {
	field   string
	few     []fewTerm
	many    bool // the terms are in byValue, not few
	byValue map[string]int
}

// fewTerm is a term of a field with few values: its value and index into
// Batch.postings.
type fewTerm struct {
	value string
	i     int
}

// fewTerms is how many values a field holds in fieldTerms.few at most.
const fewTerms = 8

// find returns the index into Batch.postings of the field's term v and
// whether it has one.
func (f *fieldTerms) find(v string) (int, bool) {
	if f.many {
		i, ok := f.byValue[v]
		return i, ok
	}
	for _, t := range f.few {
		if t.value == v {
			return t.i, true
		}
	}
	return 0, false
}

// put records that the field's term v, new, is at index i of
// Batch.postings.
func (f *fieldTerms) put(v string, i int) {
	if f.many {
		f.byValue[v] = i
		return
	}
	if len(f.few) < fewTerms {
		f.few = append(f.few, fewTerm{v, i})
		return
	}
	if f.byValue == nil {
		f.byValue = make(map[string]int)
	}
	for _, t := range f.few {
		f.byValue[t.value] = t.i
	}
	f.byValue[v] = i
	f.many = true
	clear(f.few)
	f.few = f.few[:0]
}

// reset empties the field's terms, keeping its buffers.
func (f *fieldTerms) reset() {
	clear(f.few)
	f.few = f.few[:0]
	if f.many {
		clear(f.byValue)
		f.many = false
	}
}

// posting is one term of a batch with the batch-relative numbers of the
// events holding it, ascending.
type posting struct {
	term  index.Term
	field int // index into Batch.byField
	rows  []uint32
}

// Add appends one event with @timestamp ts (Unix ns) and posting keys terms
// (index.AppendTerms). Its binary form is given to InsertBatch, in order.
func (b *Batch) Add(ts int64, terms []index.Term) {
	row := uint32(len(b.ts))
	b.ts = append(b.ts, ts)
	for _, t := range terms {
		f := b.fieldOf(t.Field)
		ft := &b.byField[f]
		i, ok := ft.find(t.Value)
		if !ok {
			i = b.newPosting(t, f)
			ft.put(t.Value, i)
		}
		if p := &b.postings[i]; len(p.rows) == 0 || p.rows[len(p.rows)-1] != row {
			p.rows = append(p.rows, row)
		}
	}
}

// fieldOf returns the index in byField of field's terms, looking first
// where the last term's field was followed.
func (b *Batch) fieldOf(field string) int {
	n := len(b.byField)
	for k, j := 0, b.nextField; k < n; k, j = k+1, j+1 {
		if j == n {
			j = 0
		}
		if b.byField[j].field == field {
			b.nextField = j + 1
			return j
		}
	}
	b.byField = append(b.byField, fieldTerms{field: field})
	b.nextField = n + 1
	return n
}

// newPosting starts the posting of a term new to the batch, reusing the
// rows slice a previous use of the batch left.
func (b *Batch) newPosting(t index.Term, field int) int {
	i := b.terms
	b.terms++
	if i < len(b.postings) {
		p := &b.postings[i]
		p.term, p.field, p.rows = t, field, p.rows[:0]
	} else {
		b.postings = append(b.postings, posting{term: t, field: field})
	}
	return i
}

// Len is the number of events added.
func (b *Batch) Len() int { return len(b.ts) }

// Reset empties the batch for reuse, dropping its references to the terms'
// values. It keeps their fields' names (the schema's, a dozen constants)
// and maps, to find them again in the next use.
func (b *Batch) Reset() {
	b.ts = b.ts[:0]
	b.Owner, b.Defer = nil, false
	for i := range b.byField {
		b.byField[i].reset()
	}
	b.nextField, b.terms = 0, 0
	for i := range b.postings {
		b.postings[i].term = index.Term{}
	}
	clear(b.stored)
	b.stored = b.stored[:0]
	clear(b.headIDs)
}

// InsertBatch adds b's events with sequence numbers first, first+1, ...;
// data yields each event's binary form, in the order of Add (it is copied;
// anything it yields past b.Len() events is ignored). now is the arrival
// time, which ages the head. It returns how much the head's memory estimate
// grew (Stats.Memory). InsertBatch must be called by one goroutine at a
// time, in sequence order; b stays the caller's (call Reset to reuse it).
func (h *Head) InsertBatch(first uint64, b *Batch, data iter.Seq[[]byte], now time.Time) (grew int64) {
	if b.Len() == 0 {
		return 0
	}
	// Copy into the arena before locking: only the inserting goroutine
	// touches the current chunk, and readers wait less.
	var bytes int64
	for d := range data {
		if len(b.stored) == b.Len() {
			break
		}
		if !b.Adopt {
			d = h.store(d)
		}
		b.stored = append(b.stored, d[:len(d):len(d)])
		bytes += int64(len(d))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	base := uint32(h.rows.len())
	for i, ts := range b.ts {
		h.rows.append(Item{Position: match.Position{TS: ts, Seq: first + uint64(i)}, Row: base + uint32(i), Data: b.stored[i]})
	}
	h.noteRows(b, first, now, bytes)
	grew = bytes + int64(b.Len())*rowMemory
	if b.Adopt && b.Owner != nil {
		h.keepOwner(b.Owner)
		h.mapped += bytes
		grew -= bytes
	}
	if b.Defer {
		grew += h.deferRows(base, b.Len())
	} else {
		grew += h.addPostings(b, base)
	}
	h.memory += grew
	return grew
}

// keepOwner keeps o reachable as long as the head (Batch.Owner).
func (h *Head) keepOwner(o any) {
	if n := len(h.owners); n == 0 || h.owners[n-1] != o {
		h.owners = append(h.owners, o)
	}
}

// noteRows updates the head's bounds and size for a batch just appended.
func (h *Head) noteRows(b *Batch, first uint64, now time.Time, bytes int64) {
	if h.rows.len() == b.Len() {
		h.minTS, h.maxTS, h.firstSeq, h.created = b.ts[0], b.ts[0], first, now
	}
	for _, ts := range b.ts {
		h.minTS, h.maxTS = min(h.minTS, ts), max(h.maxTS, ts)
	}
	h.lastSeq = first + uint64(b.Len()) - 1
	h.updated = now
	h.bytes += bytes
}

// addPostings adds the batch's postings' rows, shifted to head row numbers
// from base (in place: the batch is spent), to their terms' rows
// (postings.addIn), and returns the memory estimate of what it added. The
// head's terms of each of the batch's fields are found once.
func (h *Head) addPostings(b *Batch, base uint32) (grew int64) {
	b.headIDs = b.headIDs[:0]
	for i := range b.byField {
		b.headIDs = append(b.headIDs, h.postings.idsOf(b.byField[i].field))
	}
	for i := range b.terms {
		p := &b.postings[i]
		grew += int64(len(p.rows)) * postingMemory
		for j := range p.rows {
			p.rows[j] += base
		}
		if h.postings.addIn(b.headIDs[p.field], p.term.Value, p.rows) {
			grew += termMemory + int64(len(p.term.Value))
		}
	}
	return grew
}

// The head's memory estimate (Stats.Memory) is its events' bytes plus
// these. They are rough upper figures, not measurements of every
// allocation: what the memory budget needs is the head's size to within a
// small factor, cheaply, at every insert.
const (
	// rowMemory is a row's Item in the rows slice (48 bytes), with room
	// for the slice's growth.
	rowMemory = 64
	// termMemory is a term new to the head: its postings map entry, the
	// roaring.Bitmap and its first container.
	termMemory = 200
	// postingMemory is a row in a term's bitmap: two bytes in an array
	// container, with room for its growth.
	postingMemory = 4
)
