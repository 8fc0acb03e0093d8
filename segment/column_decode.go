package segment

import (
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/eventlogdb/eventlog/internal/decbuf"
	"github.com/eventlogdb/eventlog/internal/match"

	"github.com/eventlogdb/eventlog/event"
)

// This file decodes the raw bytes of one column (the inverse of
// column_encode.go). Every decoder walks the whole column, checking lengths
// and counts against the bytes left, and reports damage through the decbuf;
// none panics. Only the values of selected rows are materialized, so a point
// read of a few rows allocates for those rows only.

// blockKeys are the decoded timestamp and sequence columns of a block.
// The timestamps' formats are nearly always one for the whole block, so
// they stay a uniform: a block's keys cost 16 bytes a row rather than 24,
// and decoding them allocates no third row-sized array.
type blockKeys struct {
	ts   []int64
	fmts uniform
	seq  []uint64
}

func decodeSeqColumn(raw []byte, rows int) ([]uint64, error) {
	d := decbuf.New(raw, errInvalid)
	seq := make([]uint64, rows)
	seq[0] = d.Uvarint()
	for i := 1; i < rows; i++ {
		seq[i] = seq[i-1] + uint64(d.Varint())
	}
	d.End()
	return seq, d.Err
}

// decodeTSColumn reads a column written by appendTSColumn, scaled or not.
func decodeTSColumn(raw []byte, rows int, scaled bool) (ts []int64, fmts uniform, err error) {
	d := decbuf.New(raw, errInvalid)
	ts = make([]int64, rows)
	ts[0] = d.Varint()
	p := uint64(1)
	if scaled {
		k := d.Uvarint()
		if k >= uint64(len(pow10)) {
			d.Fail("bad decimal scale %d", k)
			return nil, uniform{}, d.Err
		}
		p = uint64(pow10[k])
	}
	for i := 1; i < rows; i++ {
		delta := d.Uvarint()
		if delta > math.MaxInt64/p {
			d.Fail("timestamp delta overflows")
			break
		}
		ts[i] = ts[i-1] + int64(delta*p)
		if ts[i] < ts[i-1] {
			d.Fail("timestamps out of order")
		}
	}
	fmts = readUniformLazy(&d, rows)
	d.End()
	if d.Err == nil && !validTimestamps(ts, fmts, p) {
		d.Fail("invalid @timestamp")
	}
	return ts, fmts, d.Err
}

// validTimestamps reports whether every ts[i] is a valid date of format
// fmts.at(i) (event.DateFromParts); ts does not decrease and its deltas
// are multiples of p. With one format for the block whose unit divides p
// (nearly every block: its dates all have the same digits), every row is
// as valid as its neighbours: checking the first and the last checks the
// format, the range (ts does not decrease) and the unit (the others are
// the first plus multiples of p). Checking every row was a tenth of
// decoding a block's keys.
func validTimestamps(ts []int64, fmts uniform, p uint64) bool {
	if fmts.vals == nil {
		f := event.Format(fmts.v)
		if u := f.Unit(); u > 0 && p%uint64(u) == 0 {
			_, first := event.DateFromParts(ts[0], f)
			_, last := event.DateFromParts(ts[len(ts)-1], f)
			return first && last
		}
	}
	for i := range ts {
		if _, ok := event.DateFromParts(ts[i], event.Format(fmts.at(i))); !ok {
			return false
		}
	}
	return true
}

// readUniform reads n values written by appendUniform.
func readUniform(d *decbuf.Buf, n int) []uint64 {
	u := readUniformLazy(d, n)
	if u.vals != nil || n == 0 {
		return u.vals
	}
	vals := make([]uint64, n)
	for i := range vals {
		vals[i] = u.v
	}
	return vals
}

// uniform is a vector of values read by readUniformLazy: vals, or n copies
// of v when they are all the same (the common case, kept without
// allocating).
type uniform struct {
	v    uint64
	vals []uint64
}

func (u *uniform) at(i int) uint64 {
	if u.vals != nil {
		return u.vals[i]
	}
	return u.v
}

// readUniformLazy reads n values written by appendUniform.
func readUniformLazy(d *decbuf.Buf, n int) uniform {
	switch d.Uvarint() {
	case 0:
		return uniform{v: d.Uvarint()}
	case 1:
		vals := make([]uint64, n)
		for i := range vals {
			vals[i] = d.Uvarint()
		}
		return uniform{vals: vals}
	}
	d.Fail("bad uniform mode")
	return uniform{}
}

