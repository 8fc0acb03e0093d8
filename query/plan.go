package query

import (
	"fmt"
	"math/bits"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/query/filter"
)

// planner turns the parts of a filter that postings answer into bitmap
// operations over one source's rows. A nil bitmap stands for every row;
// exact reports that every row of the bitmap matches, so nothing needs to be
// decoded to confirm it.
type planner struct {
	src  Source
	rows uint64 // the source's row count
	// timeBound holds the @timestamp ranges already enforced by the
	// query's time bounds.
	timeBound map[filter.Node]bool
}

// candidates returns the rows of src that can match the query (nil: all)
// and whether they all do.
func (p *plan) candidates(src Source) (*roaring.Bitmap, bool, error) {
	parts, exact, err := p.conjuncts(src)
	if err != nil {
		return nil, false, err
	}
	return intersect(parts), exact, nil
}

// conjuncts returns the sets of rows of src whose intersection is
// candidates' (none: every row), without intersecting them: a query that
// needs only their count can take it from the sets (andCardinality), and
// one whose page reaches only a few sources intersects just theirs. The
// sets may be the source's own and must not be modified.
func (p *plan) conjuncts(src Source) ([]*roaring.Bitmap, bool, error) {
	pl := planner{src: src, timeBound: p.timeBound}
	if bs := src.Blocks(); len(bs) > 0 {
		last := bs[len(bs)-1]
		pl.rows = uint64(last.FirstRow) + uint64(last.Rows)
	}
	var parts []*roaring.Bitmap
	add := func(bm *roaring.Bitmap) {
		if bm != nil {
			parts = append(parts, bm)
		}
	}
	exact := true
	if p.filter != nil && p.filter.Root != nil {
		bm, e, err := pl.node(p.filter.Root)
		if err != nil {
			return nil, false, err
		}
		add(bm)
		exact = e
	}
	if len(p.scope) > 0 {
		terms := make([]index.Term, len(p.scope))
		for i, r := range p.scope {
			terms[i] = r.term(src.Layout())
		}
		s, err := pl.union(terms)
		if err != nil {
			return nil, false, err
		}
		add(s)
	}
	if p.space == "" && len(p.spaces) == 0 {
		return parts, exact, nil
	}
	if src.Layout() < index.LayoutV2 {
		// No space postings: a ref's space or kibana.space_ids is
		// checked on decoded rows.
		return parts, false, nil
	}
	if p.space != "" {
		s, err := pl.union([]index.Term{{Field: index.SpacesField, Value: p.space}})
		if err != nil {
			return nil, false, err
		}
		add(s)
	}
	if len(p.spaces) > 0 { // any of them
		terms := make([]index.Term, len(p.spaces))
		for i, sp := range p.spaces {
			terms[i] = index.Term{Field: index.SpacesField, Value: sp}
		}
		s, err := pl.union(terms)
		if err != nil {
			return nil, false, err
		}
		add(s)
	}
	return parts, exact, nil
}

// intersect returns the rows in every one of parts (nil: none given, every
// row).
func intersect(parts []*roaring.Bitmap) *roaring.Bitmap {
	var bm *roaring.Bitmap
	for _, p := range parts {
		bm = and(bm, p)
	}
	return bm
}

// andCardinality counts the rows in every one of parts (at least one).
// The last is counted against the intersection of the others, for the
// usual two parts the first part itself, which is the only one built.
// dense is scratch for denseAndCardinality, grown as needed.
func andCardinality(parts []*roaring.Bitmap, dense *[]uint64) uint64 {
	if len(parts) == 1 {
		return parts[0].GetCardinality()
	}
	n := len(parts)
	a, b := intersect(parts[:n-1]), parts[n-1]
	ca, cb := a.GetCardinality(), b.GetCardinality()
	if words := min(a.DenseSize(), b.DenseSize()); words > 0 && words <= (ca+cb)/denseRowsPerWord {
		return denseAndCardinality(a, b, dense)
	}
	return a.AndCardinality(b)
}

// denseRowsPerWord is how many rows the two sets must hold together for
// each 64-row word of the shorter one's span before andCardinality counts
// them as plain bit sets. Roaring intersects two array containers (a
// segment's failures and a small space's events: a few thousand rows of
// its 33,000 each) by merging them, a mispredicted branch a row; setting
// their bits in two zeroed bit sets and counting the AND of the words
// costs a few times less.
const denseRowsPerWord = 2

