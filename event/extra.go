package event

import "strconv"

// Extra holds the fields of a document outside the schema, kept by
// DecodeWith with KeepUnknown: the unknown keys of each known object (the
// document itself, "host", "event", ...), in the order sent, with their
// values as sent (null, booleans, integers, other numbers as their text,
// strings, arrays, objects).
//
// It is the encoded tree (see FORMAT.md, "Kept unknown fields"): compact,
// immutable, comparable with ==, and only ever built by DecodeWith,
// DecodeBinary or ParseExtra, which check it, so every Extra is well formed.
// The zero value holds nothing.
type Extra struct {
	enc string
}

// Wire constants of the tree encoding (the tag byte of a value). Frozen.
const (
	tagNull   = 0
	tagFalse  = 1
	tagTrue   = 2
	tagInt    = 3 // varint: an integer sent in canonical form within int64
	tagNumber = 4 // string: any other JSON number, its text as sent
	tagString = 5
	tagArray  = 6 // uvarint(n) value*n
	tagObject = 7 // uvarint(n) (key:string value)*n
)

// ExtraKind is the JSON type of a kept value.
type ExtraKind uint8

// The kinds of kept value.
const (
	ExtraNull   ExtraKind = tagNull
	ExtraFalse  ExtraKind = tagFalse
	ExtraTrue   ExtraKind = tagTrue
	ExtraInt    ExtraKind = tagInt
	ExtraNumber ExtraKind = tagNumber
	ExtraString ExtraKind = tagString
	ExtraArray  ExtraKind = tagArray
	ExtraObject ExtraKind = tagObject
)

// ExtraValue is one scalar kept value, as Lookup yields it.
type ExtraValue struct {
	Kind ExtraKind
	// Text is the string (ExtraString) or the number's text as sent
	// (ExtraNumber); empty otherwise.
	Text string
	// Int is the value of an ExtraInt.
	Int int64
}

// Float returns the value of a number (ExtraInt or ExtraNumber) as a
// float64, and false for other kinds and numbers outside float64's range.
func (v ExtraValue) Float() (float64, bool) {
	switch v.Kind {
	case ExtraInt:
		return float64(v.Int), true
	case ExtraNumber:
		f, err := strconv.ParseFloat(v.Text, 64)
		return f, err == nil
	}
	return 0, false
}

// IsZero reports whether x holds no field.
func (x Extra) IsZero() bool { return x.enc == "" }

// Encoded returns the encoded tree (FORMAT.md, "Kept unknown fields"); ""
// for the zero Extra.
func (x Extra) Encoded() string { return x.enc }

// ParseExtra checks an encoded tree, as Encoded returns it, and returns it
// as an Extra. Errors are *FieldError wrapping ErrSyntax with the offset in
// enc.
func ParseExtra(enc string) (Extra, error) {
	if enc == "" {
		return Extra{}, nil
	}
	if err := checkExtra(enc, wireLimits()); err != nil {
		return Extra{}, err
	}
	return Extra{enc: enc}, nil
}

// extraGroup is one group of the tree: the members kept inside the schema
// object n, encoded from body on (uvarint(count) member*count).
type extraGroup struct {
	n    *node
	body string
}

// groups calls fn for each group of x in stored order.
func (x Extra) groups(fn func(g extraGroup)) {
	if x.enc == "" {
		return
	}
	r := treeReader{s: x.enc}
	for range r.uvarint() {
		path := r.str()
		start := r.i
		r.skipMembers()
		fn(extraGroup{n: tree.objects[path], body: x.enc[start:r.i]})
	}
}

// Lookup calls fn with each scalar value at the dotted path (arrays are
// flattened, as Elasticsearch does; an object is not a scalar) until fn
// returns false. A path matches keys sent nested ({"a":{"b":1}}) and keys
// sent with dots ({"a.b":1}) alike.
func (x Extra) Lookup(path string, fn func(ExtraValue) bool) {
	more := true
	x.groups(func(g extraGroup) {
		rest, ok := underPath(path, g.n.path)
		if ok && more {
			r := treeReader{s: g.body}
			more = r.lookupMembers(rest, fn)
		}
	})
}

