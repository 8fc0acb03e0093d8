package head

import (
	"slices"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eventlogdb/eventlog/index"
)

// postings are a head's inverted index: for every term, the rows holding
// it. Inserting is replay's sequential stage and the writer's work under
// the ordering lock, so it is built for inserts. Most terms (saved-object
// refs) are on a row or two, and a roaring bitmap for each cost a chain of
// dependent cache misses per insert (the map's entry, the bitmap, its key
// and container arrays, the container, its values) and five allocations
// per term. Here a term is one map entry giving an index into terms, and
// its rows are a plain ascending slice; a term on many rows moves them
// into a bitmap foldRows at a time, so that a frequent term costs about
// two bytes a row, as before.
//
// Readers build a bitmap of their own from both parts (Postings, EachTerm
// and UnionTerms copied the bitmap before, too).
//
// The terms are found by field, then by value (as Batch groups them): the
// fields are a dozen constants, so finding one is a comparison or a few,
// and the map lookup hashes and compares the value alone, not a
// two-string key; its entries are half the size, too.
type postings struct {
	fields []fieldIDs
	hint   int // room made ahead for refs' terms (newPostings)
	terms  []termRows
}

// fieldIDs are one field's terms: value → index into postings.terms.
type fieldIDs struct {
	field string
	ids   map[string]uint32
}

// termRows are one term's rows: those in bm (nil until the first fold)
// and rows, ascending and above bm's but for deferred rows (appendRows).
type termRows struct {
	bm   *roaring.Bitmap
	rows []uint32
}

// foldRows is how many rows a term collects in its slice before they move
// into its bitmap: a few KiB, only for terms that are on that many rows.
const foldRows = 1024

// newPostings returns empty postings with room for terms terms. The map
// of saved-object refs (index.RefField), which holds most of a head's
// terms, is made with room for all of them; other fields' maps grow.
func newPostings(terms int) postings {
	return postings{hint: terms, terms: make([]termRows, 0, terms)}
}

// idsOf returns the terms of field, made empty if there are none.
func (p *postings) idsOf(field string) map[string]uint32 {
	if f := p.lookupField(field); f != nil {
		return f.ids
	}
	size := 0
	if field == index.RefField {
		size = p.hint
	}
	p.fields = append(p.fields, fieldIDs{field: field, ids: make(map[string]uint32, size)})
	return p.fields[len(p.fields)-1].ids
}

// lookupField returns the terms of field, or nil if it has none.
func (p *postings) lookupField(field string) *fieldIDs {
	for i := range p.fields {
		if p.fields[i].field == field {
			return &p.fields[i]
		}
	}
	return nil
}

// len is the number of terms.
func (p *postings) len() int { return len(p.terms) }

// add appends rows to t's rows and reports whether t was new. They are
// ascending and above every row the term holds, but for rows whose
// postings were deferred (Batch.Defer), added after later rows'. A new term gets its own copy of the
// value, so the head never keeps a caller's buffer alive (field names are
// the field table's constants).
func (p *postings) add(t index.Term, rows []uint32) (isNew bool) {
	return p.addIn(p.idsOf(t.Field), t.Value, rows)
}

// addIn is add for a term of the field whose terms are ids (idsOf).
func (p *postings) addIn(ids map[string]uint32, value string, rows []uint32) (isNew bool) {
	id, ok := ids[value]
	if !ok {
		id = uint32(len(p.terms))
		ids[strings.Clone(value)] = id
		p.terms = append(p.terms, termRows{})
	}
	tr := &p.terms[id]
	if tr.rows == nil && len(rows) <= 2 {
		tr.rows = make([]uint32, 0, 2) // most terms stay on a row or two
	}
	tr.rows = append(tr.rows, rows...)
	if len(tr.rows) >= foldRows {
		if tr.bm == nil {
			tr.bm = roaring.New()
		}
		tr.bm.AddMany(tr.rows)
		tr.rows = tr.rows[:0]
	}
	return !ok
}

// bitmap returns a new bitmap of t's rows, or nil when no row holds t.
func (p *postings) bitmap(t index.Term) *roaring.Bitmap {
	f := p.lookupField(t.Field)
	if f == nil {
		return nil
	}
	id, ok := f.ids[t.Value]
	if !ok {
		return nil
	}
	return p.terms[id].bitmap()
}

// bitmap returns a new bitmap of the rows.
func (tr *termRows) bitmap() *roaring.Bitmap {
	var bm *roaring.Bitmap
	if tr.bm != nil {
		bm = tr.bm.Clone()
	} else {
		bm = roaring.New()
	}
	bm.AddMany(tr.rows)
	return bm
}

// orInto adds the rows to out.
func (tr *termRows) orInto(out *roaring.Bitmap) {
	if tr.bm != nil {
		out.Or(tr.bm)
	}
	out.AddMany(tr.rows)
}

// all yields every term with its rows, in no order.
func (p *postings) all(yield func(index.Term, *termRows) bool) {
	for _, f := range p.fields {
		for v, id := range f.ids {
			if !yield(index.Term{Field: f.field, Value: v}, &p.terms[id]) {
				return
			}
		}
	}
}

// appendRows appends the rows to dst, ascending. They are held in
// ascending order but for rows whose postings were deferred (Batch.Defer)
// and added after later rows' (a head that replay began and the writer
// went on filling), which are sorted here.
func (tr *termRows) appendRows(dst []uint32) []uint32 {
	start := len(dst)
	if tr.bm != nil {
		it := tr.bm.ManyIterator()
		for {
			n := len(dst)
			dst = slices.Grow(dst, 256)[:n+256]
			k := it.NextMany(dst[n:])
			dst = dst[:n+k]
			if k == 0 {
				break
			}
		}
	}
	dst = append(dst, tr.rows...)
	if !slices.IsSorted(dst[start:]) {
		slices.Sort(dst[start:])
	}
	return dst
}

// EachPosting calls fn with every term of the head and its rows (row
// numbers, Item.Row, ascending; valid during the call only), in no order,
// and reports true; or, when some rows' postings are deferred (Batch.Defer,
// IndexAll adds them), calls fn for nothing and reports false. Sealing
// takes a segment's postings from here rather than finding every row's
// terms again; the head must take no more inserts.
func (h *Head) EachPosting(fn func(t index.Term, rows []uint32)) bool {
	if h.unindexed.Load() {
		return false
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	var rows []uint32
	for t, tr := range h.postings.all {
		rows = tr.appendRows(rows[:0])
		fn(t, rows)
	}
	return true
}
