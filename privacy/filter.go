package privacy

import (
	"net/netip"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query/filter"
)

// ParseFilter parses a KQL filter and pseudonymises it (Filter). A nil
// *Pseudonymizer only parses.
func (p *Pseudonymizer) ParseFilter(text string) (*filter.Filter, error) {
	f, err := filter.Parse(text)
	if err != nil || p == nil {
		return f, err
	}
	return p.Filter(f)
}

// FilterText returns the text to store for a filter: text itself when no
// condition changes, else the pseudonymised filter as KQL, so that a
// stored filter (a delete's tombstone, a destination) holds no personal
// value in the clear.
func (p *Pseudonymizer) FilterText(text string) (string, error) {
	f, err := filter.Parse(text)
	if err != nil || p == nil {
		return text, err
	}
	g, err := p.Filter(f)
	if err != nil || g.Root == f.Root {
		return text, err
	}
	return filter.KQL(g.Root), nil
}

// Filter returns f with the value of every equality on a pseudonymised
// field replaced by its pseudonym (f itself when none is), or a
// *filter.Error at a condition that cannot hold on pseudonyms: a prefix or
// wildcard, a range, a CIDR block.
func (p *Pseudonymizer) Filter(f *filter.Filter) (*filter.Filter, error) {
	if p == nil || f.Root == nil {
		return f, nil
	}
	root, err := p.rewrite(f.Root)
	if err != nil || root == f.Root {
		return f, err
	}
	return filter.New(root)
}

// rewrite returns n with its conditions pseudonymised; n itself when
// nothing under it changes.
func (p *Pseudonymizer) rewrite(n filter.Node) (filter.Node, error) {
	switch n := n.(type) {
	case *filter.And:
		nodes, changed, err := p.rewriteAll(n.Nodes)
		if err != nil || !changed {
			return n, err
		}
		return &filter.And{At: n.At, Nodes: nodes}, nil
	case *filter.Or:
		nodes, changed, err := p.rewriteAll(n.Nodes)
		if err != nil || !changed {
			return n, err
		}
		return &filter.Or{At: n.At, Nodes: nodes}, nil
	case *filter.Not:
		c, err := p.rewrite(n.Node)
		if err != nil || c == n.Node {
			return n, err
		}
		return &filter.Not{At: n.At, Node: c}, nil
	case *filter.Match:
		return p.rewriteMatch(n)
	case *filter.Prefix:
		if p.covers(n.Path) {
			return nil, refused(n.At, n.Path, "a prefix or wildcard cannot match pseudonyms; give the whole value")
		}
	case *filter.Range:
		if p.covers(n.Path) {
			return nil, refused(n.At, n.Path, "a range cannot match pseudonyms, which keep no order")
		}
	}
	return n, nil // exists, nested refs (never pseudonymised)
}

func (p *Pseudonymizer) rewriteAll(nodes []filter.Node) ([]filter.Node, bool, error) {
	out := make([]filter.Node, len(nodes))
	changed := false
	for i, c := range nodes {
		r, err := p.rewrite(c)
		if err != nil {
			return nil, false, err
		}
		out[i], changed = r, changed || r != c
	}
	return out, changed, nil
}

func (p *Pseudonymizer) rewriteMatch(n *filter.Match) (filter.Node, error) {
	if !p.covers(n.Path) || event.IsPseudonym(n.Value) {
		return n, nil
	}
	if p.key == nil {
		return nil, refused(n.At, n.Path, "filtering by its value needs the store's pseudonym key")
	}
	f := n.Path.Field
	if f.Kind == event.KindIP {
		if _, err := netip.ParseAddr(n.Value); err != nil { // a CIDR block
			return nil, refused(n.At, n.Path, "a CIDR block cannot match pseudonyms; give one address")
		}
	}
	return &filter.Match{At: n.At, Path: n.Path, Value: p.pseudonym(f, n.Value), Quoted: n.Quoted}, nil
}

func (p *Pseudonymizer) covers(path filter.Path) bool {
	return path.Field != nil && path.Sub == "" && p.byName[path.Field.Name]
}

func refused(at int, path filter.Path, why string) error {
	return &filter.Error{Pos: at, Msg: path.String() + " is pseudonymised: " + why}
}
