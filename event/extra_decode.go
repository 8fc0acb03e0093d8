package event

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strconv"
	"unsafe"
)

// DecodeOptions says how DecodeWith reads a document.
type DecodeOptions struct {
	Limits      Limits
	KeepUnknown bool // keep fields outside the schema in Event.Extra instead of rejecting them
	// Shared decodes without copying the document: the event's strings
	// (and its errors' values) share data's memory, so data must not change
	// while the event, or any string taken from it, is in use. For a caller
	// that encodes the event and drops it before reusing data (the server's
	// _bulk, which decodes thousands of events from one request body): it
	// saves a copy of every document.
	Shared bool
}

// DecodeWith is Decode with options. With KeepUnknown, a key outside the
// schema — at the top level or inside a known object (host.architecture,
// event.module_version) — is kept in Event.Extra with its value, of any
// JSON type, instead of failing with ErrUnknownField. Known fields are
// still typed and checked: a known field of the wrong type fails with
// ErrWrongType as in Decode. Four things stay refused: a kept key that,
// read as a dotted path, names a schema field or object ({"user.name": x}:
// send it nested), the engine's fields _id, _seq and _index at the top
// level, an unknown key inside a kibana.saved_objects element, and a
// repeated key. Kept fields count toward MaxDocumentBytes and are
// bounded by MaxStringBytes, MaxExtraDepth and MaxExtraKeys.
func DecodeWith(data []byte, opts DecodeOptions) (Event, error) {
	lim := opts.Limits.withDefaults()
	if len(data) > lim.MaxDocumentBytes {
		return Event{}, limitErr("", -1, "document of %d bytes is over the limit of %d bytes", len(data), lim.MaxDocumentBytes)
	}
	text := unsafe.String(unsafe.SliceData(data), len(data))
	if !opts.Shared {
		text = string(data)
	}
	d := decoder{scanner: scanner{data: data, text: text}, lim: lim, keep: opts.KeepUnknown}
	if err := d.document(); err != nil {
		return Event{}, err
	}
	if len(d.kept) > 0 {
		d.ev.Extra = d.extra()
	}
	return d.ev, nil
}

// keptGroup collects the kept members of one schema object while
// decoding: their encoding (key value)* and count.
type keptGroup struct {
	n     *node
	buf   []byte
	count int
	keys  dupKeys
}

// keepMember keeps the member key of schema object n, whose value starts
// at the offset.
func (d *decoder) keepMember(n *node, key string, off int) error {
	d.kp = append(d.kp[:0], pathSeg{key: n.path, index: -1}, pathSeg{key: key, index: -1})
	if !keptKeyOK(n, key) {
		if n == tree.root && engineKey(key) {
			return fieldErr(d.kp.String(), off, ErrUnknownField, "a field of the engine (_id, _seq, _index), not kept in the document")
		}
		return fieldErr(d.kp.String(), off, ErrUnknownField, "a dotted key naming a field of the schema: send it as nested objects")
	}
	g := d.group(n)
	if err := d.keptKey(&g.keys, key, off); err != nil {
		return err
	}
	g.buf = appendBinString(g.buf, key)
	g.count++
	var err error
	g.buf, err = d.keptValue(g.buf, n.depth+1)
	return err
}

// keptKey checks the key of a kept member, at d.kp: not repeated in its
// object (keys), within the string limit, and one more within MaxExtraKeys.
func (d *decoder) keptKey(keys *dupKeys, key string, off int) error {
	switch {
	case keys.add(key):
		return fieldErr(d.kp.String(), off, ErrSyntax, "duplicate field")
	case len(key) > d.lim.MaxStringBytes:
		return limitErr(d.kp.String(), off, "key of %d bytes is over the limit of %d bytes", len(key), d.lim.MaxStringBytes)
	}
	return d.countKept(off)
}

// group returns the kept group of schema object n, adding it.
func (d *decoder) group(n *node) *keptGroup {
	for i := range d.kept {
		if d.kept[i].n == n {
			return &d.kept[i]
		}
	}
	d.kept = append(d.kept, keptGroup{n: n, buf: make([]byte, 0, 256)}) // one allocation for most groups
	return &d.kept[len(d.kept)-1]
}

// countKept counts one more kept member or element, at d.kp, against
// MaxExtraKeys.
func (d *decoder) countKept(off int) error {
	if d.keptKeys++; d.keptKeys > d.lim.MaxExtraKeys {
		return limitErr(d.kp.String(), off, "more than %d unknown fields and elements", d.lim.MaxExtraKeys)
	}
	return nil
}

