package event

import (
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// AppendJSON appends the canonical JSON of e to dst: keys in the order of
// the Event struct (which is the field-table order), absent fields omitted,
// labels sorted by key, strings escaped as encoding/json escapes them
// (including <, > and &), floats formatted as encoding/json formats them.
//
// Kept unknown fields (e.Extra) are written in place: each object's kept
// keys after its known fields, in the order they were sent.
//
// For an event whose empty lists, maps and slices are nil (as Decode
// returns them) and with no kept fields the output is byte-equal to
// json.Marshal(e). Non-finite
// floats, which JSON cannot hold, are omitted (Validate rejects them).
func AppendJSON(dst []byte, e *Event) []byte { return appendJSON(dst, e, false) }

// AppendBodyJSON is AppendJSON of e without its engine fields (ClientID,
// Index), as if they were empty: the body of a stored event's document,
// whose engine fields come first (eventlog.AppendDocument), written
// without a copy of the event to empty them in (an event is some 1.3 KB:
// an export copied 160 MB that way).
func AppendBodyJSON(dst []byte, e *Event) []byte { return appendJSON(dst, e, true) }

// engineSlots marks the slots of the engine fields AppendBodyJSON leaves
// out.
var engineSlots = func() []bool {
	out := make([]bool, len(fields))
	for i := range fields {
		out[i] = fields[i].Name == ClientIDField || fields[i].Name == IndexField
	}
	return out
}()

func appendJSON(dst []byte, e *Event, body bool) []byte {
	w := jsonWriter{b: append(dst, '{'), cur: tree.root}
	var buf [8]extraGroup
	var groups []extraGroup
	if !e.Extra.IsZero() {
		groups = e.Extra.placedGroups(buf[:0])
	}
	base := unsafe.Pointer(e)
	for i := range presences {
		// The presence word first, as AppendBinary: most fields of an
		// event are absent, and one load skips each (testing each by its
		// kind cost a typical event 5 % more).
		p, s := &presences[i], slots[i]
		if !p.maybe(base) || s.kind == KindExtra || p.exact && (!s.present(e) || !s.finite(e)) || (body && engineSlots[i]) {
			continue
		}
		for len(groups) > 0 && groups[0].n.last < i {
			w.extraGroup(groups[0])
			groups = groups[1:]
		}
		n := tree.leaf[i]
		w.moveTo(n.parent)
		w.comma()
		w.b = append(w.b, n.openKey...)
		w.b = appendValue(w.b, e, s)
		w.more = true
	}
	for _, g := range groups {
		w.extraGroup(g)
	}
	w.moveTo(tree.root)
	return append(w.b, '}')
}

// jsonWriter tracks which schema objects are open while AppendJSON writes
// the fields in table order (the fields of one object are contiguous).
type jsonWriter struct {
	b    []byte
	cur  *node // innermost open object
	more bool  // cur already has a member
}

func (w *jsonWriter) comma() {
	if w.more {
		w.b = append(w.b, ',')
	}
}

// moveTo closes objects until cur is an ancestor of p, then opens the
// objects down to p.
func (w *jsonWriter) moveTo(p *node) {
	for !ancestor(w.cur, p) {
		w.b = append(w.b, '}')
		w.cur = w.cur.parent
		w.more = true
	}
	var chain [8]*node
	k := 0
	for q := p; q != w.cur; q = q.parent {
		chain[k] = q
		k++
	}
	for k--; k >= 0; k-- {
		w.comma()
		w.b = append(w.b, chain[k].openKey...)
		w.more = false
	}
	w.cur = p
}

// ancestor reports whether a is p or an ancestor of p.
func ancestor(a, p *node) bool {
	for p.depth > a.depth {
		p = p.parent
	}
	return p == a
}

// appendValue appends the JSON value of the present field in slot f.
func appendValue(b []byte, e *Event, f slot) []byte {
	switch f.kind {
	case KindString, KindIP:
		return appendString(b, *f.str(e))
	case KindStrings:
		return appendList(b, *f.list(e))
	case KindDate:
		b = append(b, '"')
		return append(f.date(e).AppendText(b), '"')
	case KindInt:
		return strconv.AppendInt(b, **f.int(e), 10)
	case KindFloat:
		return appendFloat(b, **f.float(e))
	case KindDuration:
		return appendDuration(b, *f.duration(e))
	case KindLabels:
		return appendLabels(b, *f.labels(e))
	case KindRefs:
		return appendRefs(b, *f.refs(e))
	}
	return append(b, "null"...)
}

func appendList(b []byte, l StringList) []byte {
	if l.Scalar && len(l.Values) == 1 {
		return appendString(b, l.Values[0])
	}
	b = append(b, '[')
	for i, s := range l.Values {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

func appendDuration(b []byte, d *Duration) []byte {
	if d.Quoted {
		b = append(b, '"')
	}
	b = strconv.AppendInt(b, d.Nanos, 10)
	if d.Quoted {
		b = append(b, '"')
	}
	return b
}

// sortedKeys returns m's keys sorted, using buf when it is large enough.
func sortedKeys(m map[string]string, buf []string) []string {
	keys := buf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func appendLabels(b []byte, m map[string]string) []byte {
	var buf [16]string
	b = append(b, '{')
	for i, k := range sortedKeys(m, buf[:]) {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		b = appendString(b, m[k])
	}
	return append(b, '}')
}

func appendRefs(b []byte, refs []SavedObject) []byte {
	b = append(b, '[')
	for i := range refs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		more := false
		for k, p := range refFields(&refs[i]) {
			if *p == "" {
				continue
			}
			if more {
				b = append(b, ',')
			}
			b = append(b, '"')
			b = append(b, refKeys[k]...)
			b = append(b, '"', ':')
			b = appendString(b, *p)
			more = true
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendFloat formats f as encoding/json does (ES6 number formatting).
func appendFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string escaped exactly as encoding/json
// escapes it: ", \, \b, \f, \n, \r, \t by name, other control characters and
// <, >, & as \u00XX, U+2028 and U+2029 as \u202X, invalid UTF-8 as \ufffd.
// AppendJSONString appends s as a JSON string, escaped as AppendJSON
// escapes every string value.
func AppendJSONString(dst []byte, s string) []byte { return appendString(dst, s) }

func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight bytes at a time while they are all copied as they are:
		// nearly every byte of an export's strings is.
		for i+8 <= len(s) && safe8(s[i:i+8]) {
			i += 8
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			b = appendEscape(b, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// jsonSafe holds the ASCII bytes appendString copies as they are: one
// lookup a byte instead of six comparisons (a tenth of an export's CPU
// went to writing documents as JSON).
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// Word masks for safe8: every byte 0x01, every byte 0x80.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// safe8 reports whether the eight bytes of s are all jsonSafe: ASCII, no
// control character, none of " \ < > &. A byte of w that is zero sets its
// top bit in (w - ones) &^ w, and only then (the borrow of a lower byte
// can set a higher one only above a byte that is zero itself), so the
// test is exact; below 0x20 the same with 0x20 for 0x01 (all bytes being
// ASCII first).
func safe8(s string) bool {
	w := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	zero := func(v uint64) uint64 { return (v - ones) &^ v }
	bad := w | (w-0x20*ones)&^w |
		zero(w^'"'*ones) | zero(w^'\\'*ones) | zero(w^'<'*ones) | zero(w^'>'*ones) | zero(w^'&'*ones)
	return bad&highs == 0
}

func appendEscape(b []byte, c byte) []byte {
	switch c {
	case '\\', '"':
		return append(b, '\\', c)
	case '\b':
		return append(b, '\\', 'b')
	case '\f':
		return append(b, '\\', 'f')
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}
