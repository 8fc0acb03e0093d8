package index

import (
	"encoding/binary"
	"unsafe"
)

// decbuf decodes a byte slice, recording the first error; every read after
// an error returns zero values.
type decbuf struct {
	b   []byte
	off int
	err error
}

func (d *decbuf) fail(format string, args ...any) {
	if d.err == nil {
		d.err = corrupt(format, args...)
	}
}

func (d *decbuf) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail("bad uvarint at %d", d.off)
		return 0
	}
	d.off += n
	return v
}

// count reads a uvarint count bounded by the bytes left (every counted item
// takes at least one byte).
func (d *decbuf) count() int {
	n := d.uvarint()
	if n > uint64(len(d.b)-d.off) {
		d.fail("count %d exceeds the %d bytes left", n, len(d.b)-d.off)
		return 0
	}
	return int(n)
}

func (d *decbuf) str() string {
	n := d.count()
	if d.err != nil {
		return ""
	}
	s := string(d.b[d.off : d.off+n])
	d.off += n
	return s
}

func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
