package segment

import (
	"fmt"
	"sort"

	"github.com/eventlogdb/eventlog/event"
)

// EachSeqRange calls fn, in sequence order, for every row whose sequence
// number is within [lo, hi]. It stops at the first error fn returns and
// returns it. ev is fn's to keep.
//
// Only the range's rows are decoded, so a reader walking the segment in
// consecutive ranges decodes every row once and memory stays at one
// range's events; but each block the range touches is read
// (decompressed, CRC-checked) once per call. SeqCursor also keeps the
// rows due later of the blocks it reads.
func (r *Reader) EachSeqRange(lo, hi uint64, fn func(seq uint64, ev *event.Event) error) error {
	return r.SeqCursor(lo).Each(hi, 0, fn)
}

// seqRows returns, in sequence order, the rows whose sequence numbers are
// within [lo, hi], and those numbers. It reads the sequence index and the
// keys of the blocks holding the rows after the first of each run, and
// checks that the numbers increase as the index says.
func (r *Reader) seqRows(lo, hi uint64) (rows []uint32, seqs []uint64, err error) {
	// Skip the runs that end before lo: run i ends before run i+1 starts.
	first := sort.Search(len(r.runs), func(i int) bool {
		return i+1 == len(r.runs) || r.runs[i+1].FirstSeq > lo
	})
	var (
		b     *blockMeta
		k     *blockKeys
		prev  uint64
		began bool
	)
	for _, run := range r.runs[first:] {
		if run.FirstSeq > hi {
			break
		}
		for row := run.Start; row < run.Start+run.Len; row++ {
			seq := run.FirstSeq // no keys needed: late rows are runs of one
			if row > run.Start {
				if b == nil || row < b.FirstRow || row >= b.FirstRow+b.Rows {
					bi := r.blockOf(row)
					if k, err = r.keys(bi); err != nil {
						return nil, nil, err
					}
					b = &r.blocks[bi]
				}
				seq = k.seq[row-b.FirstRow]
			}
			if began && seq <= prev {
				return nil, nil, r.corrupt(SectionSeqIndex, -1, fmt.Errorf("%w: row %d (sequence %d) out of sequence order", errInvalid, row, seq))
			}
			if seq > hi {
				return rows, seqs, nil
			}
			prev, began = seq, true
			if seq >= lo {
				rows, seqs = append(rows, row), append(seqs, seq)
			}
		}
	}
	return rows, seqs, nil
}
