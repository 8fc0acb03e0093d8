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
	// name is the node's key in its parent; table finds a child by its key
	// with one probe (see child), nil when keyHash collides for the
	// children, whose map then serves.
	name  string
	table []*node
	// openKey is `"name":{` (objects) or `"name":` (leaves), for AppendJSON.
	openKey string
	// key is the node's name as the decoder guesses it (guess.go).
	key    keyColon
	parent *node
	depth  int
	// last is the largest field-table position of a leaf at or below the
	// node: AppendJSON writes an object's kept fields once past it.
	last int
}

// schema is the field table seen as a tree, plus per-field encoding layout.
type schema struct {
	root  *node
	nodes int
	// leaf[i] is the node of fields[i].
	leaf []*node
	// posByID maps a wire id to the index in fields (-1 if none).
	posByID [256]int
	// objects maps the dotted path of each object ("" for the root) to
	// its node: the places kept unknown fields can hang from.
	objects map[string]*node
}

var tree = buildSchema(fields)

func buildSchema(fs []Field) *schema {
	s := &schema{root: &node{children: map[string]*node{}}, objects: map[string]*node{}}
	s.objects[""] = s.root
	s.nodes = 1
	for i := range s.posByID {
		s.posByID[i] = -1
	}
	for i := range fs {
		f := &fs[i]
		s.posByID[f.ID] = i
		if f.Kind == KindExtra { // no key of the document
			s.leaf = append(s.leaf, nil)
			continue
		}
		n := s.root
		n.last = i
		segs := strings.Split(f.Name, ".")
		for j, seg := range segs {
			child := n.children[seg]
			if child == nil {
				child = &node{idx: s.nodes, name: seg, path: strings.Join(segs[:j+1], "."), parent: n, depth: j + 1}
				child.key = newKeyColon(seg)
				s.nodes++
				if j == len(segs)-1 {
					child.field = f
					child.slot = slots[i]
					child.openKey = `"` + seg + `":`
				} else {
					child.children = map[string]*node{}
					child.openKey = `"` + seg + `":{`
					s.objects[child.path] = child
				}
				n.children[seg] = child
			}
			n = child
			n.last = i
		}
		s.leaf = append(s.leaf, n)
	}
	s.root.buildTables()
	return s
}

// maxChildTable bounds a child table: past it the map serves.
const maxChildTable = 1 << 10

// buildTables gives n and every object below it the smallest table,
// a power of two at least twice its children, in which no two children's
// keyHash collide.
func (n *node) buildTables() {
	for _, c := range n.children {
		c.buildTables()
	}
	if len(n.children) == 0 {
		return
	}
	for size := 2; size <= maxChildTable; size *= 2 {
		if size < 2*len(n.children) {
			continue
		}
		if t := tableOf(n.children, size); t != nil {
			n.table = t
			return
		}
	}
}

// tableOf places children by keyHash in a table of size slots, or returns
// nil when two collide.
func tableOf(children map[string]*node, size int) []*node {
	t := make([]*node, size)
	for key, c := range children {
		i := keyHash(key) & uint32(size-1)
		if t[i] != nil {
			return nil
		}
		t[i] = c
	}
	return t
}

// keyHash mixes a key's length and its first, middle and last bytes: the
// keys of one object differ there, so a child is found with one probe and
// one comparison instead of hashing the whole key. key is not empty.
func keyHash(key string) uint32 {
	h := uint32(len(key))*0x9E3779B1 ^ uint32(key[0])*0x85EBCA6B
	h ^= uint32(key[len(key)/2])*0xC2B2AE35 ^ uint32(key[len(key)-1])*0x27D4EB2F
	return h ^ h>>15
}

// child returns the child of n whose key is key, or nil.
func (n *node) child(key string) *node {
	if n.table == nil || key == "" {
		return n.children[key]
	}
	if c := n.table[keyHash(key)&uint32(len(n.table)-1)]; c != nil && c.name == key {
		return c
	}
	return nil
}

// childPath returns the dotted path of key inside object n.
func childPath(n *node, key string) string {
	if n.path == "" {
		return key
	}
	return n.path + "." + key
}
