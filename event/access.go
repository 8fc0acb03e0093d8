package event

import "unsafe"

// The encoders and decoders reach a field's storage through its byte offset
// in Event, computed once from the field table's accessors: an indirect call
// per field was most of the cost of the binary codec, and passing *Event to
// unknown functions made every decoded Event escape to the heap.
// TestSlotsMatchAccessors checks every offset against its accessor.

// slot is where field fields[i] lives in an Event.
type slot struct {
	off  uintptr
	kind Kind
}

var slots = buildSlots(fields)

func buildSlots(fs []Field) []slot {
	var probe Event
	base := uintptr(unsafe.Pointer(&probe))
	out := make([]slot, len(fs))
	for i := range fs {
		out[i] = slot{off: uintptr(fieldPtr(&probe, &fs[i])) - base, kind: fs[i].Kind}
	}
	return out
}

// fieldPtr returns the address of f's storage in e, through the accessors.
func fieldPtr(e *Event, f *Field) unsafe.Pointer {
	switch f.Kind {
	case KindString, KindIP, KindExtra:
		return unsafe.Pointer(f.Str(e))
	case KindStrings:
		return unsafe.Pointer(f.List(e))
	case KindDate:
		return unsafe.Pointer(f.Date(e))
	case KindInt:
		return unsafe.Pointer(f.Int(e))
	case KindFloat:
		return unsafe.Pointer(f.Float(e))
	case KindDuration:
		return unsafe.Pointer(&e.Event.Duration)
	case KindLabels:
		return unsafe.Pointer(&e.Labels)
	case KindRefs:
		return unsafe.Pointer(&e.Kibana.SavedObjects)
	}
	panic("event: field " + f.Name + " has an unknown kind") // programmer error in the table, at init
}

func (s slot) ptr(e *Event) unsafe.Pointer        { return unsafe.Add(unsafe.Pointer(e), s.off) }
func (s slot) str(e *Event) *string               { return (*string)(s.ptr(e)) }
func (s slot) list(e *Event) *StringList          { return (*StringList)(s.ptr(e)) }
func (s slot) date(e *Event) *Date                { return (*Date)(s.ptr(e)) }
func (s slot) int(e *Event) **int64               { return (**int64)(s.ptr(e)) }
func (s slot) float(e *Event) **float64           { return (**float64)(s.ptr(e)) }
func (s slot) duration(e *Event) **Duration       { return (**Duration)(s.ptr(e)) }
func (s slot) labels(e *Event) *map[string]string { return (*map[string]string)(s.ptr(e)) }
func (s slot) refs(e *Event) *[]SavedObject       { return (*[]SavedObject)(s.ptr(e)) }

func durationOf(e *Event) **Duration       { return &e.Event.Duration }
func labelsOf(e *Event) *map[string]string { return &e.Labels }
func refsOf(e *Event) *[]SavedObject       { return &e.Kibana.SavedObjects }

// A presence is where to look first whether the field of a slot is
// present: one word of its storage that is zero when it is absent (a
// string's or slice's length, a pointer, a Date's format), and, for the
// kinds where a non-zero word does not settle it (a map, which may be
// empty; a float, which may not be finite), that present and finite must
// be asked. AppendBinary skips an event's absent fields (most of the
// schema's 94) with one load each, instead of a switch on the kind.
// TestPresencesMatchPresent checks them against present.
type presence struct {
	word   uintptr // offset in Event of the word
	narrow bool    // the word is a uint32 (a Date's format)
	exact  bool    // a non-zero word must be confirmed by present and finite
}

var presences = buildPresences(slots)

func buildPresences(ss []slot) []presence {
	const lenOffset = unsafe.Sizeof(uintptr(0)) // a string's or slice's length follows its data pointer
	out := make([]presence, len(ss))
	for i, s := range ss {
		p := presence{word: s.off}
		switch s.kind {
		case KindString, KindIP, KindExtra, KindStrings, KindRefs:
			p.word += lenOffset // Extra and StringList begin with the string or slice
		case KindDate:
			p.word, p.narrow = s.off+unsafe.Offsetof(Date{}.format), true
		case KindLabels, KindFloat:
			p.exact = true
		}
		out[i] = p
	}
	return out
}

