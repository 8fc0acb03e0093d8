package segment

import (
	"encoding/binary"
	"math"
	"slices"

	"github.com/eventlogdb/eventlog/event"
)

// This file encodes the raw (uncompressed) bytes of one column of a block.
// FORMAT-segment.md, "Columns", describes every codec.

// stats are the numeric summary of a column kept in the block index: count
// for every column; sum, min and max for Int and Duration (int64, the sum
// wraps) and Float (float64) columns.
type stats struct {
	Count            uint32
	ISum, IMin, IMax int64
	FSum, FMin, FMax float64
}

func (s *stats) addInt(v int64) {
	if s.Count == 0 || v < s.IMin {
		s.IMin = v
	}
	if s.Count == 0 || v > s.IMax {
		s.IMax = v
	}
	s.ISum += v
	s.Count++
}

func (s *stats) addFloat(v float64) {
	if s.Count == 0 || v < s.FMin {
		s.FMin = v
	}
	if s.Count == 0 || v > s.FMax {
		s.FMax = v
	}
	s.FSum += v
	s.Count++
}

// appendSeqColumn writes uvarint(first seq) then varint deltas.
func appendSeqColumn(dst []byte, rows []Row) []byte {
	dst = binary.AppendUvarint(dst, rows[0].Seq)
	for i := 1; i < len(rows); i++ {
		dst = binary.AppendVarint(dst, int64(rows[i].Seq-rows[i-1].Seq))
	}
	return dst
}

// appendTSColumn writes varint(first instant), uvarint deltas (rows are
// sorted), then the formats as a uniform vector.
func appendTSColumn(dst []byte, rows []Row) []byte {
	prev := int64(0)
	fmts := make([]uint64, len(rows))
	for i, r := range rows {
		ts := r.Event.Timestamp.UnixNano()
		if i == 0 {
			dst = binary.AppendVarint(dst, ts)
		} else {
			dst = binary.AppendUvarint(dst, uint64(ts-prev))
		}
		prev = ts
		fmts[i] = uint64(r.Event.Timestamp.Format())
	}
	return appendUniform(dst, fmts)
}

// appendUniform writes uvarint(0) v when every value is v, else uvarint(1)
// and one uvarint per value.
func appendUniform(dst []byte, vals []uint64) []byte {
	if len(vals) > 0 && !slices.ContainsFunc(vals, func(v uint64) bool { return v != vals[0] }) {
		return binary.AppendUvarint(binary.AppendUvarint(dst, 0), vals[0])
	}
	dst = binary.AppendUvarint(dst, 1)
	for _, v := range vals {
		dst = binary.AppendUvarint(dst, v)
	}
	return dst
}

// appendStrings writes a string vector: dictionary-coded when values
// repeat (at least two uses per distinct value), else plain; values (or
// dictionary entries) that are all UUIDs are stored as 16 bytes each.
func appendStrings(dst []byte, vals []string) []byte {
	ids := make(map[string]uint64, 16)
	var dict []string
	for _, v := range vals {
		if _, ok := ids[v]; !ok {
			ids[v] = uint64(len(dict))
			dict = append(dict, v)
		}
	}
	uuids := allUUIDs(dict)
	switch {
	case len(dict)*2 > len(vals) && uuids:
		return appendUUIDs(binary.AppendUvarint(dst, 2), vals)
	case len(dict)*2 > len(vals):
		return appendPlainStrings(binary.AppendUvarint(dst, 0), vals)
	case uuids:
		dst = appendUUIDs(binary.AppendUvarint(dst, 3), dict)
	default:
		dst = appendPlainStrings(binary.AppendUvarint(dst, 1), dict)
	}
	for _, v := range vals {
		dst = binary.AppendUvarint(dst, ids[v])
	}
	return dst
}

// appendUUIDs writes uvarint(n) and n UUIDs of 16 bytes.
func appendUUIDs(dst []byte, vals []string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(vals)))
	for _, v := range vals {
		dst = appendUUID(dst, v)
	}
	return dst
}

// appendPlainStrings writes uvarint(n), n uvarint lengths, then the bytes.
func appendPlainStrings(dst []byte, vals []string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(vals)))
	for _, v := range vals {
		dst = binary.AppendUvarint(dst, uint64(len(v)))
	}
	for _, v := range vals {
		dst = append(dst, v...)
	}
	return dst
}

// appendPresence writes uvarint(0) when every row is present, else
// uvarint(1) and a bitmap, bit i (LSB first) set when row i is present.
func appendPresence(dst []byte, present []bool) []byte {
	if !slices.Contains(present, false) {
		return binary.AppendUvarint(dst, 0)
	}
	dst = binary.AppendUvarint(dst, 1)
	bits := make([]byte, (len(present)+7)/8)
	for i, p := range present {
		if p {
			bits[i/8] |= 1 << (i % 8)
		}
	}
	return append(dst, bits...)
}

// has reports whether field f of e is stored (empty and non-finite values
// are absent, as in event.AppendBinary).
func has(e *event.Event, f *event.Field) bool {
	switch f.Kind {
	case event.KindString, event.KindIP:
		return *f.Str(e) != ""
	case event.KindStrings:
		return len(f.List(e).Values) != 0
	case event.KindDate:
		return !f.Date(e).IsZero()
	case event.KindInt:
		return *f.Int(e) != nil
	case event.KindFloat:
		v := *f.Float(e)
		return v != nil && !math.IsInf(*v, 0) && !math.IsNaN(*v)
	case event.KindDuration:
		return e.Event.Duration != nil
	case event.KindLabels:
		return len(e.Labels) != 0
	case event.KindRefs:
		return len(e.Kibana.SavedObjects) != 0
	}
	return false
}