// selection is what a column decoder materializes: the value indexes idx
// (increasing, within the column's values) and the event receiving each.
// The decoders do not keep it, so one serves every column of a block.
type selection struct {
	idx []int
	evs []*event.Event
}

// selectRows reads the presence of a column of a block of rows and returns
// the values of the wanted rows (increasing block rows; out[i] receives
// row want[i]) and the column's value count. A column with absent rows
// gets its selection in scratch's arrays, grown as needed and kept for the
// next column: a block decode would otherwise allocate two row-sized
// arrays per column, most of them for sparse fields.
func selectRows(d *decbuf.Buf, rows int, want []int, out []*event.Event, scratch *selection) (selection, int) {
	var sel selection
	switch d.Uvarint() {
	case 0:
		sel.idx, sel.evs = want, out
		return sel, rows
	case 1:
		bits := d.Bytes((rows + 7) / 8)
		if d.Err != nil {
			return sel, 0
		}
		if rows%8 != 0 && bits[len(bits)-1]>>(rows%8) != 0 {
			d.Fail("presence bits past the last row")
			return sel, 0
		}
		sel.idx, sel.evs = scratch.idx[:0], scratch.evs[:0]
		// rank counts the values of the rows before byte at: from one
		// wanted row to the next it moves eight bytes at a time (an
		// export wants one row in 16 of a block, of every column).
		rank, at := 0, 0
		for j, row := range want {
			i := row / 8
			rank, at = rankTo(bits, rank, at, i)
			if b := bits[i]; b&(1<<(row%8)) != 0 {
				sel.idx = append(sel.idx, rank+popcount8(b&(1<<(row%8)-1)))
				sel.evs = append(sel.evs, out[j])
			}
		}
		rank, _ = rankTo(bits, rank, at, len(bits))
		*scratch = sel
		return sel, rank
	}
	d.Fail("bad presence mode")
	return sel, 0
}

// rankTo returns rank plus the bits set in bits[at:to], and to.
func rankTo(bits []byte, rank, at, to int) (int, int) {
	for ; at+8 <= to; at += 8 {
		rank += bits64(bits[at:])
	}
	for ; at < to; at++ {
		rank += popcount8(bits[at])
	}
	return rank, at
}

// decodeFieldColumn decodes the column of field f into evs (the block's
// rows); count is the column's value count from the block index.
func decodeFieldColumn(raw []byte, f *event.Field, evs []event.Event, count uint32, keys *refKeys, derivedStart bool) error {
	want := make([]int, len(evs))
	out := make([]*event.Event, len(evs))
	for i := range evs {
		want[i], out[i] = i, &evs[i]
	}
	_, err := decodeFieldRows(raw, f, len(evs), count, want, out, &selection{}, keys, derivedStart)
	return err
}

// decodeFieldRows decodes the values of the wanted rows (increasing block
// rows of a block of rows) of the column of field f into out; scratch is
// as for selectRows. keys resolves the refs of a version 5 file (nil
// before: the refs column holds ids and types). derivedStart (from
// VersionDerivedStart on) reads event.start relative to @timestamp less
// event.duration, which out's events must hold already.
func decodeFieldRows(raw []byte, f *event.Field, rows int, count uint32, want []int, out []*event.Event, scratch *selection, keys *refKeys, derivedStart bool) (nul bool, err error) {
	d := decbuf.New(raw, errInvalid)
	sel, n := selectRows(&d, rows, want, out, scratch)
	if d.Err == nil && n != int(count) {
		d.Fail("presence count %d, want %d", n, count)
	}
	if d.Err != nil {
		return false, d.Err
	}
	if f.Kind == event.KindRefs && keys != nil {
		decodeRefsByKey(&d, n, &sel, keys)
	} else if f.Kind == event.KindDate {
		decodeDates(&d, f, n, &sel, derivedStart && f.ID == colStart)
	} else {
		nul = decodeValues(&d, f, n, &sel)
	}
	d.End()
	return nul, d.Err
}