// maybe reports false when the field is surely absent from the Event at
// base.
func (p *presence) maybe(base unsafe.Pointer) bool {
	w := unsafe.Add(base, p.word)
	if p.narrow {
		return *(*uint32)(w) != 0
	}
	return *(*uintptr)(w) != 0
}

// A fieldSet is a set of field-table positions: bit i%64 of word i/64.
type fieldSet [2]uint64

// A presenceWord is where the presence word of a field is in Event
// (presence.word), and the field's bit in its word of a fieldSet.
type presenceWord struct {
	off uint32
	bit uint32 // position in the field table % 64
}

// presenceWords are the presence words of the fields, in table order, by
// the word of a fieldSet their bits are in (positions 0-63, 64-127): those
// of a uintptr (wide) and those of a uint32 (narrow, a Date's format).
var presenceWords = splitPresences(presences)

func splitPresences(ps []presence) (words [len(fieldSet{})]struct{ wide, narrow []presenceWord }) {
	if len(ps) > len(fieldSet{})*64 {
		panic("event: more fields than a fieldSet holds") // programmer error in the table, at init
	}
	for i, p := range ps {
		w, k := presenceWord{off: uint32(p.word), bit: uint32(i % 64)}, i/64
		if p.narrow {
			words[k].narrow = append(words[k].narrow, w)
		} else {
			words[k].wide = append(words[k].wide, w)
		}
	}
	return words
}

// maybePresent returns the fields of the Event at base that maybe (of
// their presence) does not call surely absent: one load and no branch per
// field, where asking maybe of each field in turn cost a mispredicted
// branch at every present one.
func maybePresent(base unsafe.Pointer) fieldSet {
	var set fieldSet
	for k := range set {
		set[k] = wideBits(base, presenceWords[k].wide) | narrowBits(base, presenceWords[k].narrow)
	}
	return set
}

// wideBits returns the bits of the fields of ws whose presence word, a
// uintptr, is not zero. The bits gather in a register: or-ing them into
// a fieldSet in memory made each field wait for the last one's store.
func wideBits(base unsafe.Pointer, ws []presenceWord) (bits uint64) {
	for _, w := range ws {
		bits |= nonZero(uint64(*(*uintptr)(unsafe.Add(base, uintptr(w.off))))) << w.bit
	}
	return bits
}

// narrowBits is wideBits for presence words that are a uint32.
func narrowBits(base unsafe.Pointer, ws []presenceWord) (bits uint64) {
	for _, w := range ws {
		bits |= nonZero(uint64(*(*uint32)(unsafe.Add(base, uintptr(w.off))))) << w.bit
	}
	return bits
}

// nonZero is 1 when v is not zero, else 0, without a branch.
func nonZero(v uint64) uint64 { return (v | -v) >> 63 }

// present reports whether the field in slot s of e has a value that is
// encoded (an empty string, list, map or slice is absent).
func (s slot) present(e *Event) bool {
	switch s.kind {
	case KindString, KindIP, KindExtra:
		return len(*s.str(e)) != 0
	case KindStrings:
		return len(s.list(e).Values) != 0
	case KindDate:
		return !s.date(e).IsZero()
	case KindInt, KindFloat, KindDuration:
		return *(*unsafe.Pointer)(s.ptr(e)) != nil
	case KindLabels:
		return len(*s.labels(e)) != 0
	case KindRefs:
		return len(*s.refs(e)) != 0
	}
	return false
}

// finite reports false for a float field holding NaN or ±Inf.
func (s slot) finite(e *Event) bool {
	if s.kind != KindFloat {
		return true
	}
	v := **s.float(e)
	return v-v == 0
}
