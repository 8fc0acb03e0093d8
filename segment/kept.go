package segment

import (
	"fmt"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/memory"
)

// KeptBlock holds the decompressed field columns of one block of a Reader
// between two reads, so that a read in steps (an export: each step's last
// block is where the next step resumes) does not decompress that block
// again. Its bytes are charged to the account DecodeKept was given until
// Release. Not safe for concurrent use: its owner hands it to one
// DecodeKept at a time.
type KeptBlock struct {
	reader  uint64 // Reader.id
	block   int
	cols    [][]byte  // by index in the block's columns; nil: not kept (raw, keys)
	bufs    []*[]byte // cols' buffers, from and back to columnBufs
	acct    *memory.Account
	charged int64
}

// Release gives back the bytes k holds; k then holds nothing. A nil k is
// a no-op.
func (k *KeptBlock) Release() {
	if k == nil {
		return
	}
	k.acct.Release(k.charged)
	for _, b := range k.bufs {
		columnBufs.Put(b)
	}
	k.cols, k.bufs, k.charged = nil, nil, 0
}

// holds reports whether k holds the columns of block bi of r.
func (k *KeptBlock) holds(r *Reader, bi int) bool {
	return k != nil && k.cols != nil && k.reader == r.id && k.block == bi
}

// DecodeKept is Decode of every field of the rows want of block bi,
// reading the block's decompressed columns from from when it holds them
// (it only reads from). With keep, it also returns the block's columns
// kept: from itself when it held them, else a new KeptBlock charged to
// acct, or nil when acct has no room for it. A query's page calls it for
// the blocks where a step of an export starts and ends (query.Keep).
func (r *Reader) DecodeKept(bi int, want []int, out []*event.Event, from *KeptBlock, keep bool, acct *memory.Account) (*KeptBlock, error) {
	if err := r.checkRows(bi, want); err != nil {
		return nil, err
	}
	k, err := r.keys(bi)
	if err != nil {
		return nil, err
	}
	setTimestamps(k, want, out)
	cs := columnSource{}
	if from.holds(r, bi) {
		cs.from = from
	} else if keep {
		cs.into = &KeptBlock{reader: r.id, block: bi, cols: make([][]byte, len(r.blocks[bi].Cols)), acct: acct}
	}
	if err := r.decodeColumnsFrom(bi, want, out, allColumns, nil, cs); err != nil {
		cs.into.Release()
		return nil, err
	}
	switch {
	case !keep:
		return nil, nil
	case cs.from != nil:
		return from, nil
	}
	return cs.into.charge(), nil
}

// charge charges k's bytes to its account and returns k, or nil when it
// holds none (the block's columns are stored uncompressed) or the account
// has no room for them.
func (k *KeptBlock) charge() *KeptBlock {
	var n int64
	for _, c := range k.cols {
		n += int64(cap(c))
	}
	if n == 0 || !k.acct.TryCharge(n) {
		k.Release()
		return nil
	}
	k.charged = n
	return k
}

// columnSource says where decodeColumnsFrom takes a block's decompressed
// columns: from a KeptBlock holding them, or decompressed and kept in
// into, or (both nil) decompressed into a pooled buffer.
type columnSource struct {
	from, into *KeptBlock
}

// column returns the decompressed column i (c) of block bi, decompressing
// it into *buf when cs neither holds nor keeps it.
func (r *Reader) columnFrom(bi, i int, c *colMeta, buf *[]byte, cs columnSource) ([]byte, error) {
	if cs.from != nil && cs.from.cols[i] != nil {
		return cs.from.cols[i], nil
	}
	if cs.into != nil && c.Codec == codecZstd {
		b := columnBufs.Get().(*[]byte)
		cs.into.bufs = append(cs.into.bufs, b)
		raw, err := r.columnInto(bi, c, *b)
		if err == nil {
			*b, cs.into.cols[i] = raw[:0], raw
		}
		return raw, err
	}
	raw, err := r.columnInto(bi, c, *buf)
	if err == nil && c.Codec == codecZstd {
		*buf = raw[:0]
	}
	return raw, err
}

// checkRows checks that the rows want are increasing within block bi.
func (r *Reader) checkRows(bi int, want []int) error {
	if err := r.live(); err != nil {
		return err
	}
	if bi < 0 || bi >= len(r.blocks) {
		return fmt.Errorf("segment %s: block %d out of range", r.path, bi)
	}
	b := &r.blocks[bi]
	for i, row := range want {
		if row < 0 || row >= int(b.Rows) || (i > 0 && row <= want[i-1]) {
			return fmt.Errorf("segment %s: block %d: rows not increasing within 0..%d", r.path, bi, b.Rows-1)
		}
	}
	return nil
}
