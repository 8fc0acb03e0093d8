// Package decbuf is the bounds-checked decoder the file formats share
// (segment blocks and indexes, the postings dictionary): it reads varints,
// fixed-width integers and length-prefixed bytes from a slice, records the
// first error, and returns zero values after it, so a decoder checks for
// damage once at the end instead of after every read. Every count is bounded
// by the bytes left, so damaged input cannot make a caller allocate more
// than the input justifies.
package decbuf

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// Buf decodes B from Off. Err is the first failure; it wraps Invalid (the
// caller's "corrupt" sentinel) so callers can tell damage from other errors.
type Buf struct {
	B       []byte
	Off     int
	Err     error
	Invalid error
}

// New returns a Buf over b whose failures wrap invalid.
func New(b []byte, invalid error) Buf { return Buf{B: b, Invalid: invalid} }

// Fail records a failure at the current offset, unless one is recorded.
func (d *Buf) Fail(format string, args ...any) {
	if d.Err == nil {
		d.Err = fmt.Errorf("%w: %s at byte %d", d.Invalid, fmt.Sprintf(format, args...), d.Off)
	}
}

// Left returns how many bytes are unread.
func (d *Buf) Left() int { return len(d.B) - d.Off }

// Uvarint reads an unsigned LEB128 varint. A one-byte varint, the most
// common by far in dictionaries and columns, is read inline.
func (d *Buf) Uvarint() uint64 {
	if b := d.B[d.Off:]; len(b) > 0 && b[0] < 0x80 && d.Err == nil {
		d.Off++
		return uint64(b[0])
	}
	return d.uvarint()
}

// uvarint is Uvarint's general case.
func (d *Buf) uvarint() uint64 {
	if d.Err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.B[d.Off:])
	if n <= 0 {
		d.Fail("bad uvarint")
		return 0
	}
	d.Off += n
	return v
}

// Varint reads a zigzag LEB128 varint. A one-byte varint (-64 to 63: the
// deltas of a block's sequence numbers, nearly every one) is read inline.
func (d *Buf) Varint() int64 {
	if b := d.B[d.Off:]; len(b) > 0 && b[0] < 0x80 && d.Err == nil {
		d.Off++
		return int64(b[0]>>1) ^ -int64(b[0]&1)
	}
	return d.varint()
}

// varint is Varint's general case.
func (d *Buf) varint() int64 {
	if d.Err != nil {
		return 0
	}
	v, n := binary.Varint(d.B[d.Off:])
	if n <= 0 {
		d.Fail("bad varint")
		return 0
	}
	d.Off += n
	return v
}

// Count reads a uvarint that counts items of at least perItem (>= 1) bytes
// each, failing when the bytes left cannot hold that many.
func (d *Buf) Count(perItem int) int {
	n := d.Uvarint()
	if n > uint64(d.Left()/perItem) {
		d.Fail("count %d exceeds the bytes left", n)
		return 0
	}
	return int(n)
}

// U8 reads one byte.
func (d *Buf) U8() byte {
	if d.Err != nil || d.Left() < 1 {
		d.Fail("short read")
		return 0
	}
	d.Off++
	return d.B[d.Off-1]
}

// U32 reads a little-endian uint32.
func (d *Buf) U32() uint32 {
	if d.Err != nil || d.Left() < 4 {
		d.Fail("short read")
		return 0
	}
	d.Off += 4
	return binary.LittleEndian.Uint32(d.B[d.Off-4:])
}

// U64 reads a little-endian uint64.
func (d *Buf) U64() uint64 {
	if d.Err != nil || d.Left() < 8 {
		d.Fail("short read")
		return 0
	}
	d.Off += 8
	return binary.LittleEndian.Uint64(d.B[d.Off-8:])
}

// Bytes returns the next n bytes (aliasing B).
func (d *Buf) Bytes(n int) []byte {
	if d.Err != nil || n < 0 || d.Left() < n {
		d.Fail("short read")
		return nil
	}
	d.Off += n
	return d.B[d.Off-n : d.Off]
}

// Str reads a uvarint length and that many bytes as a string (a copy).
func (d *Buf) Str() string { return string(d.Bytes(d.Count(1))) }

// End fails if bytes are left unread.
func (d *Buf) End() {
	if d.Err == nil && d.Off != len(d.B) {
		d.Fail("%d trailing bytes", d.Left())
	}
}

// SkipVarints moves past n (u)varints without decoding them, eight bytes at
// a time: a varint ends at each byte whose top bit is clear. Values skipped
// this way are not checked (the caller's CRC was).
func (d *Buf) SkipVarints(n int) {
	for n > 0 && d.Err == nil {
		if d.Left() >= 8 {
			w := binary.LittleEndian.Uint64(d.B[d.Off:])
			// Jump the whole word unless it holds the n-th end and then
			// goes on into the next varint.
			m := ^w & 0x8080808080808080
			ends := bits.OnesCount64(m)
			if ends < n || (ends == n && w>>63 == 0) {
				d.Off += 8
				n -= ends
				continue
			}
			// The n-th end is in this word: drop the n-1 ends before it
			// and stop just past it, without a step per byte.
			for ; n > 1; n-- {
				m &= m - 1
			}
			d.Off += bits.TrailingZeros64(m)/8 + 1
			return
		}
		if d.Left() < 1 {
			d.Fail("short read")
			return
		}
		if d.B[d.Off] < 0x80 {
			n--
		}
		d.Off++
	}
}
