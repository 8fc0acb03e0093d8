package event

import (
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// checkExtra checks an encoded tree: its structure (every count and length
// within the bytes left, known tags, valid number text and UTF-8), its
// groups (distinct objects of the schema in placement order, each with at
// least one member), keys (no repeat within an object, no kept key naming
// a schema field) and lim's string, depth and key bounds. It never panics,
// and allocates nothing for a good tree: the path an error names is built
// only then.
func checkExtra(enc string, lim Limits) error {
	c := extraChecker{s: enc, lim: lim}
	n := c.count(1)
	var prev *node
	for range n {
		off := c.i
		path := c.str()
		g := tree.objects[path]
		switch {
		case c.err != nil:
		case g == nil:
			c.fail(off, "group %q is not an object of the schema", path)
		case prev != nil && placeOrder(prev, g) >= 0:
			c.fail(off, "group %q repeated or out of order", path)
		default:
			prev = g
			c.path = append(c.path[:0], pathSeg{key: path, index: -1})
			c.members(g, g.depth+1, 1)
		}
	}
	if c.err == nil && c.i != len(enc) {
		c.fail(c.i, "%d bytes after the tree", len(enc)-c.i)
	}
	return c.err
}

// wireLimits are the bounds checked on a stored tree: a store may have
// kept what its configured limits allowed, so only the depth, which bounds
// the checker's recursion, is bounded.
func wireLimits() Limits {
	return Limits{MaxStringBytes: 1 << 30, MaxExtraDepth: MaxExtraDepthCap, MaxExtraKeys: 1 << 30}
}

// extraChecker reads a tree with a sticky error.
type extraChecker struct {
	s    string
	i    int
	lim  Limits
	keys int
	err  error
	// path is where the reader is, from the group's object down; joined
	// into a dotted path only for an error.
	path segPath
}

// segPath is a path being walked, step by step: built into its dotted
// form only when an error names it, so walking allocates nothing.
type segPath []pathSeg

// pathSeg is one step of a path: a key, or an array index.
type pathSeg struct {
	key   string
	index int // -1 for a key
}

func (c *extraChecker) at() string { return c.path.String() }

// String returns the dotted path, array indexes as [i].
func (sp segPath) String() string {
	var b []byte
	for _, p := range sp {
		switch {
		case p.index >= 0:
			b = append(append(append(b, '['), strconv.Itoa(p.index)...), ']')
		case len(b) > 0:
			b = append(append(b, '.'), p.key...)
		default:
			b = append(b, p.key...)
		}
	}
	return string(b)
}

func (c *extraChecker) fail(off int, format string, args ...any) {
	if c.err == nil {
		c.err = syntaxErr(off, "kept fields: "+format, args...)
	}
}

// limit records a limit error at the current path.
func (c *extraChecker) limit(off int, format string, args ...any) {
	if c.err == nil {
		c.err = limitErr(c.at(), off, format, args...)
	}
}

func (c *extraChecker) uvarint() uint64 {
	if c.err != nil {
		return 0
	}
	v, n := strUvarint(c.s[c.i:])
	if n <= 0 {
		c.fail(c.i, "malformed uvarint")
		return 0
	}
	c.i += n
	return v
}

// count reads a count of at least least items, each at least a byte.
func (c *extraChecker) count(least uint64) int {
	off := c.i
	n := c.uvarint()
	if c.err == nil && (n < least || n > uint64(len(c.s)-c.i)) {
		c.fail(off, "count %d is zero or runs past the end", n)
	}
	if c.err != nil {
		return 0
	}
	return int(n)
}

// str reads a string, valid UTF-8 within the string limit.
func (c *extraChecker) str() string {
	off := c.i
	n := c.uvarint()
	if c.err != nil {
		return ""
	}
	if n > uint64(len(c.s)-c.i) {
		c.fail(off, "string of %d bytes runs past the end", n)
		return ""
	}
	s := c.s[c.i : c.i+int(n)]
	c.i += int(n)
	switch {
	case !utf8.ValidString(s):
		c.fail(off, "invalid UTF-8 in string")
	case len(s) > c.lim.MaxStringBytes:
		c.limit(off, "string of %d bytes is over the limit of %d bytes", len(s), c.lim.MaxStringBytes)
	}
	return s
}

// key counts one more kept member or element against the limit.
func (c *extraChecker) key(off int) {
	if c.keys++; c.keys > c.lim.MaxExtraKeys {
		c.limit(off, "more than %d unknown fields and elements", c.lim.MaxExtraKeys)
	}
}

// members reads an object's members (at least least) at depth; g is the
// schema object of a group (its keys must not name schema fields), nil
// inside kept values.
func (c *extraChecker) members(g *node, depth int, least uint64) {
	n := c.count(least)
	var keys dupKeys
	for range n {
		off := c.i
		key := c.str()
		if c.err != nil {
			return
		}
		c.path = append(c.path, pathSeg{key: key, index: -1})
		switch {
		case keys.add(key):
			c.fail(off, "key %q repeated", c.at())
		case g != nil && !keptKeyOK(g, key):
			c.fail(off, "key %q names a field of the schema", c.at())
		}
		c.key(off)
		c.value(depth)
		c.path = c.path[:len(c.path)-1]
	}
}

// value reads one value at depth.
func (c *extraChecker) value(depth int) {
	if c.err != nil {
		return
	}
	off := c.i
	if depth > c.lim.MaxExtraDepth {
		c.limit(off, "nested deeper than %d levels", c.lim.MaxExtraDepth)
		return
	}
	if c.i >= len(c.s) {
		c.fail(off, "value runs past the end")
		return
	}
	tag := c.s[c.i]
	c.i++
	switch tag {
	case tagNull, tagFalse, tagTrue:
	case tagInt:
		c.uvarint()
	case tagNumber:
		if lit := c.str(); c.err == nil && !jsonNumber(lit) {
			c.fail(off, "%q is not a JSON number", shortLit(lit))
		}
	case tagString:
		c.str()
	case tagArray:
		n := c.count(0)
		for j := 0; j < n && c.err == nil; j++ {
			c.key(c.i)
			c.path = append(c.path, pathSeg{index: j})
			c.value(depth + 1)
			c.path = c.path[:len(c.path)-1]
		}
	case tagObject:
		c.members(nil, depth+1, 0)
	default:
		c.fail(off, "unknown value tag %d", tag)
	}
}

// jsonNumber reports whether s is exactly one JSON number.
func jsonNumber(s string) bool {
	sc := scanner{data: unsafe.Slice(unsafe.StringData(s), len(s)), text: s} // only read
	if sc.valueKind() != "number" {
		return false
	}
	_, _, err := sc.number()
	return err == nil && sc.i == len(s)
}

// keptKeyOK reports whether key may be kept in schema object n: a key that,
// read as a dotted path as Elasticsearch reads one ({"user.name": x}),
// names a field of the schema, a path below one, or a schema object would
// hold known fields untyped and unindexed — and a pseudonymised field in
// the clear — so it is refused.
func keptKeyOK(n *node, key string) bool {
	if n == tree.root && engineKey(key) {
		return false
	}
	for {
		seg, rest, dotted := strings.Cut(key, ".")
		c := n.child(seg)
		switch {
		case c == nil:
			return true
		case c.field != nil || !dotted:
			return false
		}
		n, key = c, rest
	}
}

// engineKey reports whether a top-level key is one of the engine's fields
// that answers print beside a document's own (_id, _seq, _index): kept, it
// would be printed twice and re-imported as data.
func engineKey(key string) bool { return key == "_id" || key == "_seq" || key == "_index" }

// dupKeys finds a repeated key among an object's members: a fixed list
// while small (no allocation for the usual few keys), a map past it.
type dupKeys struct {
	small [8]string
	n     int
	set   map[string]bool
}

// add records key and reports whether it was already there.
func (k *dupKeys) add(key string) bool {
	if k.set != nil {
		dup := k.set[key]
		k.set[key] = true
		return dup
	}
	for _, s := range k.small[:k.n] {
		if s == key {
			return true
		}
	}
	if k.n < len(k.small) {
		k.small[k.n] = key
		k.n++
		return false
	}
	k.set = make(map[string]bool, 4*len(k.small))
	for _, s := range k.small {
		k.set[s] = true
	}
	k.set[key] = true
	return false
}

// strUvarint is binary.Uvarint over a string (no copy): the value and the
// bytes read, or n <= 0 for a truncated or overlong uvarint.
func strUvarint(s string) (v uint64, n int) {
	var shift uint
	for i := 0; i < len(s) && i < 10; i++ {
		b := s[i]
		if b < 0x80 {
			if i == 9 && b > 1 {
				return 0, -1
			}
			return v | uint64(b)<<shift, i + 1
		}
		v |= uint64(b&0x7f) << shift
		shift += 7
	}
	return 0, 0
}
