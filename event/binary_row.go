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
}

// Decode checks src and decodes it, sharing its memory (see RowDecoder).
func (x *RowDecoder) Decode(src []byte) (*Event, error) {
	d := &x.d
	sl, refs := d.slabs, d.refBuf
	sl.reuse()
	*d = binDecoder{
		src:      src,
		text:     unsafe.String(unsafe.SliceData(src), len(src)),
		slabs:    sl,
		refBuf:   refs,
		labelMap: x.labels,
	}
	err := d.decode()
	if d.ev.Labels != nil {
		x.labels = d.ev.Labels
	}
	if err != nil {
		return nil, err
	}
	return &d.ev, nil
}
