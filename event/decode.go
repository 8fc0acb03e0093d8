package event

import (
	"fmt"
	"strings"
)

// Decode parses one JSON event document strictly: data must hold exactly one
// JSON object (whitespace around it is allowed) whose keys are fields of the
// schema (see Fields), each at most once, with values of the field's type.
//
// Normalization: null, an empty string, an empty list and an empty object
// are the same as an absent field and are not returned. Everything else
// comes back as given (see the package comment).
//
// Errors are *FieldError wrapping ErrSyntax, ErrUnknownField, ErrWrongType
// or ErrLimit. The returned Event does not alias data: the strings share one
// copy of the document.
func Decode(data []byte, lim Limits) (Event, error) {
	return DecodeWith(data, DecodeOptions{Limits: lim})
}

// decoder reads a document into ev, driven by the schema tree.
type decoder struct {
	scanner
	lim  Limits
	ev   Event
	seen [4]uint64 // schema nodes already seen, to find duplicate keys
	// sawSeq: "_seq" (no schema node: it is ignored) was seen.
	sawSeq bool
	slabs
	// keep keeps unknown keys (DecodeOptions.KeepUnknown) in kept, one
	// group per schema object, keptKeys counting their members and elements.
	keep     bool
	kept     []keptGroup
	keptKeys int
	kp       segPath   // the kept value being read, for errors
	objKeys  []dupKeys // the keys of the kept objects being read, by depth
	// guesses are the keys a Decoder expects next (guess.go); nil for
	// DecodeWith.
	guesses guesses
}

// literalOK reports whether a value of kind (as valueKind guessed it from
// one byte) really starts at the offset: "not json" is not a null.
func (d *decoder) literalOK(kind string) bool {
	rest := string(d.data[d.i:])
	switch kind {
	case "null":
		return strings.HasPrefix(rest, "null")
	case "boolean":
		return strings.HasPrefix(rest, "true") || strings.HasPrefix(rest, "false")
	}
	return true
}

func (d *decoder) document() error {
	d.ws()
	if d.peek() != '{' {
		if kind := d.valueKind(); kind != "" && d.literalOK(kind) {
			return syntaxErr(d.i, "expected a JSON object, got %s", kind)
		}
		return d.unexpected("'{' to start the document")
	}
	if err := d.object(tree.root); err != nil {
		return err
	}
	d.ws()
	if d.i != len(d.data) {
		return syntaxErr(d.i, "expected end of input after the document")
	}
	return nil
}

// object reads the object for schema node n. A member's key is first
// compared with the one guessed (guess.go), and read and looked up in the
// tree only when it is not that one.
func (d *decoder) object(n *node) error {
	if d.openObject() {
		return nil
	}
	at := firstGuess(n)
	for {
		off := d.i
		c, key, err := d.objectKey(n, d.guessAt(at))
		if err != nil {
			return err
		}
		if err := d.member(n, c, key, off); err != nil {
			return err
		}
		if c != nil {
			d.learn(at, c)
			at = nextGuess(c)
		}
		if more, err := d.nextMember(); !more || err != nil {
			return err
		}
	}
}

// objectKey reads the key of a member of schema object n as memberKey
// does, guess being the child it probably names (nil: no guess): the
// child it names, or nil and the key when it names none.
func (d *decoder) objectKey(n, guess *node) (*node, string, error) {
	if guess != nil && d.keyIs(&guess.key) {
		return guess, guess.name, nil
	}
	key, err := d.memberKey()
	if err != nil {
		return nil, "", err
	}
	return n.child(key), key, nil
}

// member reads the value of member key of schema object n, c being the
// child key names (nil: none).
func (d *decoder) member(n, c *node, key string, off int) error {
	if n == tree.root && key == SeqField {
		return d.seq(off)
	}
	if c == nil {
		if d.keep {
			return d.keepMember(n, key, off)
		}
		return fieldErr(childPath(n, key), off, ErrUnknownField, "unknown field")
	}
	if d.markSeen(c) {
		return fieldErr(c.path, off, ErrSyntax, "duplicate field")
	}
	if c.field != nil {
		return d.value(c.field, c.slot)
	}
	if d.peek() == 'n' { // null: as if absent
		return d.skipNull()
	}
	if d.peek() != '{' {
		return d.wrongType(c.path, "an object")
	}
	return d.object(c)
}

// clientIDErr checks a client id beyond a string's rules: non-empty and at
// most MaxClientIDBytes, as Elasticsearch checks its _id.
func clientIDErr(id string, off int) error {
	switch {
	case id == "":
		return fieldErr(ClientIDField, off, ErrWrongType, "expected a non-empty string (a client id)")
	case len(id) > MaxClientIDBytes:
		return limitErr(ClientIDField, off, "client id of %d bytes is over the limit of %d bytes", len(id), MaxClientIDBytes)
	}
	return nil
}

// seq reads the top-level "_seq", the engine's sequence number a printed
// document carries: it must be a non-negative integer, and is ignored (the
// store gives the event a sequence number of its own), so an export
// re-imports.
func (d *decoder) seq(off int) error {
	if d.sawSeq {
		return fieldErr(SeqField, off, ErrSyntax, "duplicate field")
	}
	d.sawSeq = true
	if d.peek() == 'n' { // null: as if absent
		return d.skipNull()
	}
	n, err := d.intLiteral(SeqField, "a non-negative integer")
	if err == nil && n < 0 {
		err = fieldErr(SeqField, off, ErrWrongType, "expected a non-negative integer")
	}
	return err
}

// markSeen marks n and reports whether it was already marked.
func (d *decoder) markSeen(n *node) bool {
	w, bit := n.idx>>6, uint64(1)<<(n.idx&63)
	was := d.seen[w]&bit != 0
	d.seen[w] |= bit
	return was
}

// wrongType is the error for a value at the offset that is not want; a
// byte that starts no value at all is a syntax error instead.
func (d *decoder) wrongType(path, want string) error {
	got := d.valueKind()
	if got == "" {
		return d.unexpected("a value")
	}
	return wrongType(path, d.i, want, got)
}

// value reads the value of leaf field f.
func (d *decoder) value(f *Field, at slot) error {
	if d.peek() == 'n' { // null: as if absent
		return d.skipNull()
	}
	switch f.Kind {
	case KindString:
		off := d.i
		s, err := d.stringValue(f.Name, "a string")
		if err == nil && f.ID == idClientID {
			err = clientIDErr(s, off)
		}
		*at.str(&d.ev) = s
		return err
	case KindIP:
		return d.ip(f, at)
	case KindStrings:
		return d.list(f, at)
	case KindDate:
		return d.date(f, at)
	case KindInt:
		return d.integer(f, at)
	case KindFloat:
		return d.float(f, at)
	case KindDuration:
		return d.duration(f, at)
	case KindLabels:
		return d.labels(f, at)
	case KindRefs:
		return d.refs(f, at)
	}
	return fmt.Errorf("event: field %s has unknown kind %d", f.Name, f.Kind)
}

// stringValue reads a string within the string limit.
func (d *decoder) stringValue(path, want string) (string, error) {
	if d.peek() != '"' {
		return "", d.wrongType(path, want)
	}
	off := d.i
	s, err := d.str()
	if err != nil {
		return "", err
	}
	if len(s) > d.lim.MaxStringBytes {
		return "", limitErr(path, off, "string of %d bytes is over the limit of %d bytes", len(s), d.lim.MaxStringBytes)
	}
	return s, nil
}