// underPath returns path relative to the object at prefix ("" = root), or
// false when path is not below it.
func underPath(path, prefix string) (string, bool) {
	switch {
	case prefix == "":
		return path, true
	case len(path) > len(prefix) && path[len(prefix)] == '.' && path[:len(prefix)] == prefix:
		return path[len(prefix)+1:], true
	}
	return "", false
}

// Has reports whether a value other than null (objects and arrays, even
// empty, included) is kept at the dotted path: what KQL's path:* asks.
func (x Extra) Has(path string) bool {
	found := false
	x.groups(func(g extraGroup) {
		if rest, ok := underPath(path, g.n.path); ok && !found {
			r := treeReader{s: g.body}
			found = r.hasMembers(rest)
		}
	})
	return found
}

// treeReader walks an encoded tree that checkExtra accepted: it does not
// check bounds again.
type treeReader struct {
	s string
	i int
}

func (r *treeReader) uvarint() uint64 {
	var v uint64
	for shift := 0; ; shift += 7 {
		c := r.s[r.i]
		r.i++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v
		}
	}
}

func (r *treeReader) varint() int64 {
	u := r.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (r *treeReader) str() string {
	n := int(r.uvarint())
	s := r.s[r.i : r.i+n]
	r.i += n
	return s
}

func (r *treeReader) skipMembers() {
	for range r.uvarint() {
		r.str()
		r.skipValue()
	}
}

func (r *treeReader) skipValue() {
	tag := r.s[r.i]
	r.i++
	switch tag {
	case tagInt:
		r.uvarint()
	case tagNumber, tagString:
		r.str()
	case tagArray:
		for range r.uvarint() {
			r.skipValue()
		}
	case tagObject:
		r.skipMembers()
	}
}

// scalar reads the value at the offset, which is not an array or object.
func (r *treeReader) scalar() ExtraValue {
	v := ExtraValue{Kind: ExtraKind(r.s[r.i])}
	r.i++
	switch v.Kind {
	case ExtraInt:
		v.Int = r.varint()
	case ExtraNumber, ExtraString:
		v.Text = r.str()
	}
	return v
}

// lookupMembers yields the scalars at rest in the members at the offset;
// false when fn asked to stop.
func (r *treeReader) lookupMembers(rest string, fn func(ExtraValue) bool) bool {
	for range r.uvarint() {
		key := r.str()
		switch sub, ok := underPath(rest, key); {
		case rest == key:
			if !r.lookupValue("", fn) {
				return false
			}
		case ok:
			if !r.lookupValue(sub, fn) {
				return false
			}
		default:
			r.skipValue()
		}
	}
	return true
}

// lookupValue yields the scalars at rest ("": the value itself) in the
// value at the offset.
func (r *treeReader) lookupValue(rest string, fn func(ExtraValue) bool) bool {
	switch r.s[r.i] {
	case tagArray:
		r.i++
		for range r.uvarint() {
			if !r.lookupValue(rest, fn) {
				return false
			}
		}
		return true
	case tagObject:
		if rest == "" {
			r.skipValue()
			return true
		}
		r.i++
		return r.lookupMembers(rest, fn)
	}
	if rest != "" {
		r.skipValue()
		return true
	}
	return fn(r.scalar())
}

// hasMembers reports whether the members at the offset hold rest.
func (r *treeReader) hasMembers(rest string) bool {
	found := false
	for range r.uvarint() {
		key := r.str()
		sub, ok := underPath(rest, key)
		switch {
		case found:
			r.skipValue()
		case rest == key:
			found = r.s[r.i] != tagNull
			r.skipValue()
		case ok:
			found = r.hasValue(sub)
		default:
			r.skipValue()
		}
	}
	return found
}

// hasValue reports whether the value at the offset holds rest (not empty).
func (r *treeReader) hasValue(rest string) bool {
	found := false
	switch r.s[r.i] {
	case tagArray:
		r.i++
		for range r.uvarint() {
			if found {
				r.skipValue()
			} else {
				found = r.hasValue(rest)
			}
		}
	case tagObject:
		r.i++
		found = r.hasMembers(rest)
	default:
		r.skipValue()
	}
	return found
}

// CanKeep reports whether a document may hold a kept field at the dotted
// path: false for a field or object of the schema, or a path below a
// field ("user.name.first"), which DecodeWith refuses to keep.
func CanKeep(path string) bool { return keptKeyOK(tree.root, path) }
