package segment

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/eventlogdb/eventlog/internal/decbuf"

	"github.com/eventlogdb/eventlog/event"
)

// colMeta describes one stored column of a block.
type colMeta struct {
	ID     uint8
	Codec  uint8
	Off    uint64 // within the block, derived: the sum of earlier CLens
	CLen   uint64 // stored bytes
	RawLen uint64 // decoded bytes
	CRC    uint32 // CRC-32C of the stored bytes
	stats
}

// blockMeta is one block index entry.
type blockMeta struct {
	Off, Len       uint64 // file offset and length of the block
	CRC            uint32 // CRC-32C of the block's bytes
	FirstRow, Rows uint32
	MinTS, MaxTS   int64 // @timestamp of the first and last row
	MinSeq, MaxSeq uint64
	Cols           []colMeta // by increasing ID
}

// kindOf returns the kind of a column id (0 for the sequence column).
func kindOf(id uint8) event.Kind {
	if id == colSeq {
		return 0
	}
	if f := event.FieldByID(id); f != nil {
		return f.Kind
	}
	return 0
}

func appendBlockIndex(dst []byte, blocks []blockMeta) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(blocks)))
	for i := range blocks {
		dst = appendBlockMeta(dst, &blocks[i])
	}
	return dst
}

func appendBlockMeta(dst []byte, b *blockMeta) []byte {
	dst = binary.AppendUvarint(dst, b.Off)
	dst = binary.AppendUvarint(dst, b.Len)
	dst = binary.LittleEndian.AppendUint32(dst, b.CRC)
	dst = binary.AppendUvarint(dst, uint64(b.FirstRow))
	dst = binary.AppendUvarint(dst, uint64(b.Rows))
	dst = binary.AppendVarint(dst, b.MinTS)
	dst = binary.AppendVarint(dst, b.MaxTS)
	dst = binary.AppendUvarint(dst, b.MinSeq)
	dst = binary.AppendUvarint(dst, b.MaxSeq)
	dst = binary.AppendUvarint(dst, uint64(len(b.Cols)))
	for i := range b.Cols {
		dst = appendColMeta(dst, &b.Cols[i])
	}
	return dst
}

func appendColMeta(dst []byte, c *colMeta) []byte {
	dst = append(dst, c.ID, c.Codec)
	dst = binary.AppendUvarint(dst, c.CLen)
	dst = binary.AppendUvarint(dst, c.RawLen)
	dst = binary.LittleEndian.AppendUint32(dst, c.CRC)
	dst = binary.AppendUvarint(dst, uint64(c.Count))
	switch kindOf(c.ID) {
	case event.KindInt, event.KindDuration:
		dst = binary.AppendVarint(dst, c.ISum)
		dst = binary.AppendVarint(dst, c.IMin)
		dst = binary.AppendVarint(dst, c.IMax)
	case event.KindFloat:
		for _, v := range [3]float64{c.FSum, c.FMin, c.FMax} {
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
		}
	}
	return dst
}

// decodeBlockIndex parses and validates the block index against the
// footer; from VersionRefKeys on it ends with the ref key table, whose
// ranks it returns (nil before).
func decodeBlockIndex(b []byte, f *footer) ([]blockMeta, []uint32, error) {
	var ranks []uint32
	if f.Version >= VersionRefKeys {
		var err error
		if b, ranks, err = splitRefKeyTable(b); err != nil {
			return nil, nil, err
		}
	}
	d := decbuf.New(b, errInvalid)
	n := d.Count(20)
	if d.Err == nil && uint64(n) != uint64(f.Blocks) {
		d.Fail("%d blocks, footer says %d", n, f.Blocks)
	}
	blocks := make([]blockMeta, n)
	for i := range blocks {
		decodeBlockMeta(&d, &blocks[i])
	}
	d.End()
	if d.Err != nil {
		return nil, nil, d.Err
	}
	return blocks, ranks, validateBlocks(blocks, f)
}