// denseAndCardinality counts the rows of both a and b by writing each
// into a bit set (in *scratch) and counting the bits of their AND.
func denseAndCardinality(a, b *roaring.Bitmap, scratch *[]uint64) uint64 {
	na, nb := int(a.DenseSize()), int(b.DenseSize())
	if cap(*scratch) < na+nb {
		*scratch = make([]uint64, na+nb)
	}
	buf := (*scratch)[:na+nb]
	clear(buf)
	da, db := buf[:na], buf[na:]
	a.WriteDenseTo(da)
	b.WriteDenseTo(db)
	var n int
	for i := range min(na, nb) {
		n += bits.OnesCount64(da[i] & db[i])
	}
	return uint64(n)
}

func (pl *planner) node(n filter.Node) (*roaring.Bitmap, bool, error) {
	switch n := n.(type) {
	case *filter.Match:
		if isRefProp(n.Path) {
			return pl.refs(n, false)
		}
		if !indexed(n.Path) {
			return nil, false, nil
		}
		bm, err := pl.src.Postings(index.Term{Field: n.Path.Field.Name, Value: n.Value})
		if bm == nil {
			bm = roaring.New()
		}
		return bm, true, err
	case *filter.Prefix:
		if isRefProp(n.Path) {
			return pl.refs(n, false)
		}
		if !indexed(n.Path) {
			return nil, false, nil
		}
		bm, err := pl.prefix(n.Path.Field.Name, n.Prefix)
		return bm, true, err
	case *filter.Exists:
		if isRefProp(n.Path) {
			return pl.refs(n, false)
		}
		if !indexed(n.Path) {
			return nil, false, nil
		}
		bm, err := pl.prefix(n.Path.Field.Name, "")
		return bm, true, err
	case *filter.Range:
		return nil, pl.timeBound[n], nil
	case *filter.Nested:
		return pl.refs(n.Node, true)
	case *filter.And:
		return pl.and(n.Nodes)
	case *filter.Or:
		return pl.or(n.Nodes)
	case *filter.Not:
		bm, exact, err := pl.node(n.Node)
		if err != nil || !exact {
			return nil, false, err
		}
		if bm == nil {
			return roaring.New(), true, nil
		}
		return roaring.Flip(bm, 0, pl.rows), true, nil
	}
	return nil, false, fmt.Errorf("query: unknown filter node %T", n)
}

func (pl *planner) and(nodes []filter.Node) (*roaring.Bitmap, bool, error) {
	var bm *roaring.Bitmap
	exact := true
	for _, c := range nodes {
		cb, ce, err := pl.node(c)
		if err != nil {
			return nil, false, err
		}
		bm, exact = and(bm, cb), exact && ce
		if bm != nil && bm.IsEmpty() {
			return bm, true, nil
		}
	}
	return bm, exact, nil
}

func (pl *planner) or(nodes []filter.Node) (*roaring.Bitmap, bool, error) {
	var parts []*roaring.Bitmap
	exact := true
	for _, c := range nodes {
		cb, ce, err := pl.node(c)
		if err != nil {
			return nil, false, err
		}
		if cb == nil {
			if ce {
				return nil, true, nil // one branch matches every row
			}
			return nil, false, nil
		}
		parts, exact = append(parts, cb), exact && ce
	}
	return roaring.FastOr(parts...), exact, nil
}

// prefix is the union of the rows of every value of field starting with
// prefix.
func (pl *planner) prefix(field, prefix string) (*roaring.Bitmap, error) {
	return pl.src.UnionTerms(field, prefix, nil)
}

// union is the rows holding any of terms.
func (pl *planner) union(terms []index.Term) (*roaring.Bitmap, error) {
	var parts []*roaring.Bitmap
	for _, t := range terms {
		bm, err := pl.src.Postings(t)
		if err != nil {
			return nil, err
		}
		if bm != nil {
			parts = append(parts, bm)
		}
	}
	if len(parts) == 1 {
		return parts[0], nil // FastOr would copy it
	}
	return roaring.FastOr(parts...), nil
}

// and intersects two candidate sets, nil standing for every row.
func and(a, b *roaring.Bitmap) *roaring.Bitmap {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return roaring.And(a, b)
}

// indexed reports whether the inverted index answers equality on p exactly:
// a keyword field with postings (message is text, refs are matched whole).
func indexed(p filter.Path) bool {
	return p.Field != nil && p.Field.Indexed && p.Sub == ""
}
