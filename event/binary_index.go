package event

import "unsafe"

// IndexDecoder decodes binary forms (AppendBinary) for what the store
// indexes an event by, and nothing more: replaying the write-ahead log
// needs each event's @timestamp and posting keys, not the whole event, and
// materialising every field (its lists, labels map, numbers and refs) was
// most of replay's decoding cost.
//
// Decode checks its input exactly as DecodeBinary does: the same input
// gives the same error, so a record that passed its checksum but holds a
// malformed event is refused as before. The zero value is ready to use;
// an IndexDecoder is not safe for concurrent use.
type IndexDecoder struct {
	d binDecoder
}

// indexSkipped marks by field-table position the fields IndexDecoder
// checks and leaves out: all but @timestamp, the Indexed fields, and the
// two that Event.Spaces reads (kibana.saved_objects and kibana.space_ids).
var indexSkipped = func() []bool {
	skip := make([]bool, len(fields))
	for i, f := range fields {
		keep := f.Indexed || f.Kind == KindRefs || f.Name == "@timestamp" || f.Name == "kibana.space_ids"
		skip[i] = !keep
	}
	return skip
}()

// Decode checks src as DecodeBinary does and returns the event with only
// @timestamp, the Indexed fields, Kibana.SavedObjects and Kibana.SpaceIDs
// set: enough for its posting keys (index.AppendTerms) and Spaces. The
// event and its strings are borrowed: the strings share src, which must not
// change while they are in use, and the event, its lists and refs are x's,
// valid until the next Decode.
func (x *IndexDecoder) Decode(src []byte) (*Event, error) {
	d := &x.d
	// Only the kept fields' slots change from event to event: empty them
	// rather than zero the whole decoder, whose Event is 1.4 KB (zeroing
	// it for every event was a sixth of replay's decoding).
	for _, s := range indexKept {
		s.clear(&d.ev)
	}
	d.src, d.text, d.i, d.err = src, unsafe.String(unsafe.SliceData(src), len(src)), 0, nil
	d.present = [2]uint64{}
	d.skip = indexSkipped
	d.strs = d.strs[:0]
	if err := d.decode(); err != nil {
		return nil, err
	}
	return &d.ev, nil
}

// indexKept are the slots of the fields IndexDecoder keeps.
var indexKept = func() []slot {
	var kept []slot
	for i, skip := range indexSkipped {
		if !skip {
			kept = append(kept, slots[i])
		}
	}
	return kept
}()

// clear sets the slot of e to its zero value.
func (s slot) clear(e *Event) {
	switch s.kind {
	case KindString, KindIP:
		*s.str(e) = ""
	case KindStrings:
		*s.list(e) = StringList{}
	case KindDate:
		*s.date(e) = Date{}
	case KindInt:
		*s.int(e) = nil
	case KindFloat:
		*s.float(e) = nil
	case KindDuration:
		*s.duration(e) = nil
	case KindLabels:
		*s.labels(e) = nil
	case KindRefs:
		*s.refs(e) = nil
	case KindExtra:
		e.Extra = Extra{}
	}
}

// skipValue checks a value as value does, keeping nothing and allocating
// nothing (but for the rare kept unknown fields, whose check parses them).
func (d *binDecoder) skipValue(f *Field) {
	off := d.i
	switch f.Kind {
	case KindString, KindIP:
		if d.str() == "" {
			d.fail(off, "field %s: empty string", f.Name)
		}
	case KindStrings:
		n, _ := d.listHeader(f)
		for i := uint64(0); i < n && d.err == nil; i++ {
			d.str()
		}
	case KindDate:
		d.date(f)
	case KindInt:
		d.varint()
	case KindFloat:
		d.floatValue(f)
	case KindDuration:
		d.durationValue(f)
	case KindLabels:
		if n := d.count(2); d.err == nil {
			d.labelPairs(n, func(string, string) {})
		}
	case KindRefs:
		d.refs()
	case KindExtra:
		d.extra(f)
	default:
		d.fail(off, "field %s: unknown kind %d", f.Name, f.Kind)
	}
}
