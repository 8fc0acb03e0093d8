package event

import "unsafe"

// RowDecoder decodes binary forms (AppendBinary) one after another into one
// Event, reusing its memory: sealing decodes every row of a head, and a
// new event per row (its lists, numbers, refs and duration in new slabs)
// was a fifth of the decoding's cost and garbage for the collector.
//
// Decode checks its input exactly as DecodeBinaryShared does and returns
// the same event. The event and everything it points to are borrowed: its
// strings share src, which must not change while they are in use, and the
// event, its lists, numbers, refs and labels are x's, overwritten by the
// next Decode. The zero value is ready to use; a RowDecoder is not safe for
// concurrent use.
type RowDecoder struct {
	d      binDecoder
	labels map[string]string
	shape  RowShape
}

// RowShape is what decoding an event's binary form learns of it beside
// its values: which fields it has and the size of the form. A segment
// writer given it (segment.Row.Shape) need not walk every field of the
// event to find them.
type RowShape struct {
	// Fields has bit i set (Fields[i/64] & 1<<(i%64)) when the event has
	// the field Fields()[i].
	Fields [2]uint64
	// Size is the length of the binary form.
	Size int
}

// Has reports whether the event has the field Fields()[pos].
func (s *RowShape) Has(pos int) bool { return s.Fields[pos/64]&(1<<(pos%64)) != 0 }

// Decode checks src and decodes it, sharing its memory (see RowDecoder).
func (x *RowDecoder) Decode(src []byte) (*Event, error) {
	// Reset d field by field, in place: assigning it a new binDecoder
	// built the 1.5 KB value on the stack, then copied it over d, a
	// sixth of decoding a realistic row (BenchmarkRowDecoderRealistic).
	// Clearing only the fields the last event had cost more than
	// clearing the whole event.
	d := &x.d
	d.ev = Event{}
	d.slabs.reuse()
	d.src, d.text, d.i, d.err = src, unsafe.String(unsafe.SliceData(src), len(src)), 0, nil
	d.skip, d.present, d.labelMap = nil, [2]uint64{}, x.labels
	err := d.decode()
	x.shape = RowShape{Fields: d.present, Size: len(src)}
	if d.ev.Labels != nil {
		x.labels = d.ev.Labels
	}
	if err != nil {
		return nil, err
	}
	return &d.ev, nil
}

// Shape returns the shape of the event the last Decode returned, valid
// until the next Decode.
func (x *RowDecoder) Shape() *RowShape { return &x.shape }

// RowShape.Fields holds 128 fields.
func init() {
	if len(fields) > 128 {
		panic("event: more than 128 fields do not fit RowShape") // programmer error, at init
	}
}
