package segment

import (
	"math"

	"github.com/eventlogdb/eventlog/event"
)

// This file decodes the raw bytes of one column (the inverse of
// column_encode.go). Every decoder checks lengths and counts against the
// bytes left and reports damage through the decbuf; none panics.

// blockKeys are the decoded timestamp and sequence columns of a block.
type blockKeys struct {
	ts   []int64
	fmts []uint64
	seq  []uint64
}

func decodeSeqColumn(raw []byte, rows int) ([]uint64, error) {
	d := decbuf{b: raw}
	seq := make([]uint64, rows)
	seq[0] = d.uvarint()
	for i := 1; i < rows; i++ {
		seq[i] = seq[i-1] + uint64(d.varint())
	}
	d.end()
	return seq, d.err
}

func decodeTSColumn(raw []byte, rows int) (ts []int64, fmts []uint64, err error) {
	d := decbuf{b: raw}
	ts = make([]int64, rows)
	ts[0] = d.varint()
	for i := 1; i < rows; i++ {
		ts[i] = ts[i-1] + int64(d.uvarint())
		if ts[i] < ts[i-1] {
			d.fail("timestamps out of order")
		}
	}
	fmts = readUniform(&d, rows)
	d.end()
	for i := range ts {
		if _, ok := event.DateFromParts(ts[i], event.Format(fmts[i])); !ok && d.err == nil {
			d.fail("invalid @timestamp")
		}
	}
	return ts, fmts, d.err
}

// readUniform reads n values written by appendUniform.
func readUniform(d *decbuf, n int) []uint64 {
	vals := make([]uint64, n)
	switch d.uvarint() {
	case 0:
		v := d.uvarint()
		for i := range vals {
			vals[i] = v
		}
	case 1:
		for i := range vals {
			vals[i] = d.uvarint()
		}
	default:
		d.fail("bad uniform mode")
	}
	return vals
}

// readStrings reads a string vector of n values (see appendStrings).
func readStrings(d *decbuf, n int) []string {
	if n > d.left() {
		d.fail("string count %d exceeds the bytes left", n)
		return nil
	}
	switch mode := d.uvarint(); mode {
	case 0, 2:
		read := readPlainStrings
		if mode == 2 {
			read = readUUIDs
		}
		vals := read(d)
		if len(vals) != n {
			d.fail("string count %d, want %d", len(vals), n)
			return nil
		}
		return vals
	case 1:
		return readDictStrings(d, n, readPlainStrings(d))
	case 3:
		return readDictStrings(d, n, readUUIDs(d))
	}
	d.fail("bad string vector mode")
	return nil
}

func readDictStrings(d *decbuf, n int, dict []string) []string {
	vals := make([]string, n)
	for i := range vals {
		id := d.uvarint()
		if id >= uint64(len(dict)) {
			d.fail("dictionary index out of range")
			return nil
		}
		vals[i] = dict[id]
	}
	return vals
}

func readPlainStrings(d *decbuf) []string {
	n := d.count(1)
	lens := make([]int, n)
	total := 0
	for i := range lens {
		l := d.uvarint()
		if l > uint64(d.left()) {
			d.fail("string length out of range")
			return nil
		}
		lens[i] = int(l)
		total += int(l)
		if total > d.left() {
			d.fail("strings exceed the bytes left")
			return nil
		}
	}
	all := string(d.bytes(total))
	vals := make([]string, n)
	for i, l := range lens {
		vals[i], all = all[:l], all[l:]
	}
	return vals
}

// readPresence returns the row numbers (within the block) that hold a value.
func readPresence(d *decbuf, rows int) []int {
	idx := make([]int, 0, rows)
	switch d.uvarint() {
	case 0:
		for i := 0; i < rows; i++ {
			idx = append(idx, i)
		}
	case 1:
		bits := d.bytes((rows + 7) / 8)
		for i := 0; i < rows && d.err == nil; i++ {
			if bits[i/8]&(1<<(i%8)) != 0 {
				idx = append(idx, i)
			}
		}
	default:
		d.fail("bad presence mode")
	}
	return idx
}

// decodeFieldColumn decodes the column of field f into evs (the block's
// rows); count is the column's value count from the block index.
func decodeFieldColumn(raw []byte, f *event.Field, evs []event.Event, count uint32) error {
	d := decbuf{b: raw}
	idx := readPresence(&d, len(evs))
	if d.err == nil && len(idx) != int(count) {
		d.fail("presence count %d, want %d", len(idx), count)
	}
	if d.err != nil {
		return d.err
	}
	decodeValues(&d, f, evs, idx)
	d.end()
	return d.err
}

