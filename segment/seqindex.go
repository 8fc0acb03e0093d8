package segment

import (
	"cmp"
	"encoding/binary"
	"fmt"

	"github.com/eventlogdb/eventlog/internal/decbuf"
	"github.com/eventlogdb/eventlog/internal/nearsort"
)

// seqRun is a run of the sequence index: rows Start..Start+Len-1 (in
// (@timestamp, sequence) order) are consecutive in sequence order too, and
// the first holds sequence number FirstSeq.
type seqRun struct {
	Start, Len uint32
	FirstSeq   uint64
}

// seqRuns returns the sequence-order permutation of the rows (whose
// sequence numbers seqs gives, in row order) as runs, or an error naming
// a sequence number two rows share. Rows come in (@timestamp, sequence)
// order, which a head's or a merge's rows follow in sequence order but
// for a few out of order: the permutation is sorted as nearly sorted.
func seqRuns(seqs []uint64) ([]seqRun, error) {
	perm := make([]uint32, len(seqs))
	for i := range perm {
		perm[i] = uint32(i)
	}
	nearsort.SortFunc(perm, func(a, b uint32) int { return cmp.Compare(seqs[a], seqs[b]) })
	var runs []seqRun
	for i, r := range perm {
		if i > 0 && seqs[r] == seqs[perm[i-1]] {
			return nil, fmt.Errorf("sequence %d repeated", seqs[r])
		}
		if i > 0 && r == perm[i-1]+1 {
			runs[len(runs)-1].Len++
			continue
		}
		runs = append(runs, seqRun{Start: r, Len: 1, FirstSeq: seqs[r]})
	}
	return runs, nil
}

// appendSeqIndex writes uvarint(runs) then per run varint(start - end of
// the previous run), uvarint(len), uvarint(firstSeq - previous firstSeq).
func appendSeqIndex(dst []byte, runs []seqRun) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(runs)))
	var end int64
	var seq uint64
	for _, r := range runs {
		dst = binary.AppendVarint(dst, int64(r.Start)-end)
		dst = binary.AppendUvarint(dst, uint64(r.Len))
		dst = binary.AppendUvarint(dst, r.FirstSeq-seq)
		end, seq = int64(r.Start)+int64(r.Len), r.FirstSeq
	}
	return dst
}

// decodeSeqIndex parses the runs and checks that they cover every row once
// and that their first sequence numbers increase within the footer's range.
func decodeSeqIndex(b []byte, f *footer) ([]seqRun, error) {
	d := decbuf.New(b, errInvalid)
	runs := make([]seqRun, d.Count(3))
	seen := make([]uint64, (f.Events+63)/64)
	var end int64
	var seq uint64
	for i := range runs {
		start := end + d.Varint()
		n := d.Uvarint()
		delta := d.Uvarint()
		if start < 0 || n == 0 || uint64(start)+n > f.Events || (i > 0 && delta == 0) {
			d.Fail("run %d out of range", i)
			break
		}
		seq += delta
		runs[i] = seqRun{Start: uint32(start), Len: uint32(n), FirstSeq: seq}
		if !markRows(seen, uint64(start), n) {
			d.Fail("run %d repeats a row", i)
		}
		end = start + int64(n)
	}
	d.End()
	if d.Err == nil && (len(runs) == 0 || runs[0].FirstSeq != f.MinSeq || seq > f.MaxSeq || covered(seen) != f.Events) {
		d.Fail("runs do not cover the rows")
	}
	return runs, d.Err
}

func markRows(seen []uint64, start, n uint64) bool {
	for r := start; r < start+n; r++ {
		if seen[r/64]&(1<<(r%64)) != 0 {
			return false
		}
		seen[r/64] |= 1 << (r % 64)
	}
	return true
}

func covered(seen []uint64) uint64 {
	var n uint64
	for _, w := range seen {
		for ; w != 0; w &= w - 1 {
			n++
		}
	}
	return n
}
