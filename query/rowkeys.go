package query

import "slices"

// RowKeyer is a Source that can give the keys of some rows of a block
// without decoding the block's keys: a segment whose document cache holds
// those rows (segment.DocCache). Decoding a block's keys decompresses two
// of its columns, 8,192 rows each, for what may be one row.
type RowKeyer interface {
	// RowKeys returns the @timestamp (Unix ns) and sequence number of the
	// rows want (increasing, relative to the block) of block, ts[i] and
	// seq[i] those of want[i]; ok is false when it does not have them all
	// at hand.
	RowKeys(block int, want []int) (ts []int64, seq []uint64, ok bool)
}

// sparseKeyRows is the most candidate rows of a block whose keys a query
// asks a RowKeyer for before decoding the block's.
const sparseKeyRows = 128

// rowKeys are the keys a visit places a block's rows with: every row's
// (rows nil), or those of rows only (ts[i] and seq[i] of rows[i]).
type rowKeys struct {
	ts   []int64
	seq  []uint64
	rows []int
}

// at returns the keys of block row r, which the keys hold.
func (k *rowKeys) at(r int) (int64, uint64) {
	if k.rows == nil {
		return k.ts[r], k.seq[r]
	}
	i, _ := slices.BinarySearch(k.rows, r)
	return k.ts[i], k.seq[i]
}

// keysOf returns the keys of block w of src: those of its candidate rows
// when they are few and src has them at hand, else every row's.
func keysOf(w *work, src Source) (rowKeys, error) {
	if rk, ok := src.(RowKeyer); ok && w.cand != nil && blockCount(w) <= sparseKeyRows {
		rows := candidateRows(w, nil)
		if ts, seq, ok := rk.RowKeys(w.block, rows); ok {
			return rowKeys{ts: ts, seq: seq, rows: rows}, nil
		}
	}
	ts, seq, err := src.Keys(w.block)
	return rowKeys{ts: ts, seq: seq}, err
}

// candidateRows appends to dst the candidate rows of block w, relative to
// the block, in order.
func candidateRows(w *work, dst []int) []int {
	it := w.cand.Iterator()
	it.AdvanceIfNeeded(w.b.FirstRow)
	for end := w.b.FirstRow + w.b.Rows; it.HasNext() && it.PeekNext() < end; {
		dst = append(dst, int(it.Next()-w.b.FirstRow))
	}
	return dst
}