func decodeValues(d *decbuf, f *event.Field, evs []event.Event, idx []int) {
	switch f.Kind {
	case event.KindString, event.KindIP:
		vals := readStrings(d, len(idx))
		for i, v := range vals {
			*f.Str(&evs[idx[i]]) = v
		}
	case event.KindStrings:
		decodeLists(d, f, evs, idx)
	case event.KindDate:
		decodeDates(d, f, evs, idx)
	case event.KindInt:
		for _, row := range idx {
			v := d.varint()
			*f.Int(&evs[row]) = &v
		}
	case event.KindFloat:
		for _, row := range idx {
			v := math.Float64frombits(d.u64())
			*f.Float(&evs[row]) = &v
		}
	case event.KindDuration:
		decodeDurations(d, evs, idx)
	case event.KindLabels:
		decodeLabels(d, evs, idx)
	case event.KindRefs:
		decodeRefs(d, evs, idx)
	default:
		d.fail("field %s has unknown kind %d", f.Name, f.Kind)
	}
}

// readCounts reads one uvarint count (>= 1) per row and returns them and
// their total, bounded by the bytes left.
func readCounts(d *decbuf, n int, shift uint) (heads []uint64, total int) {
	heads = make([]uint64, n)
	for i := range heads {
		heads[i] = d.uvarint()
		c := heads[i] >> shift
		if c == 0 || c > uint64(d.left()) {
			d.fail("bad count")
			return nil, 0
		}
		total += int(c)
		if total > d.left() {
			d.fail("counts exceed the bytes left")
			return nil, 0
		}
	}
	return heads, total
}

func decodeLists(d *decbuf, f *event.Field, evs []event.Event, idx []int) {
	heads, total := readCounts(d, len(idx), 1)
	vals := readStrings(d, total)
	if d.err != nil {
		return
	}
	for i, row := range idx {
		n := int(heads[i] >> 1)
		l := f.List(&evs[row])
		l.Values, vals = vals[:n:n], vals[n:]
		l.Scalar = heads[i]&1 == 1 && n == 1
	}
}

func decodeDates(d *decbuf, f *event.Field, evs []event.Event, idx []int) {
	fmts := readUniform(d, len(idx))
	for i, row := range idx {
		unit := dateUnit(fmts[i])
		nanos := (floorDiv(evs[row].Timestamp.UnixNano(), unit) + d.varint()) * unit
		date, ok := event.DateFromParts(nanos, event.Format(fmts[i]))
		if d.err != nil || !ok || date.IsZero() {
			d.fail("invalid date")
			return
		}
		*f.Date(&evs[row]) = date
	}
}

func decodeDurations(d *decbuf, evs []event.Event, idx []int) {
	nanos := make([]int64, len(idx))
	for i := range nanos {
		nanos[i] = d.varint()
	}
	quoted := readUniform(d, len(idx))
	for i, row := range idx {
		if quoted[i] > 1 {
			d.fail("bad quoted flag")
			return
		}
		evs[row].Event.Duration = &event.Duration{Nanos: nanos[i], Quoted: quoted[i] == 1}
	}
}

func decodeLabels(d *decbuf, evs []event.Event, idx []int) {
	counts, total := readCounts(d, len(idx), 0)
	keys := readStrings(d, total)
	vals := readStrings(d, total)
	if d.err != nil {
		return
	}
	for i, row := range idx {
		m := make(map[string]string, counts[i])
		for range counts[i] {
			m[keys[0]] = vals[0]
			keys, vals = keys[1:], vals[1:]
		}
		evs[row].Labels = m
	}
}

func decodeRefs(d *decbuf, evs []event.Event, idx []int) {
	counts, total := readCounts(d, len(idx), 0)
	var parts [5][]string
	for j := range parts {
		parts[j] = readStrings(d, total)
	}
	if d.err != nil {
		return
	}
	k := 0
	for i, row := range idx {
		refs := make([]event.SavedObject, counts[i])
		for j := range refs {
			refs[j] = event.SavedObject{Rel: parts[0][k], Namespace: parts[1][k], ID: parts[2][k], Type: parts[3][k], TypeID: parts[4][k]}
			k++
		}
		evs[row].Kibana.SavedObjects = refs
	}
}
