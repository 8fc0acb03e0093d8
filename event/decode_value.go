package event

import (
	"errors"
	"math"
	"net/netip"
	"strconv"
)

// This file holds the decoder's readers for each kind of value.

// indexPath returns the path of element idx of the array field name.
func indexPath(name string, idx int) string {
	return name + "[" + strconv.Itoa(idx) + "]"
}

// setPath gives a field error without a path (one built without knowing it)
// the path; syntax errors keep none.
func setPath(err error, path string) error {
	if fe, ok := err.(*FieldError); ok && fe.Path == "" && !errors.Is(fe.Err, ErrSyntax) {
		fe.Path = path
	}
	return err
}

// shortLit bounds a literal quoted in an error message.
func shortLit(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func (d *decoder) ip(f *Field, at slot) error {
	off := d.i
	s, err := d.stringValue(f.Name, "a string")
	if err != nil || s == "" {
		return err
	}
	if !validIP(s) {
		return fieldErr(f.Name, off, ErrWrongType, "expected an IPv4 or IPv6 address")
	}
	*at.str(&d.ev) = s
	return nil
}

// validIP reports whether s is an IPv4 or IPv6 address without a zone, or
// a pseudonym standing for one.
func validIP(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Zone() == "" || IsPseudonym(s)
}

func (d *decoder) list(f *Field, at slot) error {
	switch d.peek() {
	case '"':
		s, err := d.stringValue(f.Name, "a string")
		if err != nil || s == "" {
			return err
		}
		n := len(d.strs)
		d.strs = append(d.strs, s)
		*at.list(&d.ev) = StringList{Values: d.strs[n : n+1 : n+1], Scalar: true}
		return nil
	case '[':
		start := len(d.strs)
		err := d.elements(func(idx, off int) error {
			if idx >= d.lim.MaxTags {
				return limitErr(f.Name, off, "more than %d items", d.lim.MaxTags)
			}
			s, err := d.stringValue("", "a string")
			if err != nil {
				return setPath(err, indexPath(f.Name, idx))
			}
			d.strs = append(d.strs, s)
			return nil
		})
		if err != nil {
			return err
		}
		if end := len(d.strs); end > start {
			*at.list(&d.ev) = StringList{Values: d.strs[start:end:end]}
		}
		return nil
	}
	return d.wrongType(f.Name, "a string or an array of strings")
}

func (d *decoder) date(f *Field, at slot) error {
	off := d.i
	s, err := d.stringValue(f.Name, "a date string")
	if err != nil || s == "" {
		return err
	}
	t, err := ParseDate(s)
	if err != nil {
		return &FieldError{Path: f.Name, Offset: off, Err: &reason{msg: err.Error(), kind: ErrWrongType}}
	}
	*at.date(&d.ev) = t
	return nil
}

// intLiteral reads a JSON integer that fits int64.
func (d *decoder) intLiteral(path, want string) (int64, error) {
	if d.valueKind() != "number" {
		return 0, d.wrongType(path, want)
	}
	off := d.i
	lit, isInt, err := d.number()
	if err != nil {
		return 0, err
	}
	if !isInt {
		return 0, wrongType(path, off, want, shortLit(lit))
	}
	n, err := strconv.ParseInt(lit, 10, 64)
	if err != nil {
		return 0, fieldErr(path, off, ErrWrongType, "integer "+shortLit(lit)+" is out of the int64 range")
	}
	return n, nil
}

func (d *decoder) integer(f *Field, at slot) error {
	n, err := d.intLiteral(f.Name, "an integer")
	if err != nil {
		return err
	}
	*at.int(&d.ev) = d.newInt(n)
	return nil
}

func (d *decoder) float(f *Field, at slot) error {
	if d.valueKind() != "number" {
		return d.wrongType(f.Name, "a number")
	}
	off := d.i
	lit, _, err := d.number()
	if err != nil {
		return err
	}
	v, err := strconv.ParseFloat(lit, 64)
	if err != nil && (math.IsInf(v, 0) || math.IsNaN(v)) {
		return fieldErr(f.Name, off, ErrWrongType, "number "+shortLit(lit)+" is out of the float64 range")
	}
	*at.float(&d.ev) = d.newFloat(v)
	return nil
}

// duration reads event.duration: a JSON integer, or a string of digits with
// an optional leading '-'.
func (d *decoder) duration(f *Field, at slot) error {
	const want = "an integer or a string of digits"
	if d.peek() != '"' {
		n, err := d.intLiteral(f.Name, want)
		if err != nil {
			return err
		}
		*at.duration(&d.ev) = d.newDuration(Duration{Nanos: n})
		return nil
	}
	off := d.i
	s, err := d.stringValue(f.Name, want)
	if err != nil || s == "" {
		return err
	}
	if !digitString(s) {
		return wrongType(f.Name, off, want, strconv.Quote(shortLit(s)))
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fieldErr(f.Name, off, ErrWrongType, "integer "+shortLit(s)+" is out of the int64 range")
	}
	*at.duration(&d.ev) = d.newDuration(Duration{Nanos: n, Quoted: true})
	return nil
}

// digitString reports whether s is an optional '-' then one or more digits.
func digitString(s string) bool {
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return len(s) > 0
}

func (d *decoder) labels(f *Field, at slot) error {
	if d.peek() != '{' {
		return d.wrongType(f.Name, "an object of strings")
	}
	var m map[string]string
	err := d.members(func(key string, off int) error {
		if len(key) > d.lim.MaxStringBytes {
			return limitErr(f.Name, off, "label key of %d bytes is over the limit of %d bytes", len(key), d.lim.MaxStringBytes)
		}
		if _, dup := m[key]; dup {
			return fieldErr(f.Name+"."+key, off, ErrSyntax, "duplicate field")
		}
		if d.peek() == 'n' { // null: as if absent
			return d.skipNull()
		}
		v, err := d.stringValue("", "a string")
		if err != nil {
			return setPath(err, f.Name+"."+key)
		}
		if m == nil {
			m = make(map[string]string, 8)
		}
		if len(m) >= d.lim.MaxLabels {
			return limitErr(f.Name, off, "more than %d labels", d.lim.MaxLabels)
		}
		m[key] = v
		return nil
	})
	*at.labels(&d.ev) = m
	return err
}

func (d *decoder) refs(f *Field, at slot) error {
	if d.peek() != '[' {
		return d.wrongType(f.Name, "an array of objects")
	}
	// The refs go to a slab, as lists' strings do: one the decoder keeps
	// from document to document when reused (Decoder), else a new one.
	start := len(d.refSlab)
	err := d.elements(func(idx, off int) error {
		if idx >= d.lim.MaxRefs {
			return limitErr(f.Name, off, "more than %d saved objects", d.lim.MaxRefs)
		}
		r, err := d.ref(f.Name, idx)
		d.refSlab = append(d.refSlab, r)
		return err
	})
	if err != nil {
		return err
	}
	if end := len(d.refSlab); end > start {
		*at.refs(&d.ev) = d.refSlab[start:end:end]
	}
	return nil
}

// refKeys are the keys of a saved-object ref, in binary and JSON order.
var refKeys = [5]string{"rel", "namespace", "id", "type", "type_id"}

// refKeyColons are refKeys as ref guesses them (keyIs): each key after
// the one before it in refKeys, the order AppendJSON writes them in.
var refKeyColons = func() (ks [len(refKeys)]keyColon) {
	for i, k := range refKeys {
		ks[i] = newKeyColon(k)
	}
	return ks
}()

// refFields returns pointers to the ref's strings in refKeys order.
func refFields(r *SavedObject) [5]*string {
	return [5]*string{&r.Rel, &r.Namespace, &r.ID, &r.Type, &r.TypeID}
}

func refKey(key string) int {
	for i, k := range refKeys {
		if k == key {
			return i
		}
	}
	return -1
}

// ref reads element idx of kibana.saved_objects (name). A member's key
// is first compared with the one after the last key in refKeys (keyIs),
// and read and looked up only when it is not that one.
func (d *decoder) ref(name string, idx int) (SavedObject, error) {
	var r SavedObject
	if d.peek() != '{' {
		return r, d.wrongType(indexPath(name, idx), "an object")
	}
	if d.openObject() {
		return r, nil
	}
	dst := refFields(&r)
	var seen uint8
	for guess := 0; ; {
		off, k, key := d.i, guess, ""
		if k < len(refKeyColons) && d.keyIs(&refKeyColons[k]) {
			key = refKeys[k]
		} else {
			var err error
			if key, err = d.memberKey(); err != nil {
				return r, err
			}
			k = refKey(key)
		}
		if k < 0 {
			return r, fieldErr(indexPath(name, idx)+"."+key, off, ErrUnknownField, "unknown field")
		}
		if seen&(1<<k) != 0 {
			return r, fieldErr(indexPath(name, idx)+"."+key, off, ErrSyntax, "duplicate field")
		}
		seen |= 1 << k
		if err := d.refValue(dst[k], name, idx, key); err != nil {
			return r, err
		}
		if more, err := d.nextMember(); !more || err != nil {
			return r, err
		}
		guess = k + 1
	}
}

// refValue reads the value of member key of element idx of
// kibana.saved_objects (name) into *dst.
func (d *decoder) refValue(dst *string, name string, idx int, key string) error {
	if d.peek() == 'n' { // null: as if absent
		return d.skipNull()
	}
	s, err := d.stringValue("", "a string")
	if err != nil {
		return setPath(err, indexPath(name, idx)+"."+key)
	}
	*dst = s
	return nil
}