// decodeValues decodes the column's values into the selected rows. For a
// string column, it reports whether a value decoded holds a zero byte
// (a ref id's escape, refids.go): expandRefIDs scans only those columns.
func decodeValues(d *decbuf.Buf, f *event.Field, n int, sel *selection) (nul bool) {
	switch f.Kind {
	case event.KindString, event.KindIP:
		scratch := scratchStrings(len(sel.idx))
		defer dropStrings(scratch)
		vals := readStringsInto(d, n, sel.idx, *scratch)
		for i, v := range vals {
			*f.Str(sel.evs[i]) = v
			nul = nul || strings.IndexByte(v, 0) >= 0
		}
	case event.KindExtra:
		decodeExtras(d, n, sel)
	case event.KindStrings:
		decodeLists(d, f, n, sel)
	case event.KindDate:
		decodeDates(d, f, n, sel, false)
	case event.KindInt:
		vals := readScaled(d, n, sel.idx)
		for i := range vals {
			*f.Int(sel.evs[i]) = &vals[i]
		}
	case event.KindFloat:
		b := d.Bytes(8 * n)
		if d.Err != nil {
			return
		}
		vals := make([]float64, len(sel.idx))
		for i, j := range sel.idx {
			vals[i] = math.Float64frombits(le64(b[8*j:]))
			*f.Float(sel.evs[i]) = &vals[i]
		}
	case event.KindDuration:
		decodeDurations(d, n, sel)
	case event.KindLabels:
		decodeLabels(d, n, sel)
	case event.KindRefs:
		decodeRefs(d, n, sel)
	default:
		d.Fail("field %s has unknown kind %d", f.Name, f.Kind)
	}
	return nul
}

// readScaled reads a vector of n values written by appendScaled and returns
// those at idx.
func readScaled(d *decbuf.Buf, n int, idx []int) []int64 {
	k := d.Uvarint()
	if k >= uint64(len(pow10)) {
		d.Fail("bad decimal scale %d", k)
		return nil
	}
	p := pow10[k]
	vals := make([]int64, len(idx))
	next := 0
	for j, i := range idx {
		d.SkipVarints(i - next)
		v := d.Varint()
		if v > math.MaxInt64/p || v < math.MinInt64/p {
			d.Fail("scaled value overflows")
		}
		vals[j], next = v*p, i+1
	}
	d.SkipVarints(n - next)
	return vals
}

// readCounts reads one uvarint count (>= 1) per value, bounded by the bytes
// left, and returns for each selected value its first item index and
// header (count<<shift | flags), plus the total of all counts. The arrays
// are cs's, valid until cs is given back.
func readCounts(d *decbuf.Buf, n int, shift uint, idx []int, cs *countScratch) (starts []int, heads []uint64, total int) {
	cs.starts = slices.Grow(cs.starts[:0], len(idx))[:len(idx)]
	cs.heads = slices.Grow(cs.heads[:0], len(idx))[:len(idx)]
	starts, heads = cs.starts, cs.heads
	for i, j := 0, 0; i < n; i++ {
		h := d.Uvarint()
		c := h >> shift
		if c == 0 || c > uint64(d.Left()) || total+int(c) > d.Left() {
			d.Fail("bad count")
			return nil, nil, 0
		}
		if j < len(idx) && idx[j] == i {
			starts[j], heads[j] = total, h
			j++
		}
		total += int(c)
	}
	return starts, heads, total
}

// items expands the selected values (first item index and count) into the
// increasing list of their items, in cs's array.
func items(starts []int, heads []uint64, shift uint, cs *countScratch) []int {
	n := 0
	for _, h := range heads {
		n += int(h >> shift)
	}
	out := slices.Grow(cs.at[:0], n) // sized once, not grown
	for i, s := range starts {
		for k := range int(heads[i] >> shift) {
			out = append(out, s+k)
		}
	}
	cs.at = out
	return out
}

// countScratch holds the arrays readCounts and items return, which their
// callers drop before they return: made anew at each call they were a
// tenth of an export's bytes (bench IssueQueries/frequent-object-export).
type countScratch struct {
	starts []int
	heads  []uint64
	at     []int
}

var countScratches = sync.Pool{New: func() any { return new(countScratch) }}

// getCounts returns a countScratch; putCounts gives it back.
func getCounts() *countScratch   { return countScratches.Get().(*countScratch) }
func putCounts(cs *countScratch) { countScratches.Put(cs) }

func decodeLists(d *decbuf.Buf, f *event.Field, n int, sel *selection) {
	cs := getCounts()
	defer putCounts(cs)
	starts, heads, total := readCounts(d, n, 1, sel.idx, cs)
	vals := readStringsAt(d, total, items(starts, heads, 1, cs))
	if d.Err != nil {
		return
	}
	for i, e := range sel.evs {
		c := int(heads[i] >> 1)
		l := f.List(e)
		l.Values, vals = vals[:c:c], vals[c:]
		l.Scalar = heads[i]&1 == 1 && c == 1
	}
}

