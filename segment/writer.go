package segment

import (
	"bufio"
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// writer writes one segment file in stage order: header, blocks, block
// index, postings, sequence index, footer. A call out of order is an error.
type writer struct {
	w      *bufio.Writer
	enc    *zstd.Encoder
	stage  stage
	off    uint64
	blocks []blockMeta
	f      footer
	err    error
	cols   *colEncoder
	masks  []mask // the present fields of the current block's rows
	raw    []byte // scratch
	frame  []byte // scratch
	data   []byte // scratch: the current block
}

type stage int

const (
	stageStart stage = iota
	stageHeader
	stageBlocks
	stageBlockIndex
	stagePostings
	stageSeqIndex
	stageFooter
)

func newWriter(w *bufio.Writer, enc *zstd.Encoder) *writer {
	return &writer{w: w, enc: enc, cols: newColEncoder()}
}

// enter moves to stage s; blocks may repeat, every other stage comes once
// and in order.
func (w *writer) enter(s stage) error {
	if w.err != nil {
		return w.err
	}
	if s < w.stage || (s == w.stage && s != stageBlocks) || (s > stageBlocks && s != w.stage+1) || (s == stageBlocks && w.stage < stageHeader) {
		return fmt.Errorf("segment writer: stage %d after stage %d", s, w.stage)
	}
	w.stage = s
	return nil
}

func (w *writer) write(b []byte) {
	if w.err != nil {
		return
	}
	_, w.err = w.w.Write(b)
	w.off += uint64(len(b))
}

func (w *writer) pad8() {
	var zero [8]byte
	w.write(zero[:(8-w.off%8)%8])
}

func (w *writer) section(b []byte) (section, error) {
	s := section{Off: w.off, Len: uint64(len(b)), CRC: crc(b)}
	w.write(b)
	return s, w.err
}

func (w *writer) header() error {
	if err := w.enter(stageHeader); err != nil {
		return err
	}
	w.write(appendHeader(nil))
	return w.err
}

// block writes rows (the block's rows, starting at row first) as one block;
// w.masks holds their present fields (see blockEnd).
func (w *writer) block(rows []Row, first uint32) error {
	if err := w.enter(stageBlocks); err != nil {
		return err
	}
	b := blockMeta{Off: w.off, FirstRow: first, Rows: uint32(len(rows))}
	b.MinTS, b.MaxTS = rows[0].Event.Timestamp.UnixNano(), rows[len(rows)-1].Event.Timestamp.UnixNano()
	b.MinSeq, b.MaxSeq = rows[0].Seq, rows[0].Seq
	var union mask
	for i, r := range rows {
		b.MinSeq, b.MaxSeq = min(b.MinSeq, r.Seq), max(b.MaxSeq, r.Seq)
		union.or(&w.masks[i])
	}
	b.Cols = make([]colMeta, 0, 2+union.count())
	w.data = w.data[:0]
	w.column(&b, colSeq, appendSeqColumn(w.raw[:0], rows), stats{Count: b.Rows})
	w.column(&b, colTS, w.cols.appendTSColumn(w.raw[:0], rows), stats{Count: b.Rows})
	for si := range slots {
		if union.has(si) {
			raw, st := w.cols.appendFieldColumn(w.raw[:0], si, rows, w.masks)
			w.column(&b, slots[si].f.ID, raw, st)
		}
	}
	b.Len, b.CRC = uint64(len(w.data)), crc(w.data)
	w.write(w.data)
	w.blocks = append(w.blocks, b)
	return w.err
}

// column compresses raw and appends it to the block's data; a column that
// zstd does not shrink is stored raw.
func (w *writer) column(b *blockMeta, id uint8, raw []byte, st stats) {
	w.raw = raw
	if len(raw) > maxColumnRaw && w.err == nil {
		w.err = fmt.Errorf("column %d of block %d has %d bytes, over the limit of %d", id, len(w.blocks), len(raw), maxColumnRaw)
	}
	c := colMeta{ID: id, Codec: codecRaw, Off: uint64(len(w.data)), RawLen: uint64(len(raw)), stats: st}
	stored := raw
	w.frame = w.enc.EncodeAll(raw, w.frame[:0])
	if len(w.frame) < len(raw) {
		c.Codec, stored = codecZstd, w.frame
	}
	c.CLen, c.CRC = uint64(len(stored)), crc(stored)
	w.data = append(w.data, stored...)
	b.Cols = append(b.Cols, c)
}

func (w *writer) blockIndex() error {
	if err := w.enter(stageBlockIndex); err != nil {
		return err
	}
	var err error
	w.f.BlockIndex, err = w.section(appendBlockIndex(nil, w.blocks))
	return err
}

func (w *writer) seqIndex(seqs []uint64) error {
	if err := w.enter(stageSeqIndex); err != nil {
		return err
	}
	var err error
	w.f.SeqIndex, err = w.section(appendSeqIndex(nil, seqRuns(seqs)))
	return err
}

func (w *writer) footer(events uint64) (Info, error) {
	if err := w.enter(stageFooter); err != nil {
		return Info{}, err
	}
	f := &w.f
	f.Events, f.Blocks, f.Version = events, uint32(len(w.blocks)), Version
	f.MinTS, f.MaxTS = w.blocks[0].MinTS, w.blocks[len(w.blocks)-1].MaxTS
	f.MinSeq, f.MaxSeq = w.blocks[0].MinSeq, w.blocks[0].MaxSeq
	for _, b := range w.blocks {
		f.MinSeq, f.MaxSeq = min(f.MinSeq, b.MinSeq), max(f.MaxSeq, b.MaxSeq)
	}
	w.write(f.appendTo(nil))
	if w.err == nil {
		w.err = w.w.Flush()
	}
	return f.info(int64(w.off)), w.err
}

func (f *footer) info(size int64) Info {
	return Info{Events: int(f.Events), MinTS: f.MinTS, MaxTS: f.MaxTS, MinSeq: f.MinSeq, MaxSeq: f.MaxSeq, FileBytes: size, Version: int(f.Version)}
}
