package segment

import (
	"encoding/binary"
	"math"
	"slices"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/uuidtext"
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
func appendSeqColumn(dst []byte, seqs []uint64) []byte {
	dst = binary.AppendUvarint(dst, seqs[0])
	for i := 1; i < len(seqs); i++ {
		dst = binary.AppendVarint(dst, int64(seqs[i]-seqs[i-1]))
	}
	return dst
}

// appendTSColumn writes varint(first instant), uvarint deltas (rows are
// sorted), then the formats as a uniform vector. With scaled (VersionRefIDs
// on) the deltas are preceded by uvarint(k), their decimal scale, and
// written divided by 10^k: timestamps in whole milliseconds, as Kibana
// writes them, then take 2 bytes a row instead of 5.
func appendTSColumn(dst []byte, ts []int64, fmts []uint64, scaled bool) []byte {
	dst = binary.AppendVarint(dst, ts[0])
	p := int64(1)
	if scaled {
		deltas := make([]int64, len(ts)-1)
		for i := range deltas {
			deltas[i] = ts[i+1] - ts[i]
		}
		k := decimalScale(deltas)
		dst = binary.AppendUvarint(dst, uint64(k))
		p = pow10[k]
	}
	for i := 1; i < len(ts); i++ {
		dst = binary.AppendUvarint(dst, uint64(ts[i]-ts[i-1])/uint64(p))
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
	// The staged strings point into text the stage reuses: the dictionary
	// keeps none of them past this column.
	defer c.forget()
	if !c.buildDict(vals) {
		if allUUIDs(vals) {
			return appendUUIDs(binary.AppendUvarint(dst, 2), vals)
		}
		return appendPlainStrings(binary.AppendUvarint(dst, 0), vals)
	}
	if allUUIDs(c.dict) {
		dst = appendUUIDs(binary.AppendUvarint(dst, 3), c.dict)
	} else {
		dst = appendPlainStrings(binary.AppendUvarint(dst, 1), c.dict)
	}
	return appendUvarints(dst, c.idx)
}

// buildDict sets c.dict to the distinct values in order of first use and
// c.idx to each value's index in it. It gives up, returning false, as soon
// as the values are more than half distinct: they are then stored plain.
// c.ids is empty when it starts (forget).
func (c *colEncoder) buildDict(vals []string) bool {
	c.dict, c.idx = c.dict[:0], c.idx[:0]
	id := uint64(0)
	for i, v := range vals {
		if i == 0 || v != vals[i-1] { // a run of one value is looked up once
			var ok bool
			if id, ok = c.ids[v]; !ok {
				if (len(c.dict)+1)*2 > len(vals) {
					return false
				}
				id = uint64(len(c.dict))
				c.ids[v] = id
				c.dict = append(c.dict, v)
			}
		}
		c.idx = append(c.idx, id)
	}
	return true
}

// reset empties c for another segment, keeping its map's and slices'
// room, and returns it.
func (c *colEncoder) reset() *colEncoder {
	c.forget()
	c.idx = c.idx[:0]
	return c
}

// forget empties the dictionary buildDict made, keeping its capacity.
func (c *colEncoder) forget() {
	clear(c.ids)
	clear(c.dict)
	c.dict = c.dict[:0]
}

// appendUUIDs writes uvarint(n) and n UUIDs of 16 bytes.
func appendUUIDs(dst []byte, vals []string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(vals)))
	for _, v := range vals {
		dst = uuidtext.AppendBytes(dst, v)
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
	ids  map[string]uint64
	dict []string
	idx  []uint64
	// refKeys numbers the segment's ref keys (VersionRefKeys on, else
	// nil: the refs column holds their ids and types).
	refKeys *refKeyWriter
}

func newColEncoder() *colEncoder { return &colEncoder{ids: map[string]uint64{}} }

// appendPresence writes uvarint(0) when every one of rows rows has the
// column's field, else uvarint(1) and a bitmap, bit i (LSB first) set when
// row i has it: col.present's words, little-endian, cut to whole bytes.
func appendPresence(dst []byte, col *colStage, rows int) []byte {
	if col.n == rows {
		return binary.AppendUvarint(dst, 0)
	}
	dst = binary.AppendUvarint(dst, 1)
	end := len(dst) + (rows+7)/8
	for _, w := range col.present { // up to the last row that has it
		dst = binary.LittleEndian.AppendUint64(dst, w)
	}
	if len(dst) >= end {
		return dst[:end] // the last word's bytes past the rows: zero
	}
	return append(dst, make([]byte, end-len(dst))...)
}

// appendFieldColumn writes the column of slot si from its staged values.
// The caller skips fields no row has.
func (c *colEncoder) appendFieldColumn(dst []byte, si int, s *blockStage) ([]byte, stats) {
	col := &s.cols[si]
	dst = appendPresence(dst, col, s.rows())
	dst, st := c.appendValues(dst, slots[si].kind, col)
	st.Count = uint32(col.n)
	return dst, st
}

// appendValues writes the values of a column, by kind:
//   - String, IP: one string vector;
//   - Strings: one uvarint(count<<1 | scalar) per row, then every value as
//     one string vector;
//   - Date: the formats as a uniform vector, then per row
//     varint(instant/unit - floor(@timestamp/unit)), unit being the last
//     fraction digit the format writes (1s for none, 1ms for 3 digits, ...):
//     dates near the event's @timestamp take a byte or two;
//   - Int: a scaled vector; Float: 8 bytes little-endian per value;
//   - Duration: the nanoseconds as a scaled vector, then the quoted flags
//     (0 or 1) as a uniform vector;
//   - Labels: uvarint(count) per row, then all keys (sorted within a row)
//     and all values as two string vectors;
//   - Refs: uvarint(count) per row, then the rel, namespace, id, type and
//     type_id of every ref as five string vectors; from VersionRefKeys on,
//     the rel, namespace and type_id, then the key numbers (refkeys.go).
func (c *colEncoder) appendValues(dst []byte, kind event.Kind, col *colStage) ([]byte, stats) {
	var st stats
	switch kind {
	case event.KindString, event.KindIP, event.KindExtra:
		return c.appendStrings(dst, col.strs[0]), st
	case event.KindStrings:
		return c.appendStrings(appendUvarints(dst, col.u64), col.strs[0]), st
	case event.KindDate:
		return appendVarints(appendUniform(dst, col.u64), col.i64), st
	case event.KindInt:
		for _, v := range col.i64 {
			st.addInt(v)
		}
		return appendScaled(dst, col.i64), st
	case event.KindFloat:
		for _, v := range col.f64 {
			st.addFloat(v)
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
		}
	case event.KindDuration:
		for _, v := range col.i64 {
			st.addInt(v)
		}
		return appendUniform(appendScaled(dst, col.i64), col.u64), st
	case event.KindLabels: // counts, keys, values
		return c.appendStrings(c.appendStrings(appendUvarints(dst, col.u64), col.strs[0]), col.strs[1]), st
	case event.KindRefs: // counts, then rel, namespace, id, type, type_id
		if c.refKeys != nil {
			return c.appendRefsByKey(dst, col), st
		}
		dst = appendUvarints(dst, col.u64)
		for _, p := range col.strs {
			dst = c.appendStrings(dst, p)
		}
	}
	return dst, st
}

func appendUvarints(dst []byte, vals []uint64) []byte {
	for _, v := range vals {
		dst = binary.AppendUvarint(dst, v)
	}
	return dst
}

func appendVarints(dst []byte, vals []int64) []byte {
	for _, v := range vals {
		dst = binary.AppendVarint(dst, v)
	}
	return dst
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

// dateUnit returns the nanoseconds of the last fraction digit of a format
// (bits 0-3 of event.Format hold the digit count), 1 when out of range.
func dateUnit(f uint64) int64 {
	unit := int64(1e9)
	for range min(f&15, 9) {
		unit /= 10
	}
	return unit
}