// decodeDates reads a Date column: the formats, then per row the date's
// difference, in its format's unit, from @timestamp, or with fromStart
// (event.start, VersionDerivedStart on) from @timestamp less the row's
// event.duration (startBase).
func decodeDates(d *decbuf.Buf, f *event.Field, n int, sel *selection, fromStart bool) {
	fmts := readUniformLazy(d, n)
	next := 0
	for j, i := range sel.idx {
		d.SkipVarints(i - next)
		delta := d.Varint()
		next = i + 1
		e := sel.evs[j]
		unit := dateUnit(fmts.at(i))
		base := e.Timestamp.UnixNano()
		if fromStart {
			base = startBase(base, e.Event.Duration)
		}
		nanos := (match.FloorDiv(base, unit) + delta) * unit
		date, ok := event.DateFromParts(nanos, event.Format(fmts.at(i)))
		if d.Err != nil || !ok || date.IsZero() {
			d.Fail("invalid date")
			return
		}
		*f.Date(e) = date
	}
	d.SkipVarints(n - next)
}

func decodeDurations(d *decbuf.Buf, n int, sel *selection) {
	nanos := readScaled(d, n, sel.idx)
	quoted := readUniformLazy(d, n)
	if d.Err != nil {
		return
	}
	if quoted.v > 1 || slices.ContainsFunc(quoted.vals, func(q uint64) bool { return q > 1 }) {
		d.Fail("bad quoted flag")
		return
	}
	durs := make([]event.Duration, len(sel.idx))
	for i, j := range sel.idx {
		durs[i] = event.Duration{Nanos: nanos[i], Quoted: quoted.at(j) == 1}
		sel.evs[i].Event.Duration = &durs[i]
	}
}

func decodeLabels(d *decbuf.Buf, n int, sel *selection) {
	cs := getCounts()
	defer putCounts(cs)
	starts, heads, total := readCounts(d, n, 0, sel.idx, cs)
	at := items(starts, heads, 0, cs)
	kb, vb := scratchStrings(len(at)), scratchStrings(len(at))
	defer dropStrings(kb)
	defer dropStrings(vb)
	keys := readStringsInto(d, total, at, *kb)
	vals := readStringsInto(d, total, at, *vb)
	if d.Err != nil {
		return
	}
	for i, e := range sel.evs {
		m := make(map[string]string, heads[i])
		for range heads[i] {
			m[keys[0]] = vals[0]
			keys, vals = keys[1:], vals[1:]
		}
		e.Labels = m
	}
}

func decodeRefs(d *decbuf.Buf, n int, sel *selection) {
	cs := getCounts()
	defer putCounts(cs)
	starts, heads, total := readCounts(d, n, 0, sel.idx, cs)
	at := items(starts, heads, 0, cs)
	var parts [5][]string
	for j := range parts {
		b := scratchStrings(len(at))
		defer dropStrings(b)
		parts[j] = readStringsInto(d, total, at, *b)
	}
	if d.Err != nil {
		return
	}
	refs := make([]event.SavedObject, len(at))
	for k := range refs {
		refs[k] = event.SavedObject{Rel: parts[0][k], Namespace: parts[1][k], ID: parts[2][k], Type: parts[3][k], TypeID: parts[4][k]}
	}
	for i, e := range sel.evs {
		c := int(heads[i])
		e.Kibana.SavedObjects, refs = refs[:c:c], refs[c:]
	}
}

// decodeExtras reads the kept-unknown-fields column (a string vector of
// encoded trees, version 3 on) and checks each tree it hands out.
func decodeExtras(d *decbuf.Buf, n int, sel *selection) {
	scratch := scratchStrings(len(sel.idx))
	defer dropStrings(scratch)
	for i, v := range readStringsInto(d, n, sel.idx, *scratch) {
		x, err := event.ParseExtra(v)
		if err == nil && x.IsZero() {
			d.Fail("kept fields of row %d: empty value", sel.idx[i])
			return
		}
		if err != nil {
			d.Fail("kept fields of row %d: %v", sel.idx[i], err)
			return
		}
		sel.evs[i].Extra = x
	}
}
