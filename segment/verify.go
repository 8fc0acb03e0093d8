package segment

import (
	"errors"
	"fmt"

	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/internal/match"
)

// Verify checks every checksum, decodes every block, checks that rows are
// in order and that the sequence index is the rows' sequence order, and
// validates every postings bitmap. It returns the errors.Join of the
// *CorruptionError found (or a plain error when the Reader is closed).
func (r *Reader) Verify() error {
	if err := r.live(); err != nil {
		return err
	}
	var errs []error
	for _, s := range []struct {
		name string
		sec  section
	}{{SectionBlockIndex, r.f.BlockIndex}, {SectionPostings, r.f.Postings}, {SectionSeqIndex, r.f.SeqIndex}} {
		if b, err := r.span(s.sec.Off, s.sec.Len); err != nil {
			errs = append(errs, err)
		} else if got := crc(b); got != s.sec.CRC {
			errs = append(errs, r.corrupt(s.name, -1, fmt.Errorf("crc %08x, want %08x", got, s.sec.CRC)))
		}
	}
	seqs, err := r.verifyBlocks()
	errs = append(errs, err)
	if seqs != nil {
		errs = append(errs, r.verifySeqIndex(seqs))
	}
	errs = append(errs, r.verifyPostings())
	return errors.Join(errs...)
}

// verifyBlocks checks and decodes every block; it returns every row's
// sequence number when all blocks decode.
func (r *Reader) verifyBlocks() ([]uint64, error) {
	var errs []error
	seqs := make([]uint64, 0, r.f.Events)
	var prev *match.Position
	for bi := range r.blocks {
		b := &r.blocks[bi]
		if data, err := r.span(b.Off, b.Len); err != nil {
			errs = append(errs, err)
			continue
		} else if got := crc(data); got != b.CRC {
			errs = append(errs, r.corrupt(SectionBlock, bi, fmt.Errorf("crc %08x, want %08x", got, b.CRC)))
			continue
		}
		_, k, err := r.decodeBlock(bi)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for i := range k.ts {
			p := match.Position{TS: k.ts[i], Seq: k.seq[i]}
			if prev != nil && match.Compare(*prev, p) >= 0 {
				errs = append(errs, r.corrupt(SectionBlock, bi, errors.New("rows out of order")))
				break
			}
			prev = &p
		}
		seqs = append(seqs, k.seq...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return seqs, nil
}

func (r *Reader) verifySeqIndex(seqs []uint64) error {
	var last uint64
	n := 0
	for ri, run := range r.runs {
		if seqs[run.Start] != run.FirstSeq {
			return r.corrupt(SectionSeqIndex, -1, fmt.Errorf("run %d starts at sequence %d, row holds %d", ri, run.FirstSeq, seqs[run.Start]))
		}
		for row := run.Start; row < run.Start+run.Len; row++ {
			if n > 0 && seqs[row] <= last {
				return r.corrupt(SectionSeqIndex, -1, fmt.Errorf("row %d out of sequence order", row))
			}
			last = seqs[row]
			n++
		}
	}
	return nil
}

func (r *Reader) verifyPostings() error {
	post, err := r.postings()
	if err != nil {
		return err
	}
	err = post.Each(func(t index.TermInfo) error {
		if !t.Rows.IsEmpty() && uint64(t.Rows.Maximum()) >= r.f.Events {
			return fmt.Errorf("term %s: row %d out of range", t.Field, t.Rows.Maximum())
		}
		return nil
	})
	if err != nil {
		return r.corrupt(SectionPostings, -1, err)
	}
	return nil
}
