package query

import (
	"fmt"

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
	pl := planner{src: src, timeBound: p.timeBound}
	if bs := src.Blocks(); len(bs) > 0 {
		last := bs[len(bs)-1]
		pl.rows = uint64(last.FirstRow) + uint64(last.Rows)
	}
	var bm *roaring.Bitmap
	exact := true
	if p.filter != nil && p.filter.Root != nil {
		var err error
		if bm, exact, err = pl.node(p.filter.Root); err != nil {
			return nil, false, err
		}
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
		bm = and(bm, s)
	}
	if p.space != "" || len(p.spaces) > 0 {
		if src.Layout() < index.LayoutV2 {
			// No space postings: a ref's space or kibana.space_ids is
			// checked on decoded rows.
			return bm, false, nil
		}
		if p.space != "" {
			s, err := pl.union([]index.Term{{Field: index.SpacesField, Value: p.space}})
			if err != nil {
				return nil, false, err
			}
			bm = and(bm, s)
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
			bm = and(bm, s)
		}
	}
	return bm, exact, nil
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
