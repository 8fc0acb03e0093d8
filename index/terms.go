package index

import (
	"github.com/eventlogdb/eventlog/event"
)

// Term is one posting key: an indexed field and a value. Saved-object refs
// are keyed by the whole ref (see RefKey), because intersecting separate
// bitmaps for type, id and space gives false hits when an event carries
// two refs; their type, namespace and rel, and the event's spaces, have
// derived terms of their own (see Layout).
type Term struct {
	Field string
	Value string
}

// Layout names the set of posting keys a source holds: segment files of
// format version 1 hold LayoutV1, everything written since LayoutV2. A
// query asks a source for its layout and falls back to checking decoded
// rows for what an older layout cannot answer.
type Layout uint8

const (
	// LayoutV1: the indexed fields, and refs under RefField keyed by
	// RefValue (type first). No derived terms.
	LayoutV1 Layout = 1
	// LayoutV2: the indexed fields; refs under RefField keyed by RefKey
	// (id first, so an id alone is a prefix); each ref's rel under
	// RefRelField; and the event's spaces (event.Event.Spaces) under
	// SpacesField. A ref's type or space alone has no term of its own
	// (on realistic data they would cost some 1.2 and 1.7 bytes an
	// event): deciding every ref key answers them.
	LayoutV2 Layout = 2
	// LayoutV3: LayoutV2 and the engine fields "_id" (the client id: what
	// makes a client id an exact lookup) and "_index".
	LayoutV3 Layout = 3
	// LayoutV4: LayoutV3's terms, with the client ids ("_id") kept out of
	// the dictionary, in pages of their own behind a filter (see
	// postings_ids.go), so that a segment holds in memory only a filter
	// and a page index for its ids, not the ids themselves.
	LayoutV4 Layout = 4
	// LayoutV6 (segment format 6): LayoutV4's terms and section, magic
	// "PST3", with the dictionary packed: a ref key whose id is a UUID
	// holds its 16 bytes instead of 36 hex characters (dict_packed.go).
	// (Segment format 5 kept LayoutV4's postings.)
	LayoutV6 Layout = 6
	// LayoutV8 (segment format 8): LayoutV6's terms and section, magic
	// "PST4", with each list of more than InlineMax rows in the smallest
	// of three kinds, a roaring bitmap, a delta list or a bitset
	// (postings_lists.go), and the packed dictionary split: values and
	// payloads apart, ref key types and spaces numbered (dict_split.go).
	// (Segment format 7 kept LayoutV6's postings.)
	LayoutV8 Layout = 8
)

// Posting fields that are not event fields. Wire constants: they name
// postings in segment files.
const (
	// RefField holds whole saved-object refs.
	RefField = "kibana.saved_objects"
	// RefRelField holds each ref's rel, when it has one.
	RefRelField = "kibana.saved_objects.rel"
	// SpacesField holds the event's spaces (event.Event.Spaces).
	SpacesField = "kibana.spaces"
)

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

// Terms returns the posting keys of ev in the current layout (LayoutV3's
// terms, which LayoutV4 keeps),
// one per indexed value.
func Terms(ev *event.Event) []Term { return AppendTerms(nil, ev) }

// AppendTerms appends the posting keys of ev in the current layout
// (LayoutV3's terms, which LayoutV4 keeps) to dst. A term may repeat (two refs of one type); posting
// builders keep a row once per term.
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
	for i := range ev.Kibana.SavedObjects {
		r := &ev.Kibana.SavedObjects[i]
		dst = append(dst, Term{RefField, RefKey(r.ID, r.Type, r.Space(), r.Primary())})
		if r.Rel != "" {
			dst = append(dst, Term{RefRelField, r.Rel})
		}
	}
	var spaces [4]string
	for _, s := range ev.Spaces(spaces[:0]) {
		dst = append(dst, Term{SpacesField, s})
	}
	return dst
}

// AppendTermsV2 appends the posting keys of ev in LayoutV2 to dst:
// LayoutV3's without the engine fields. Only writers of version 2 files
// for tests of the readers use it.
func AppendTermsV2(dst []Term, ev *event.Event) []Term {
	n := len(dst)
	dst = AppendTerms(dst, ev)
	out := dst[:n]
	for _, t := range dst[n:] {
		if t.Field != event.ClientIDField && t.Field != event.IndexField {
			out = append(out, t)
		}
	}
	return out
}

// AppendTermsV1 appends the posting keys of ev in LayoutV1 to dst: the
// indexed fields and whole refs keyed by RefValue. Only writers of
// version 1 files for tests of the readers use it.
func AppendTermsV1(dst []Term, ev *event.Event) []Term {
	n := len(dst)
	dst = AppendTermsV2(dst, ev)
	out := dst[:n]
	for _, t := range dst[n:] {
		switch t.Field {
		case RefField:
			id, typ, space, primary, _ := ParseRefKey(t.Value)
			out = append(out, Term{RefField, RefValue(typ, id, space, primary)})
		case RefRelField, SpacesField:
		default:
			out = append(out, t)
		}
	}
	return out
}
