package segment

import (
	"encoding/binary"
	"math"
	"slices"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/match"
)

// This file encodes the raw (uncompressed) bytes of one column of a block.
// FORMAT.md, "Segment files", "Columns", describes every codec.

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
func (c *colEncoder) appendTSColumn(dst []byte, rows []Row) []byte {
	prev := int64(0)
	fmts := c.u64s(len(rows))
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
func (c *colEncoder) appendStrings(dst []byte, vals []string) []byte {
	clear(c.ids)
	c.dict, c.idx = c.dict[:0], c.idx[:0]
	for _, v := range vals {
		id, ok := c.ids[v]
		if !ok {
			id = uint64(len(c.dict))
			c.ids[v] = id
			c.dict = append(c.dict, v)
		}
		c.idx = append(c.idx, id)
	}
	uuids := allUUIDs(c.dict)
	switch {
	case len(c.dict)*2 > len(vals) && uuids:
		return appendUUIDs(binary.AppendUvarint(dst, 2), vals)
	case len(c.dict)*2 > len(vals):
		return appendPlainStrings(binary.AppendUvarint(dst, 0), vals)
	case uuids:
		dst = appendUUIDs(binary.AppendUvarint(dst, 3), c.dict)
	default:
		dst = appendPlainStrings(binary.AppendUvarint(dst, 1), c.dict)
	}
	for _, id := range c.idx {
		dst = binary.AppendUvarint(dst, id)
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

// colEncoder encodes the columns of blocks, reusing its scratch slices and
// map from column to column and block to block.
type colEncoder struct {
	evs  []*event.Event
	u64  []uint64
	i64  []int64
	strs [6][]string
	ids  map[string]uint64
	dict []string
	idx  []uint64
	keys []string
}

func newColEncoder() *colEncoder { return &colEncoder{ids: map[string]uint64{}} }

func (c *colEncoder) u64s(n int) []uint64 {
	c.u64 = slices.Grow(c.u64[:0], n)[:n]
	clear(c.u64)
	return c.u64
}

// appendPresence writes uvarint(0) when every row has slot si, else
// uvarint(1) and a bitmap, bit i (LSB first) set when row i has it. It
// collects the events holding the field in c.evs.
func (c *colEncoder) appendPresence(dst []byte, si int, rows []Row, masks []mask) []byte {
	c.evs = c.evs[:0]
	for i := range rows {
		if masks[i].has(si) {
			c.evs = append(c.evs, rows[i].Event)
		}
	}
	if len(c.evs) == len(rows) {
		return binary.AppendUvarint(dst, 0)
	}
	dst = binary.AppendUvarint(dst, 1)
	at := len(dst)
	dst = append(dst, make([]byte, (len(rows)+7)/8)...)
	for i := range rows {
		if masks[i].has(si) {
			dst[at+i/8] |= 1 << (i % 8)
		}
	}
	return dst
}

// appendFieldColumn writes the column of slot si over rows, whose present
// fields are masks. The caller skips fields no row has.
func (c *colEncoder) appendFieldColumn(dst []byte, si int, rows []Row, masks []mask) ([]byte, stats) {
	dst = c.appendPresence(dst, si, rows, masks)
	dst, st := c.appendValues(dst, &slots[si])
	st.Count = uint32(len(c.evs))
	return dst, st
}

func (c *colEncoder) appendValues(dst []byte, s *fieldSlot) ([]byte, stats) {
	var st stats
	switch s.kind {
	case event.KindString, event.KindIP:
		vals := c.strs[0][:0]
		for _, e := range c.evs {
			vals = append(vals, *s.str(e))
		}
		c.strs[0] = vals
		return c.appendStrings(dst, vals), st
	case event.KindStrings:
		return c.appendLists(dst, s), st
	case event.KindDate:
		return c.appendDates(dst, s), st
	case event.KindInt:
		vals := c.i64[:0]
		for _, e := range c.evs {
			v := **s.int(e)
			st.addInt(v)
			vals = append(vals, v)
		}
		c.i64 = vals
		return appendScaled(dst, vals), st
	case event.KindFloat:
		for _, e := range c.evs {
			v := **s.float(e)
			st.addFloat(v)
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
		}
	case event.KindDuration:
		return c.appendDurations(dst)
	case event.KindLabels:
		return c.appendLabels(dst), st
	case event.KindRefs:
		return c.appendRefs(dst), st
	}
	return dst, st
}

// pow10 holds 10^k for k = 0..18, the decimal scales of integer columns.
var pow10 = func() (p [19]int64) {
	p[0] = 1
	for k := 1; k < len(p); k++ {
		p[k] = p[k-1] * 10
	}
	return p
}()

// decimalScale returns the largest k (0..18) such that 10^k divides every
// value, 0 when all are zero.
func decimalScale(vals []int64) int {
	k, any := len(pow10)-1, false
	for _, v := range vals {
		if v == 0 {
			continue
		}
		any = true
		for k > 0 && v%pow10[k] != 0 {
			k--
		}
		if k == 0 {
			break
		}
	}
	if !any {
		return 0
	}
	return k
}

// appendScaled writes uvarint(k) and varint(v / 10^k) per value, k being
// the decimal scale of vals: durations in whole milliseconds take 2-3
// bytes instead of 5.
func appendScaled(dst []byte, vals []int64) []byte {
	k := decimalScale(vals)
	dst = binary.AppendUvarint(dst, uint64(k))
	for _, v := range vals {
		dst = binary.AppendVarint(dst, v/pow10[k])
	}
	return dst
}

// appendLists writes one uvarint(count<<1 | scalar) per row, then every
// value as one string vector.
func (c *colEncoder) appendLists(dst []byte, s *fieldSlot) []byte {
	vals := c.strs[0][:0]
	for _, e := range c.evs {
		l := s.list(e)
		head := uint64(len(l.Values)) << 1
		if l.Scalar && len(l.Values) == 1 {
			head |= 1
		}
		dst = binary.AppendUvarint(dst, head)
		vals = append(vals, l.Values...)
	}
	c.strs[0] = vals
	return c.appendStrings(dst, vals)
}

// appendDates writes the formats as a uniform vector, then per row
// varint(instant/unit - floor(@timestamp/unit)), unit being the last
// fraction digit the format writes (1s for none, 1ms for 3 digits, ...):
// dates near the event's @timestamp take a byte or two.
func (c *colEncoder) appendDates(dst []byte, s *fieldSlot) []byte {
	fmts := c.u64s(len(c.evs))
	for i, e := range c.evs {
		fmts[i] = uint64(s.date(e).Format())
	}
	dst = appendUniform(dst, fmts)
	for i, e := range c.evs {
		unit := dateUnit(fmts[i])
		dst = binary.AppendVarint(dst, s.date(e).UnixNano()/unit-match.FloorDiv(e.Timestamp.UnixNano(), unit))
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

// appendDurations writes the nanoseconds as a scaled vector, then the
// quoted flags (0 or 1) as a uniform vector.
func (c *colEncoder) appendDurations(dst []byte) ([]byte, stats) {
	var st stats
	nanos := c.i64[:0]
	quoted := c.u64s(len(c.evs))
	for i, e := range c.evs {
		d := e.Event.Duration
		st.addInt(d.Nanos)
		nanos = append(nanos, d.Nanos)
		if d.Quoted {
			quoted[i] = 1
		}
	}
	c.i64 = nanos
	return appendUniform(appendScaled(dst, nanos), quoted), st
}

// appendLabels writes uvarint(count) per row, then all keys (sorted within
// a row) and all values as two string vectors.
func (c *colEncoder) appendLabels(dst []byte) []byte {
	keys, vals := c.strs[0][:0], c.strs[1][:0]
	for _, e := range c.evs {
		ks := c.keys[:0]
		for k := range e.Labels {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		c.keys = ks
		dst = binary.AppendUvarint(dst, uint64(len(ks)))
		for _, k := range ks {
			keys = append(keys, k)
			vals = append(vals, e.Labels[k])
		}
	}
	c.strs[0], c.strs[1] = keys, vals
	return c.appendStrings(c.appendStrings(dst, keys), vals)
}

// appendRefs writes uvarint(count) per row, then the rel, namespace, id,
// type and type_id of every ref as five string vectors.
func (c *colEncoder) appendRefs(dst []byte) []byte {
	var parts [5][]string
	for j := range parts {
		parts[j] = c.strs[j][:0]
	}
	for _, e := range c.evs {
		refs := e.Kibana.SavedObjects
		dst = binary.AppendUvarint(dst, uint64(len(refs)))
		for i := range refs {
			r := &refs[i]
			parts[0] = append(parts[0], r.Rel)
			parts[1] = append(parts[1], r.Namespace)
			parts[2] = append(parts[2], r.ID)
			parts[3] = append(parts[3], r.Type)
			parts[4] = append(parts[4], r.TypeID)
		}
	}
	for j, p := range parts {
		c.strs[j] = p
		dst = c.appendStrings(dst, p)
	}
	return dst
}
