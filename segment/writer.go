package segment

import (
	"bufio"
	"fmt"
	"slices"

	"github.com/klauspost/compress/zstd"
)

// writer writes one segment file in stage order: header, blocks, block
// index, postings, sequence index, footer. A call out of order is an error.
type writer struct {
	w       *bufio.Writer
	enc     *zstd.Encoder
	fast    *zstd.Encoder // for the columns FastColumn names; nil: enc
	entropy *zstd.Encoder // for the columns EntropyColumn names; nil: enc
	version uint8         // the format version written
	stage   stage
	off     uint64
	blocks  []blockMeta
	f       footer
	err     error
	cols    *colEncoder
	raw     []byte // scratch
	frame   []byte // scratch
	data    []byte // scratch: the current block
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

// newWriter returns a writer to w, taking the column encoder and ref key
// numbering sc keeps (empty) when it keeps them.
func newWriter(w *bufio.Writer, enc *zstd.Encoder, version uint8, sc *scratch) *writer {
	cols := sc.cols
	if cols == nil {
		cols = newColEncoder()
	}
	cols.refKeys = nil
	if version >= VersionRefKeys {
		if cols.refKeys = sc.refKeys; cols.refKeys == nil {
			cols.refKeys = newRefKeyWriter()
		}
	}
	sc.cols, sc.refKeys = nil, nil
	return &writer{w: w, enc: enc, version: version, cols: cols}
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
	w.write(appendHeader(nil, w.version))
	return w.err
}

// block writes the staged rows (starting at row first) as one block.
func (w *writer) block(s *blockStage, first uint32) error {
	if err := w.enter(stageBlocks); err != nil {
		return err
	}
	n := s.rows()
	b := blockMeta{Off: w.off, FirstRow: first, Rows: uint32(n)}
	b.MinTS, b.MaxTS = s.ts[0], s.ts[n-1]
	b.MinSeq, b.MaxSeq = slices.Min(s.seqs), slices.Max(s.seqs)
	b.Cols = make([]colMeta, 0, 2+s.union.count())
	w.data = w.data[:0]
	w.column(&b, colSeq, appendSeqColumn(w.raw[:0], s.seqs), stats{Count: b.Rows})
	w.column(&b, colTS, appendTSColumn(w.raw[:0], s.ts, s.tsFmt, w.version >= VersionRefIDs), stats{Count: b.Rows})
	for si := range slots {
		if s.union.has(si) {
			raw, st := w.cols.appendFieldColumn(w.raw[:0], si, s)
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
	w.frame = w.columnEncoder(id).EncodeAll(raw, w.frame[:0])
	if len(w.frame) < len(raw) {
		c.Codec, stored = codecZstd, w.frame
	}
	c.CLen, c.CRC = uint64(len(stored)), crc(stored)
	w.data = append(w.data, stored...)
	b.Cols = append(b.Cols, c)
}

// columnEncoder is the encoder that compresses column id.
func (w *writer) columnEncoder(id uint8) *zstd.Encoder {
	switch {
	case w.fast != nil && FastColumn(id):
		return w.fast
	case w.entropy != nil && EntropyColumn(id):
		return w.entropy
	}
	return w.enc
}

func (w *writer) blockIndex() error {
	if err := w.enter(stageBlockIndex); err != nil {
		return err
	}
	var err error
	b := appendBlockIndex(nil, w.blocks)
	if w.cols.refKeys != nil {
		b = appendRefKeyTable(b, w.cols.refKeys.ranks())
	}
	w.f.BlockIndex, err = w.section(b)
	return err
}

// seqIndex writes the sequence index of runs (seqRuns).
func (w *writer) seqIndex(runs []seqRun) error {
	if err := w.enter(stageSeqIndex); err != nil {
		return err
	}
	var err error
	w.f.SeqIndex, err = w.section(appendSeqIndex(nil, runs))
	return err
}

func (w *writer) footer(events uint64) (Info, error) {
	if err := w.enter(stageFooter); err != nil {
		return Info{}, err
	}
	f := &w.f
	f.Events, f.Blocks, f.Version = events, uint32(len(w.blocks)), uint32(w.version)
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