func decodeBlockMeta(d *decbuf.Buf, b *blockMeta) {
	b.Off, b.Len = d.Uvarint(), d.Uvarint()
	b.CRC = d.U32()
	b.FirstRow, b.Rows = u32v(d), u32v(d)
	b.MinTS, b.MaxTS = d.Varint(), d.Varint()
	b.MinSeq, b.MaxSeq = d.Uvarint(), d.Uvarint()
	b.Cols = make([]colMeta, d.Count(8))
	off := uint64(0)
	for i := range b.Cols {
		c := &b.Cols[i]
		c.ID, c.Codec = d.U8(), d.U8()
		c.CLen, c.RawLen = d.Uvarint(), d.Uvarint()
		c.CRC = d.U32()
		c.Count = u32v(d)
		decodeStats(d, c)
		c.Off = off
		off += c.CLen
		if c.CLen > b.Len || off > b.Len {
			d.Fail("column %d exceeds its block", c.ID)
		}
	}
	if d.Err == nil && off != b.Len {
		d.Fail("columns cover %d of %d block bytes", off, b.Len)
	}
}

func decodeStats(d *decbuf.Buf, c *colMeta) {
	switch kindOf(c.ID) {
	case event.KindInt, event.KindDuration:
		c.ISum, c.IMin, c.IMax = d.Varint(), d.Varint(), d.Varint()
	case event.KindFloat:
		c.FSum = math.Float64frombits(d.U64())
		c.FMin = math.Float64frombits(d.U64())
		c.FMax = math.Float64frombits(d.U64())
	}
}

func u32v(d *decbuf.Buf) uint32 {
	v := d.Uvarint()
	if v > math.MaxUint32 {
		d.Fail("value %d exceeds 32 bits", v)
	}
	return uint32(v)
}

// validateBlocks checks that blocks tile the rows and the block area of the
// file in order, and that their keys agree with the footer.
func validateBlocks(blocks []blockMeta, f *footer) error {
	off, row := uint64(headerLen), uint64(0)
	for i := range blocks {
		if err := validateBlock(&blocks[i], off, row, f); err != nil {
			return fmt.Errorf("block %d: %w", i, err)
		}
		if i > 0 && blocks[i].MinTS < blocks[i-1].MaxTS {
			return fmt.Errorf("block %d: %w: blocks out of time order", i, errInvalid)
		}
		off += blocks[i].Len
		row += uint64(blocks[i].Rows)
	}
	if off != f.BlockIndex.Off || row != f.Events {
		return fmt.Errorf("%w: blocks cover %d bytes and %d rows, footer says %d and %d", errInvalid, off, row, f.BlockIndex.Off, f.Events)
	}
	if len(blocks) > 0 && (blocks[0].MinTS != f.MinTS || blocks[len(blocks)-1].MaxTS != f.MaxTS) {
		return fmt.Errorf("%w: block time range disagrees with the footer", errInvalid)
	}
	return nil
}

func validateBlock(b *blockMeta, off, row uint64, f *footer) error {
	switch {
	case b.Off != off || uint64(b.FirstRow) != row:
		return fmt.Errorf("%w: out of place", errInvalid)
	case b.Rows == 0 || b.Rows > maxBlockRows:
		return fmt.Errorf("%w: %d rows", errInvalid, b.Rows)
	case b.MinTS > b.MaxTS || b.MinSeq > b.MaxSeq || b.MinSeq < f.MinSeq || b.MaxSeq > f.MaxSeq:
		return fmt.Errorf("%w: bad key range", errInvalid)
	case len(b.Cols) < 2 || b.Cols[0].ID != colSeq || b.Cols[1].ID != colTS:
		return fmt.Errorf("%w: missing sequence or timestamp column", errInvalid)
	}
	for i := range b.Cols {
		c := &b.Cols[i]
		if i > 0 && c.ID <= b.Cols[i-1].ID || i > 1 && kindOf(c.ID) == 0 ||
			kindOf(c.ID) == event.KindExtra && f.Version < VersionExtra {
			return fmt.Errorf("%w: column %d unknown or out of order", errInvalid, c.ID)
		}
		if c.Codec > codecZstd || c.RawLen > maxColumnRaw || (c.Codec == codecRaw && c.RawLen != c.CLen) {
			return fmt.Errorf("%w: column %d: bad codec or length", errInvalid, c.ID)
		}
		if c.Count > b.Rows || (i < 2 && c.Count != b.Rows) || c.Count == 0 {
			return fmt.Errorf("%w: column %d: bad count", errInvalid, c.ID)
		}
	}
	return nil
}
