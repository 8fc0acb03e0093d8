package event

import "strconv"

// The JSON of kept fields: each group's members are written inside their
// object, after the object's known fields, in the order they were sent.

// placedGroups returns x's groups, which are stored in placement order
// (see placeOrder).
func (x Extra) placedGroups(buf []extraGroup) []extraGroup {
	gs := buf[:0]
	x.groups(func(g extraGroup) { gs = append(gs, g) })
	return gs
}

// placeOrder orders schema objects as AppendJSON meets them to write their
// kept fields: by the last field-table position under the object, deeper
// objects first, so that a group is written once its object holds no more
// known field and before the writer leaves the object for good. Groups are
// stored in this order, so one document has one encoding.
func placeOrder(a, b *node) int {
	if a.last != b.last {
		return a.last - b.last
	}
	return b.depth - a.depth
}

// extraGroup writes the members of g inside its object.
func (w *jsonWriter) extraGroup(g extraGroup) {
	w.moveTo(g.n)
	r := treeReader{s: g.body}
	for range r.uvarint() {
		w.comma()
		w.b = appendString(w.b, r.str())
		w.b = append(w.b, ':')
		w.b = r.appendJSON(w.b)
		w.more = true
	}
}

// appendJSON appends the value at the offset as JSON.
func (r *treeReader) appendJSON(b []byte) []byte {
	tag := r.s[r.i]
	r.i++
	switch tag {
	case tagNull:
		return append(b, "null"...)
	case tagFalse:
		return append(b, "false"...)
	case tagTrue:
		return append(b, "true"...)
	case tagInt:
		return strconv.AppendInt(b, r.varint(), 10)
	case tagNumber:
		return append(b, r.str()...)
	case tagString:
		return appendString(b, r.str())
	case tagArray:
		b = append(b, '[')
		for i := range r.uvarint() {
			if i > 0 {
				b = append(b, ',')
			}
			b = r.appendJSON(b)
		}
		return append(b, ']')
	}
	b = append(b, '{')
	for i := range r.uvarint() {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, r.str())
		b = append(b, ':')
		b = r.appendJSON(b)
	}
	return append(b, '}')
}
