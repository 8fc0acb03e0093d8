package segment

import (
	"math"
	"math/bits"
	"unsafe"

	"github.com/eventlogdb/eventlog/event"
)

// The writer looks at every field of every row. Calling the event.Field
// accessor closures for that was a tenth of all ingest CPU, so, like package
// event does internally, it reaches a field through its byte offset in
// event.Event, computed once from the exported accessors.
// TestFieldSlots checks every offset against its accessor, and rowInfo's
// size against event.AppendBinary.

// fieldSlot is where the field fields[i] lives in an event.Event.
type fieldSlot struct {
	f    *event.Field
	off  uintptr
	kind event.Kind
}

// slots holds the fields of event.Fields() except @timestamp (column 1,
// written from every row), in field-table order (increasing id).
var slots = buildSlots()

// maxSlots bounds len(slots): presence masks are two words.
const maxSlots = 128

func buildSlots() []fieldSlot {
	var probe event.Event
	base := uintptr(unsafe.Pointer(&probe))
	var out []fieldSlot
	for i := range event.Fields() {
		f := &event.Fields()[i]
		if f.ID == colTS {
			continue
		}
		out = append(out, fieldSlot{f: f, off: uintptr(fieldAddr(&probe, f)) - base, kind: f.Kind})
	}
	if len(out) > maxSlots {
		panic("segment: more than 128 event fields") // programmer error, at init
	}
	return out
}

// fieldAddr returns the address of f's storage in e, through its accessor.
func fieldAddr(e *event.Event, f *event.Field) unsafe.Pointer {
	switch f.Kind {
	case event.KindString, event.KindIP, event.KindExtra:
		return unsafe.Pointer(f.Str(e))
	case event.KindStrings:
		return unsafe.Pointer(f.List(e))
	case event.KindDate:
		return unsafe.Pointer(f.Date(e))
	case event.KindInt:
		return unsafe.Pointer(f.Int(e))
	case event.KindFloat:
		return unsafe.Pointer(f.Float(e))
	case event.KindDuration:
		return unsafe.Pointer(&e.Event.Duration)
	case event.KindLabels:
		return unsafe.Pointer(&e.Labels)
	case event.KindRefs:
		return unsafe.Pointer(&e.Kibana.SavedObjects)
	}
	panic("segment: field " + f.Name + " has an unknown kind") // programmer error, at init
}

func (s *fieldSlot) ptr(e *event.Event) unsafe.Pointer { return unsafe.Add(unsafe.Pointer(e), s.off) }
func (s *fieldSlot) str(e *event.Event) *string        { return (*string)(s.ptr(e)) }
func (s *fieldSlot) list(e *event.Event) *event.StringList {
	return (*event.StringList)(s.ptr(e))
}
func (s *fieldSlot) date(e *event.Event) *event.Date { return (*event.Date)(s.ptr(e)) }
func (s *fieldSlot) int(e *event.Event) **int64      { return (**int64)(s.ptr(e)) }
func (s *fieldSlot) float(e *event.Event) **float64  { return (**float64)(s.ptr(e)) }

// present reports whether the field is stored for e and the bytes its value
// takes in event.AppendBinary (id byte included). Empty values and
// non-finite floats are absent, as there.
func (s *fieldSlot) present(e *event.Event) (bool, int) {
	switch s.kind {
	case event.KindString, event.KindIP, event.KindExtra:
		n := len(*s.str(e))
		return n != 0, 1 + strSize(n)
	case event.KindStrings:
		l := s.list(e)
		return len(l.Values) != 0, 1 + listSize(l)
	case event.KindDate:
		d := s.date(e)
		return !d.IsZero(), 1 + varintSize(d.UnixNano()) + uvarintSize(uint64(d.Format()))
	case event.KindInt:
		v := *s.int(e)
		return v != nil, 1 + varintSize(deref(v))
	case event.KindFloat:
		v := *s.float(e)
		return v != nil && !math.IsInf(*v, 0) && !math.IsNaN(*v), 9
	case event.KindDuration:
		d := e.Event.Duration
		if d == nil {
			return false, 0
		}
		return true, 2 + varintSize(d.Nanos)
	case event.KindLabels:
		return len(e.Labels) != 0, 1 + labelsSize(e.Labels)
	case event.KindRefs:
		return len(e.Kibana.SavedObjects) != 0, 1 + refsSize(e.Kibana.SavedObjects)
	}
	return false, 0
}

func deref(v *int64) int64 {
	if v == nil {
		return 0
	}
	return *v
}

func uvarintSize(v uint64) int { return (bits.Len64(v|1) + 6) / 7 }
func varintSize(v int64) int   { return uvarintSize(uint64(v<<1) ^ uint64(v>>63)) }
func strSize(n int) int        { return uvarintSize(uint64(n)) + n }

func listSize(l *event.StringList) int {
	n := uvarintSize(uint64(len(l.Values)) << 1)
	for _, v := range l.Values {
		n += strSize(len(v))
	}
	return n
}

func labelsSize(m map[string]string) int {
	n := uvarintSize(uint64(len(m)))
	for k, v := range m {
		n += strSize(len(k)) + strSize(len(v))
	}
	return n
}

func refsSize(refs []event.SavedObject) int {
	n := uvarintSize(uint64(len(refs)))
	for i := range refs {
		r := &refs[i]
		n += strSize(len(r.Rel)) + strSize(len(r.Namespace)) + strSize(len(r.ID)) + strSize(len(r.Type)) + strSize(len(r.TypeID))
	}
	return n
}

// mask is a set of slot indexes.
type mask [maxSlots / 64]uint64

func (m *mask) set(i int)      { m[i/64] |= 1 << (i % 64) }
func (m *mask) has(i int) bool { return m[i/64]&(1<<(i%64)) != 0 }
func (m *mask) or(o *mask)     { m[0] |= o[0]; m[1] |= o[1] }
func (m *mask) count() int     { return bits.OnesCount64(m[0]) + bits.OnesCount64(m[1]) }

// slotOfField maps a field's position in event.Fields() to its slot, -1
// for @timestamp, which has none.
var slotOfField = func() []int {
	out := make([]int, len(event.Fields()))
	si := 0
	for i := range event.Fields() {
		if event.Fields()[i].ID == colTS {
			out[i] = -1
			continue
		}
		out[i] = si
		si++
	}
	return out
}()

// maskOf returns the mask of the fields s says an event has.
func maskOf(s *event.RowShape) mask {
	var m mask
	for w, word := range s.Fields {
		for word != 0 {
			pos := w*64 + bits.TrailingZeros64(word)
			word &= word - 1
			if si := slotOfField[pos]; si >= 0 {
				m.set(si)
			}
		}
	}
	return m
}

// rowInfo returns the fields present in e and the size of its binary form
// (event.AppendBinary), in one pass over the slots.
func rowInfo(e *event.Event) (mask, int) {
	var m mask
	size := 0
	if !e.Timestamp.IsZero() {
		size = 1 + varintSize(e.Timestamp.UnixNano()) + uvarintSize(uint64(e.Timestamp.Format()))
	}
	for i := range slots {
		if ok, n := slots[i].present(e); ok {
			m.set(i)
			size += n
		}
	}
	return m, size
}
