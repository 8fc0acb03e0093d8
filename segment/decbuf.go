package segment

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// decbuf decodes a byte slice, recording the first error; every read after
// an error returns zero values. Counts are bounded by the bytes left.
type decbuf struct {
	b   []byte
	off int
	err error
}

func (d *decbuf) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at byte %d", errInvalid, fmt.Sprintf(format, args...), d.off)
	}
}

func (d *decbuf) left() int { return len(d.b) - d.off }

func (d *decbuf) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.off += n
	return v
}

func (d *decbuf) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.off += n
	return v
}

// count reads a uvarint that counts items of at least perItem (>= 1) bytes
// each, so a damaged count cannot make the caller allocate more than the
// input justifies.
func (d *decbuf) count(perItem int) int {
	n := d.uvarint()
	if n > uint64(d.left()/perItem) {
		d.fail("count %d exceeds the bytes left", n)
		return 0
	}
	return int(n)
}

func (d *decbuf) u8() byte {
	if d.err != nil || d.left() < 1 {
		d.fail("short read")
		return 0
	}
	d.off++
	return d.b[d.off-1]
}

func (d *decbuf) u32() uint32 {
	if d.err != nil || d.left() < 4 {
		d.fail("short read")
		return 0
	}
	d.off += 4
	return binary.LittleEndian.Uint32(d.b[d.off-4:])
}

func (d *decbuf) u64() uint64 {
	if d.err != nil || d.left() < 8 {
		d.fail("short read")
		return 0
	}
	d.off += 8
	return binary.LittleEndian.Uint64(d.b[d.off-8:])
}

func (d *decbuf) bytes(n int) []byte {
	if d.err != nil || n < 0 || d.left() < n {
		d.fail("short read")
		return nil
	}
	d.off += n
	return d.b[d.off-n : d.off]
}

func (d *decbuf) end() {
	if d.err == nil && d.off != len(d.b) {
		d.fail("%d trailing bytes", d.left())
	}
}

// skipVarints moves past n (u)varints without decoding them, eight bytes at
// a time: a varint ends at each byte whose top bit is clear. Values skipped
// this way are not checked (the column's CRC was).
func (d *decbuf) skipVarints(n int) {
	for n > 0 && d.err == nil {
		if d.left() >= 8 {
			w := binary.LittleEndian.Uint64(d.b[d.off:])
			if ends := bits.OnesCount64(^w & 0x8080808080808080); ends <= n {
				d.off += 8
				n -= ends
				continue
			}
		}
		if d.left() < 1 {
			d.fail("short read")
			return
		}
		if d.b[d.off] < 0x80 {
			n--
		}
		d.off++
	}
}
