package segment

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"strings"
	"sync"

	"github.com/eventlogdb/eventlog/internal/decbuf"
	"github.com/eventlogdb/eventlog/internal/uuidtext"
)

// This file reads string vectors (see appendStrings) for a selection of
// their values: the whole structure is walked and checked, but only the
// selected strings are copied out of the column.

// strTable is a decoded list of strings: plain (offsets into data) or
// UUIDs (16 bytes each in data).
type strTable struct {
	data  []byte
	offs  []int // plain: len n+1
	uuids bool
	n     int
	whole string // plain, when most strings are wanted: data as one string
}

func (t *strTable) at(i int) string {
	if t.uuids {
		return uuidtext.Format(t.data[16*i : 16*i+16])
	}
	if t.offs[i] == t.offs[i+1] {
		return ""
	}
	if t.whole != "" {
		return t.whole[t.offs[i]:t.offs[i+1]]
	}
	return string(t.data[t.offs[i]:t.offs[i+1]])
}

// readPlainTable reads uvarint(n), n lengths and the bytes.
func readPlainTable(d *decbuf.Buf) strTable {
	n := d.Count(1)
	t := strTable{offs: getOffsets(n + 1), n: n}
	total := 0
	for i := range n {
		l := d.Uvarint()
		if l > uint64(d.Left()) || total+int(l) > d.Left() {
			d.Fail("strings exceed the bytes left")
			return strTable{}
		}
		total += int(l)
		t.offs[i+1] = total
	}
	t.data = d.Bytes(total)
	return t
}

// offsetArrays holds plain tables' offset arrays between reads
// (strTable.release): a table's offsets live as long as the read of its
// vector, and made anew they were 5 % of an export's bytes.
var offsetArrays = sync.Pool{New: func() any { return new([]int) }}

// getOffsets returns an array of n offsets, the first zero.
func getOffsets(n int) []int {
	p := offsetArrays.Get().(*[]int)
	offs := slices.Grow((*p)[:0], n)[:n]
	if n > 0 {
		offs[0] = 0
	}
	return offs
}

// release gives t's offsets back for the next table; t is unusable after.
func (t *strTable) release() {
	if t.offs != nil {
		offs := t.offs[:0]
		t.offs = nil
		offsetArrays.Put(&offs)
	}
}

// readPlainAt reads a plain table of n strings as readPlainTable does and
// returns the strings at idx (increasing), without the table of every
// string's offset: a read of a few rows of a block would otherwise
// allocate and clear an offset a row for every plain column (64 KiB at
// 8,192 rows): with it, reading 2 events of 2,000,000 as whole documents
// (bench IssueQueries/rare-object) allocates 171 KB a query, 177 KB
// without.
func readPlainAt(d *decbuf.Buf, n int, idx []int, out []string) []string {
	if c := d.Count(1); d.Err == nil && c != n {
		d.Fail("string count %d, want %d", c, n)
	}
	if d.Err != nil {
		return nil
	}
	spans := make([][2]int, len(idx)) // start and end of each wanted string
	total, j := 0, 0
	for i := range n {
		l := d.Uvarint()
		if l > uint64(d.Left()) || total+int(l) > d.Left() {
			d.Fail("strings exceed the bytes left")
			return nil
		}
		for ; j < len(idx) && idx[j] == i; j++ {
			spans[j] = [2]int{total, total + int(l)}
		}
		total += int(l)
	}
	data := d.Bytes(total)
	if d.Err != nil {
		return nil
	}
	// The wanted strings share one copy: a string each was a fifth of
	// an export's allocations (the messages of one row in 16).
	size := 0
	for _, sp := range spans {
		size += sp[1] - sp[0]
	}
	var b strings.Builder
	b.Grow(size)
	for _, sp := range spans {
		b.Write(data[sp[0]:sp[1]])
	}
	all, at := b.String(), 0
	for k, sp := range spans {
		out[k], at = all[at:at+sp[1]-sp[0]], at+sp[1]-sp[0]
	}
	return out
}

// readUUIDTable reads uvarint(n) then n 16-byte UUIDs.
func readUUIDTable(d *decbuf.Buf) strTable {
	n := d.Count(16)
	return strTable{data: d.Bytes(16 * n), uuids: true, n: n}
}

// readStringsAt reads a string vector of n values and returns the values
// at idx (increasing).
func readStringsAt(d *decbuf.Buf, n int, idx []int) []string {
	return readStringsInto(d, n, idx, make([]string, len(idx)))
}

