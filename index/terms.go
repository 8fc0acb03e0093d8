package index

import (
	"encoding/binary"

	"github.com/eventlogdb/eventlog/event"
)

// Term is one posting key: an indexed field and a value. For saved-object
// refs the value is the whole ref (see RefValue), because intersecting
// separate bitmaps for type, id and space gives false hits when an event
// carries two refs.
type Term struct {
	Field string
	Value string
}

// RefField is the Term.Field of saved-object ref postings.
const RefField = "kibana.saved_objects"

// RefValue is the posting value of a ref: its type, id and space, each
// prefixed by its length as a uvarint so no two refs share a key, then "p"
// for a primary ref or "a" for any other.
func RefValue(typ, id, space string, primary bool) string {
	b := make([]byte, 0, len(typ)+len(id)+len(space)+4)
	for _, s := range [3]string{typ, id, space} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	if primary {
		return string(append(b, 'p'))
	}
	return string(append(b, 'a'))
}

// indexedFields are the fields with postings, taken from the field table
// once: the write path asks for every event's terms.
var indexedFields = func() []event.Field {
	var fs []event.Field
	for _, f := range event.Fields() {
		if f.Indexed {
			fs = append(fs, f)
		}
	}
	return fs
}()

// Terms returns the posting keys of ev, one per indexed value.
func Terms(ev *event.Event) []Term { return AppendTerms(nil, ev) }

// AppendTerms appends the posting keys of ev to dst.
func AppendTerms(dst []Term, ev *event.Event) []Term {
	for _, f := range indexedFields {
		switch f.Kind {
		case event.KindString:
			if v := *f.Str(ev); v != "" {
				dst = append(dst, Term{f.Name, v})
			}
		case event.KindStrings:
			for _, v := range f.List(ev).Values {
				dst = append(dst, Term{f.Name, v})
			}
		}
	}
	for _, r := range ev.Kibana.SavedObjects {
		dst = append(dst, Term{RefField, RefValue(r.Type, r.ID, r.Space(), r.Primary())})
	}
	return dst
}

// RefPrefix is the common prefix of the RefValues of every ref with this
// type and id, whatever its space and rel.
func RefPrefix(typ, id string) string {
	b := make([]byte, 0, len(typ)+len(id)+2)
	for _, s := range [2]string{typ, id} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return string(b)
}
