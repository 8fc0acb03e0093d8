package filter

import (
	"slices"

	"github.com/eventlogdb/eventlog/event"
)

// Filter is a parsed filter, ready to evaluate. It is immutable after Parse
// or New and safe for concurrent use.
type Filter struct {
	// Root is the syntax tree; nil matches every event. Do not change it:
	// Match runs the form compiled from it by Parse or New. To evaluate a
	// rewritten tree, pass it to New.
	Root Node

	fields []*event.Field
	match  func(*event.Event) bool
}

// New compiles a syntax tree, as Parse returns or as built or rewritten by a
// caller, into a Filter. It checks what Parse checks of the leaves (known
// fields and ref properties, values that parse for the field's kind, ranges
// only on number and date fields, prefixes only on keyword and text fields)
// and returns an *Error at the offending node's Pos. A nil root gives the
// match-all Filter.
func New(root Node) (*Filter, error) {
	if root == nil {
		return &Filter{}, nil
	}
	fn, err := compile(root, 0, 0)
	if err != nil {
		return nil, err
	}
	return &Filter{Root: root, fields: collectFields(root), match: fn}, nil
}

// Match reports whether ev satisfies the filter. A nil Filter or one with a
// nil Root matches every event. Match reads only the fields Fields returns.
func (f *Filter) Match(ev *event.Event) bool {
	if f == nil || f.Root == nil {
		return true
	}
	if ev == nil {
		return false
	}
	if f.match == nil {
		// A Filter literal, not built by Parse or New: compile on the
		// fly (slow, but correct); a tree New rejects matches nothing.
		g, err := New(f.Root)
		if err != nil {
			return false
		}
		return g.match(ev)
	}
	return f.match(ev)
}

// Fields returns every event field the filter reads, deduplicated, in
// event.Fields() order. Callers may decode only these before calling Match.
// The slice is the caller's; the Fields are shared and must not be modified.
func (f *Filter) Fields() []*event.Field {
	if f == nil || f.Root == nil {
		return nil
	}
	if f.match == nil {
		// A Filter literal: only a tree New accepts is safe to walk.
		g, err := New(f.Root)
		if err != nil {
			return nil
		}
		return g.fields
	}
	return slices.Clone(f.fields)
}

// KeptPaths returns the names the filter reads as kept unknown fields
// (names outside the schema), deduplicated, in the order they appear.
// Callers that erase what a filter matches refuse them unless told they
// are meant: a misspelt schema field is such a name too, and matches
// nothing — or, under not, everything.
func (f *Filter) KeptPaths() []string {
	if f == nil || f.Root == nil {
		return nil
	}
	var paths []string
	walk(f.Root, func(p Path) {
		if p.Field == extraField && p.Field != nil && !slices.Contains(paths, p.Sub) {
			paths = append(paths, p.Sub)
		}
	})
	return paths
}

// String returns the canonical s-expression of the tree, "" for the
// match-all Filter. Parses of the same filter written differently (spacing,
// keyword case, parentheses, field:(a or b) for field:a or field:b) give the
// same string.
func (f *Filter) String() string {
	if f == nil || f.Root == nil {
		return ""
	}
	return f.Root.String()
}

// collectFields lists the fields the tree reads, in event.Fields() order.
func collectFields(root Node) []*event.Field {
	used := map[string]bool{}
	walk(root, func(p Path) {
		if p.Field != nil {
			used[p.Field.Name] = true
		}
	})
	var out []*event.Field
	all := event.Fields()
	for i := range all {
		if used[all[i].Name] {
			out = append(out, &all[i])
		}
	}
	return out
}

// walk calls fn with the Path of every leaf and nested query under n, a tree
// compile accepted.
func walk(n Node, fn func(Path)) {
	switch n := n.(type) {
	case *And:
		for _, c := range n.Nodes {
			walk(c, fn)
		}
	case *Or:
		for _, c := range n.Nodes {
			walk(c, fn)
		}
	case *Not:
		walk(n.Node, fn)
	case *Nested:
		fn(n.Path)
		walk(n.Node, fn)
	case *Match:
		fn(n.Path)
	case *Prefix:
		fn(n.Path)
	case *Exists:
		fn(n.Path)
	case *Range:
		fn(n.Path)
	}
}