// readStringsInto is readStringsAt writing the values into out
// (len(idx)), which it returns; nil on error. A decoder that copies the
// values elsewhere at once reads them into scratchStrings: a string array
// per column of a block was a fifth of an export's bytes.
func readStringsInto(d *decbuf.Buf, n int, idx []int, out []string) []string {
	if n > d.Left() {
		d.Fail("string count %d exceeds the bytes left", n)
		return nil
	}
	switch mode := d.Uvarint(); mode {
	case 0:
		if 2*len(idx) < n {
			return readPlainAt(d, n, idx, out)
		}
		fallthrough
	case 2:
		t := readTable(d, mode == 2)
		defer t.release()
		if d.Err == nil && t.n != n {
			d.Fail("string count %d, want %d", t.n, n)
		}
		if d.Err != nil {
			return nil
		}
		return t.pick(idx, 2*len(idx) >= n, out)
	case 1, 3:
		t := readTable(d, mode == 3)
		defer t.release()
		return readDictAt(d, n, &t, idx, out)
	}
	d.Fail("bad string vector mode")
	return nil
}

func readTable(d *decbuf.Buf, uuids bool) strTable {
	if uuids {
		return readUUIDTable(d)
	}
	return readPlainTable(d)
}

// pick returns the strings at idx in out (len(idx)); many means most are
// wanted, so plain strings share one allocation.
func (t *strTable) pick(idx []int, many bool, out []string) []string {
	if t.uuids {
		// Their texts share one string, not one each.
		text := make([]byte, 0, uuidtext.TextLen*len(idx))
		for _, j := range idx {
			text = uuidtext.AppendText(text, t.data[16*j:16*j+16])
		}
		all := string(text)
		for i := range out {
			out[i] = all[uuidtext.TextLen*i : uuidtext.TextLen*(i+1)]
		}
		return out
	}
	if many {
		t.whole = string(t.data)
	}
	for i, j := range idx {
		out[i] = t.at(j)
	}
	return out
}

// readDictAt reads n dictionary indexes into t and returns the values at
// idx in out (len(idx)); a dictionary entry used by several selected
// values is decoded once.
func readDictAt(d *decbuf.Buf, n int, t *strTable, idx []int, out []string) []string {
	if d.Err != nil {
		return nil
	}
	var memo []string
	if len(idx) >= 64 {
		m := memos.Get().(*[]string)
		if cap(*m) < t.n {
			*m = make([]string, t.n)
		}
		memo = (*m)[:t.n]
		defer func() {
			clear(memo) // empty for the next read, and holding no strings
			memos.Put(m)
		}()
		if !t.uuids && 2*len(idx) >= n {
			t.whole = string(t.data)
		}
	}
	if t.n <= 0x80 && n <= d.Left() && allBelow80(d.B[d.Off:d.Off+n]) {
		// Indexes below 0x80 are one byte each: the i-th is at byte i,
		// with nothing to skip (low-cardinality columns: event.action,
		// outcome, provider, ...).
		b := d.B[d.Off : d.Off+n]
		for j, i := range idx {
			if int(b[i]) >= t.n {
				d.Fail("bad dictionary index")
				return nil
			}
			out[j] = dictEntry(t, memo, int(b[i]))
		}
		d.Off += n
		return out
	}
	next := 0
	for j, i := range idx {
		d.SkipVarints(i - next)
		id := d.Uvarint()
		if d.Err != nil || id >= uint64(t.n) {
			d.Fail("bad dictionary index")
			return nil
		}
		out[j], next = dictEntry(t, memo, int(id)), i+1
	}
	d.SkipVarints(n - next)
	return out
}

// memos holds readDictAt's per-entry memos, kept empty: a whole-block
// decode made one per dictionary-coded column, 3.5 % of an export's bytes
// (bench IssueQueries/frequent-object-export).
var memos = sync.Pool{New: func() any { return new([]string) }}

func dictEntry(t *strTable, memo []string, id int) string {
	if memo == nil {
		return t.at(id)
	}
	if memo[id] == "" {
		memo[id] = t.at(id)
	}
	return memo[id]
}

// allBelow80 reports whether every byte of b is below 0x80 (each a whole
// uvarint).
func allBelow80(b []byte) bool {
	var or uint64
	for len(b) >= 8 {
		or |= le64(b)
		b = b[8:]
	}
	for _, c := range b {
		or |= uint64(c)
	}
	return or&0x8080808080808080 == 0
}

func popcount8(b byte) int { return bits.OnesCount8(b) }

// bits64 counts the bits set in the first eight bytes of b.
func bits64(b []byte) int { return bits.OnesCount64(le64(b)) }

func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

// strScratch holds the string arrays of scratchStrings, kept empty.
var strScratch = sync.Pool{New: func() any { return new([]string) }}

// scratchStrings returns an array of n empty strings for values a decoder
// copies elsewhere before it returns; dropStrings gives it back.
func scratchStrings(n int) *[]string {
	p := strScratch.Get().(*[]string)
	if cap(*p) < n {
		*p = make([]string, n)
	}
	*p = (*p)[:n]
	return p
}

// dropStrings empties p, so that it holds no strings, and keeps it for
// the next scratchStrings.
func dropStrings(p *[]string) {
	clear(*p)
	strScratch.Put(p)
}
