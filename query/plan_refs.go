package query

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/query/filter"
)

// refs answers a condition on one saved-object ref — the inside of a
// nested query (nested), or a leaf on a ref property — from the source's
// postings. In index.LayoutV2 each whole-ref posting key names the ref's
// id, type, space and whether it is primary, so a condition on those
// alone is decided per key, exactly, and the rows are the union of the
// keys it holds for; a single condition on rel takes its derived term.
// Older layouts, and conditions combining what keys do not hold (type_id,
// a rel other than primary, whether a namespace is written), are narrowed
// as far as the keys allow and checked on decoded rows.
func (pl *planner) refs(n filter.Node, nested bool) (*roaring.Bitmap, bool, error) {
	if pl.src.Layout() < index.LayoutV2 {
		if !nested {
			return nil, false, nil
		}
		return pl.refsV1(n)
	}
	if bm, ok, err := pl.refTerm(n); ok || err != nil {
		return bm, true, err
	}
	ids, pinned := refIDs(n)
	if !decidedByKey(n) {
		if !pinned {
			return nil, false, nil
		}
		bm, err := pl.refKeys(ids, nil)
		return bm, false, err
	}
	pred, err := filter.CompileRef(n)
	if err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	if !pinned {
		ids = nil
	}
	bm, err := pl.refKeys(ids, pred)
	return bm, true, err
}

// refTerm answers a single condition on a ref's rel from its derived
// term; ok is false for any other condition.
func (pl *planner) refTerm(n filter.Node) (bm *roaring.Bitmap, ok bool, err error) {
	var field string
	switch n := n.(type) {
	case *filter.Match:
		if field = derivedRefField(n.Path.Sub); field != "" {
			bm, err = pl.union([]index.Term{{Field: field, Value: n.Value}})
		}
	case *filter.Prefix:
		if field = derivedRefField(n.Path.Sub); field != "" {
			bm, err = pl.prefix(field, n.Prefix)
		}
	case *filter.Exists:
		if field = derivedRefField(n.Path.Sub); field != "" {
			bm, err = pl.prefix(field, "")
		}
	}
	return bm, field != "", err
}

// derivedRefField is the derived posting field of a ref property, "" when
// it has none.
func derivedRefField(prop string) string {
	if prop == "rel" {
		return index.RefRelField
	}
	return ""
}

// refKeys is the union of the rows of the whole-ref keys of the given ids
// (nil: every key) for which pred holds (nil: every one).
func (pl *planner) refKeys(ids []string, pred func(*event.SavedObject) bool) (*roaring.Bitmap, error) {
	prefixes := []string{""}
	if ids != nil {
		prefixes = prefixes[:0]
		for _, id := range ids {
			prefixes = append(prefixes, index.RefIDPrefix(id))
		}
	}
	var keep func(string) bool
	var bad error
	if pred != nil {
		var r event.SavedObject // one for every key: a new one each escaped to the heap
		keep = func(v string) bool {
			id, typ, space, primary, ok := index.ParseRefKey(v)
			if !ok {
				if bad == nil {
					bad = fmt.Errorf("query: ref posting %q is not a ref key", strings.Clone(v))
				}
				return false
			}
			r = event.SavedObject{ID: id, Type: typ, Namespace: space}
			if primary {
				r.Rel = event.RelPrimary
			}
			return pred(&r)
		}
	}
	parts := make([]*roaring.Bitmap, 0, len(prefixes))
	for _, prefix := range prefixes {
		bm, err := pl.src.UnionTerms(index.RefField, prefix, keep)
		if err = cmp.Or(err, bad); err != nil {
			return nil, err
		}
		parts = append(parts, bm)
	}
	return roaring.FastOr(parts...), nil
}

// decidedByKey reports whether a ref condition depends only on what a
// whole-ref key holds: id, type and space (equality, prefix; exists on id
// and type) and whether rel is "primary".
func decidedByKey(n filter.Node) bool {
	switch n := n.(type) {
	case *filter.And:
		return allDecided(n.Nodes)
	case *filter.Or:
		return allDecided(n.Nodes)
	case *filter.Not:
		return decidedByKey(n.Node)
	case *filter.Match:
		switch n.Path.Sub {
		case "type", "id", "namespace":
			return true
		case "rel":
			return n.Value == event.RelPrimary
		}
	case *filter.Prefix:
		switch n.Path.Sub {
		case "type", "id", "namespace":
			return true
		}
	case *filter.Exists:
		return n.Path.Sub == "type" || n.Path.Sub == "id"
	}
	return false
}

func allDecided(nodes []filter.Node) bool {
	for _, c := range nodes {
		if !decidedByKey(c) {
			return false
		}
	}
	return true
}

// refIDs returns the ids a ref condition limits refs to, when it does: an
// id equality, one in every branch of an or, or one in any part of an and.
func refIDs(n filter.Node) ([]string, bool) {
	switch n := n.(type) {
	case *filter.Match:
		if n.Path.Sub == "id" {
			return []string{n.Value}, true
		}
	case *filter.And:
		for _, c := range n.Nodes {
			if ids, ok := refIDs(c); ok {
				return ids, true
			}
		}
	case *filter.Or:
		var all []string
		for _, c := range n.Nodes {
			ids, ok := refIDs(c)
			if !ok {
				return nil, false
			}
			all = append(all, ids...)
		}
		return all, true
	}
	return nil, false
}

// refsV1 narrows a nested condition on a LayoutV1 source (refs keyed type
// first) by the refs with its type and id when it names both; the rest is
// checked on the decoded refs.
func (pl *planner) refsV1(n filter.Node) (*roaring.Bitmap, bool, error) {
	conds := []filter.Node{n}
	if a, ok := n.(*filter.And); ok {
		conds = a.Nodes
	}
	var typ, id string
	for _, c := range conds {
		if m, ok := c.(*filter.Match); ok {
			switch m.Path.Sub {
			case "type":
				typ = m.Value
			case "id":
				id = m.Value
			}
		}
	}
	if typ == "" || id == "" {
		return nil, false, nil
	}
	bm, err := pl.prefix(index.RefField, index.RefPrefix(typ, id))
	return bm, false, err
}

// isRefProp reports whether p is a property of a saved-object ref
// (kibana.saved_objects.id and the like).
func isRefProp(p filter.Path) bool {
	return p.Field != nil && p.Field.Name == index.RefField && p.Sub != ""
}
