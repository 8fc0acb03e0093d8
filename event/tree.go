package event

import "strings"

// node is one key of the JSON document: an object built from the dotted
// prefixes of the field names ("event", "kibana.alert.rule") or a leaf field.
// The tree is built once from the field table and only read afterwards.
type node struct {
	// idx is unique per node; the decoder marks seen nodes in a bitset to
	// find duplicate keys.
	idx      int
	path     string // dotted path; "" for the root
	field    *Field // leaf field; nil for objects
	slot     slot   // where the leaf field lives in Event
	children map[string]*node
	// openKey is `"name":{` (objects) or `"name":` (leaves), for AppendJSON.
	openKey string
	parent  *node
	depth   int
}

// schema is the field table seen as a tree, plus per-field encoding layout.
type schema struct {
	root  *node
	nodes int
	// leaf[i] is the node of fields[i].
	leaf []*node
	// posByID maps a wire id to the index in fields (-1 if none).
	posByID [256]int
}

var tree = buildSchema(fields)

func buildSchema(fs []Field) *schema {
	s := &schema{root: &node{children: map[string]*node{}}}
	s.nodes = 1
	for i := range s.posByID {
		s.posByID[i] = -1
	}
	for i := range fs {
		f := &fs[i]
		s.posByID[f.ID] = i
		n := s.root
		segs := strings.Split(f.Name, ".")
		for j, seg := range segs {
			child := n.children[seg]
			if child == nil {
				child = &node{idx: s.nodes, path: strings.Join(segs[:j+1], "."), parent: n, depth: j + 1}
				s.nodes++
				if j == len(segs)-1 {
					child.field = f
					child.slot = slots[i]
					child.openKey = `"` + seg + `":`
				} else {
					child.children = map[string]*node{}
					child.openKey = `"` + seg + `":{`
				}
				n.children[seg] = child
			}
			n = child
		}
		s.leaf = append(s.leaf, n)
	}
	return s
}

// childPath returns the dotted path of key inside object n.
func childPath(n *node, key string) string {
	if n.path == "" {
		return key
	}
	return n.path + "." + key
}