// appendFieldColumn writes the column of field f over rows; ok is false when
// no row has the field (the column is not stored).
func appendFieldColumn(dst []byte, f *event.Field, rows []Row) (_ []byte, st stats, ok bool) {
	present := make([]bool, len(rows))
	evs := make([]*event.Event, 0, len(rows))
	for i, r := range rows {
		if has(r.Event, f) {
			present[i] = true
			evs = append(evs, r.Event)
		}
	}
	if len(evs) == 0 {
		return dst, st, false
	}
	dst = appendPresence(dst, present)
	dst, st = appendValues(dst, f, evs)
	st.Count = uint32(len(evs))
	return dst, st, true
}

func appendValues(dst []byte, f *event.Field, evs []*event.Event) ([]byte, stats) {
	var st stats
	switch f.Kind {
	case event.KindString, event.KindIP:
		vals := make([]string, len(evs))
		for i, e := range evs {
			vals[i] = *f.Str(e)
		}
		return appendStrings(dst, vals), st
	case event.KindStrings:
		return appendLists(dst, f, evs), st
	case event.KindDate:
		return appendDates(dst, f, evs), st
	case event.KindInt:
		for _, e := range evs {
			v := **f.Int(e)
			st.addInt(v)
			dst = binary.AppendVarint(dst, v)
		}
	case event.KindFloat:
		for _, e := range evs {
			v := **f.Float(e)
			st.addFloat(v)
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
		}
	case event.KindDuration:
		return appendDurations(dst, evs)
	case event.KindLabels:
		return appendLabels(dst, evs), st
	case event.KindRefs:
		return appendRefs(dst, evs), st
	}
	return dst, st
}

// appendLists writes one uvarint(count<<1 | scalar) per row, then every
// value as one string vector.
func appendLists(dst []byte, f *event.Field, evs []*event.Event) []byte {
	var vals []string
	for _, e := range evs {
		l := f.List(e)
		head := uint64(len(l.Values)) << 1
		if l.Scalar && len(l.Values) == 1 {
			head |= 1
		}
		dst = binary.AppendUvarint(dst, head)
		vals = append(vals, l.Values...)
	}
	return appendStrings(dst, vals)
}

// appendDates writes the formats as a uniform vector, then per row
// varint(instant/unit - floor(@timestamp/unit)), unit being the last
// fraction digit the format writes (1s for none, 1ms for 3 digits, ...):
// dates near the event's @timestamp take a byte or two.
func appendDates(dst []byte, f *event.Field, evs []*event.Event) []byte {
	fmts := make([]uint64, len(evs))
	for i, e := range evs {
		fmts[i] = uint64(f.Date(e).Format())
	}
	dst = appendUniform(dst, fmts)
	for i, e := range evs {
		unit := dateUnit(fmts[i])
		dst = binary.AppendVarint(dst, f.Date(e).UnixNano()/unit-floorDiv(e.Timestamp.UnixNano(), unit))
	}
	return dst
}

// dateUnit returns the nanoseconds of the last fraction digit of a format
// (bits 0-3 of event.Format hold the digit count), 1 when out of range.
func dateUnit(f uint64) int64 {
	unit := int64(1e9)
	for range min(f&15, 9) {
		unit /= 10
	}
	return unit
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// appendDurations writes varint nanoseconds per row, then the quoted flags
// (0 or 1) as a uniform vector.
func appendDurations(dst []byte, evs []*event.Event) ([]byte, stats) {
	var st stats
	quoted := make([]uint64, len(evs))
	for i, e := range evs {
		d := e.Event.Duration
		st.addInt(d.Nanos)
		dst = binary.AppendVarint(dst, d.Nanos)
		if d.Quoted {
			quoted[i] = 1
		}
	}
	return appendUniform(dst, quoted), st
}

// appendLabels writes uvarint(count) per row, then all keys (sorted within
// a row) and all values as two string vectors.
func appendLabels(dst []byte, evs []*event.Event) []byte {
	var keys, vals []string
	for _, e := range evs {
		ks := make([]string, 0, len(e.Labels))
		for k := range e.Labels {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		dst = binary.AppendUvarint(dst, uint64(len(ks)))
		for _, k := range ks {
			keys = append(keys, k)
			vals = append(vals, e.Labels[k])
		}
	}
	return appendStrings(appendStrings(dst, keys), vals)
}

// appendRefs writes uvarint(count) per row, then the rel, namespace, id,
// type and type_id of every ref as five string vectors.
func appendRefs(dst []byte, evs []*event.Event) []byte {
	var parts [5][]string
	for _, e := range evs {
		refs := e.Kibana.SavedObjects
		dst = binary.AppendUvarint(dst, uint64(len(refs)))
		for _, r := range refs {
			for j, s := range [5]string{r.Rel, r.Namespace, r.ID, r.Type, r.TypeID} {
				parts[j] = append(parts[j], s)
			}
		}
	}
	for _, p := range parts {
		dst = appendStrings(dst, p)
	}
	return dst
}