// keptValue appends the encoding of the JSON value at the offset, at
// depth below the document and path d.kp, to b.
func (d *decoder) keptValue(b []byte, depth int) ([]byte, error) {
	if depth > d.lim.MaxExtraDepth {
		return b, limitErr(d.kp.String(), d.i, "nested deeper than %d levels", d.lim.MaxExtraDepth)
	}
	rest := d.data[d.i:]
	switch kind := d.valueKind(); {
	case kind == "null" && bytes.HasPrefix(rest, litNull):
		d.i += len(litNull)
		return append(b, tagNull), nil
	case kind == "boolean" && bytes.HasPrefix(rest, litTrue):
		d.i += len(litTrue)
		return append(b, tagTrue), nil
	case kind == "boolean" && bytes.HasPrefix(rest, litFalse):
		d.i += len(litFalse)
		return append(b, tagFalse), nil
	case kind == "" || kind == "null" || kind == "boolean":
		return b, d.unexpected("a value")
	case kind == "string":
		s, err := d.stringValue("", "a value")
		if err != nil {
			return b, setPath(err, d.kp.String())
		}
		return appendBinString(append(b, tagString), s), nil
	case kind == "number":
		return d.keptNumber(b)
	case kind == "array":
		return d.keptArray(b, depth)
	}
	return d.keptObject(b, depth)
}

// The JSON literals, as bytes to compare with the input without a copy.
var litNull, litTrue, litFalse = []byte("null"), []byte("true"), []byte("false")

// keptNumber keeps an integer in canonical form within int64 exactly, as
// a varint, and any other number as its text.
func (d *decoder) keptNumber(b []byte) ([]byte, error) {
	lit, isInt, err := d.number()
	if err != nil {
		return b, err
	}
	if isInt && lit != "-0" {
		if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
			return binary.AppendVarint(append(b, tagInt), n), nil
		}
	}
	return appendBinString(append(b, tagNumber), lit), nil
}

func (d *decoder) keptArray(b []byte, depth int) ([]byte, error) {
	b = append(b, tagArray)
	start, n := len(b), 0
	err := d.elements(func(idx, off int) error {
		d.kp = append(d.kp, pathSeg{index: idx})
		defer func() { d.kp = d.kp[:len(d.kp)-1] }()
		if err := d.countKept(off); err != nil {
			return err
		}
		n++
		var err error
		b, err = d.keptValue(b, depth+1)
		return err
	})
	return insertCount(b, start, n), err
}

func (d *decoder) keptObject(b []byte, depth int) ([]byte, error) {
	b = append(b, tagObject)
	start, n := len(b), 0
	// The object's keys live on a stack in the decoder: a dupKeys the
	// closure captured would be allocated for every object.
	level := len(d.objKeys)
	d.objKeys = append(d.objKeys, dupKeys{})
	defer func() { d.objKeys = d.objKeys[:level] }()
	err := d.members(func(key string, off int) error {
		d.kp = append(d.kp, pathSeg{key: key, index: -1})
		defer func() { d.kp = d.kp[:len(d.kp)-1] }()
		if err := d.keptKey(&d.objKeys[level], key, off); err != nil {
			return err
		}
		n++
		b = appendBinString(b, key)
		var err error
		b, err = d.keptValue(b, depth+1)
		return err
	})
	return insertCount(b, start, n), err
}

// insertCount inserts uvarint(n) at b[at], before the n items written
// after it.
func insertCount(b []byte, at, n int) []byte {
	var buf [binary.MaxVarintLen64]byte
	return slices.Insert(b, at, binary.AppendUvarint(buf[:0], uint64(n))...)
}

// extra assembles the kept groups into the encoded tree.
func (d *decoder) extra() Extra {
	size := binary.MaxVarintLen64
	for i := range d.kept {
		size += 2*binary.MaxVarintLen64 + len(d.kept[i].n.path) + len(d.kept[i].buf)
	}
	slices.SortFunc(d.kept, func(a, b keptGroup) int { return placeOrder(a.n, b.n) })
	b := binary.AppendUvarint(make([]byte, 0, size), uint64(len(d.kept)))
	for i := range d.kept {
		g := &d.kept[i]
		b = appendBinString(b, g.n.path)
		b = binary.AppendUvarint(b, uint64(g.count))
		b = append(b, g.buf...)
	}
	return Extra{enc: unsafe.String(unsafe.SliceData(b), len(b))} // b is not used again
}
