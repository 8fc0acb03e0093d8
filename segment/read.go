package segment

import (
	"fmt"
	"sort"

	"github.com/klauspost/compress/zstd"

	"github.com/eventlogdb/eventlog/event"
)

func (r *Reader) live() error {
	if r.closed.Load() {
		return fmt.Errorf("eventlog: segment %s: %w", r.path, ErrClosed)
	}
	return nil
}

// blockOf returns the block holding row.
func (r *Reader) blockOf(row uint32) int {
	return sort.Search(len(r.blocks), func(i int) bool {
		b := &r.blocks[i]
		return b.FirstRow+b.Rows > row
	})
}

// colIndex returns the index of column id in block b, or -1.
func colIndex(b *blockMeta, id uint8) int {
	i := sort.Search(len(b.Cols), func(i int) bool { return b.Cols[i].ID >= id })
	if i < len(b.Cols) && b.Cols[i].ID == id {
		return i
	}
	return -1
}

// column returns the decoded bytes of column c of block bi after checking
// its CRC.
func (r *Reader) column(bi int, c *colMeta) ([]byte, error) {
	b := &r.blocks[bi]
	stored := r.data[b.Off+c.Off : b.Off+c.Off+c.CLen]
	if got := crc(stored); got != c.CRC {
		return nil, r.corrupt(SectionBlock, bi, fmt.Errorf("column %d: crc %08x, want %08x", c.ID, got, c.CRC))
	}
	if c.Codec == codecRaw {
		return stored, nil
	}
	var h zstd.Header
	if err := h.Decode(stored); err != nil || (h.HasFCS && h.FrameContentSize != c.RawLen) {
		return nil, r.corrupt(SectionBlock, bi, fmt.Errorf("column %d: bad zstd frame header", c.ID))
	}
	raw, err := r.dec.DecodeAll(stored, make([]byte, 0, min(c.RawLen, 8*uint64(len(stored))+4096)))
	if err != nil {
		return nil, r.corrupt(SectionBlock, bi, fmt.Errorf("column %d: %w", c.ID, err))
	}
	if uint64(len(raw)) != c.RawLen {
		return nil, r.corrupt(SectionBlock, bi, fmt.Errorf("column %d: %d bytes, want %d", c.ID, len(raw), c.RawLen))
	}
	return raw, nil
}

// keys decodes the sequence and timestamp columns of block bi and checks
// them against the block index: positions strictly increase from
// (MinTS, ·) to (MaxTS, ·) and sequence numbers stay within the block's
// range.
func (r *Reader) keys(bi int) (*blockKeys, error) {
	b := &r.blocks[bi]
	rawSeq, err := r.column(bi, &b.Cols[0])
	if err != nil {
		return nil, err
	}
	rawTS, err := r.column(bi, &b.Cols[1])
	if err != nil {
		return nil, err
	}
	k := &blockKeys{}
	if k.seq, err = decodeSeqColumn(rawSeq, int(b.Rows)); err != nil {
		return nil, r.corrupt(SectionBlock, bi, fmt.Errorf("sequence column: %w", err))
	}
	if k.ts, k.fmts, err = decodeTSColumn(rawTS, int(b.Rows)); err != nil {
		return nil, r.corrupt(SectionBlock, bi, fmt.Errorf("timestamp column: %w", err))
	}
	if err := checkKeys(b, k); err != nil {
		return nil, r.corrupt(SectionBlock, bi, err)
	}
	return k, nil
}

func checkKeys(b *blockMeta, k *blockKeys) error {
	n := len(k.ts)
	if k.ts[0] != b.MinTS || k.ts[n-1] != b.MaxTS {
		return fmt.Errorf("%w: timestamps disagree with the block index", errInvalid)
	}
	for i, s := range k.seq {
		if s < b.MinSeq || s > b.MaxSeq || (i > 0 && k.ts[i] == k.ts[i-1] && s <= k.seq[i-1]) {
			return fmt.Errorf("%w: sequence numbers disagree with the block index", errInvalid)
		}
	}
	return nil
}

// decodeBlock decodes every row of block bi.
func (r *Reader) decodeBlock(bi int) ([]event.Event, *blockKeys, error) {
	k, err := r.keys(bi)
	if err != nil {
		return nil, nil, err
	}
	b := &r.blocks[bi]
	evs := make([]event.Event, b.Rows)
	for i := range evs {
		evs[i].Timestamp, _ = event.DateFromParts(k.ts[i], event.Format(k.fmts[i]))
	}
	for i := 2; i < len(b.Cols); i++ {
		c := &b.Cols[i]
		raw, err := r.column(bi, c)
		if err != nil {
			return nil, nil, err
		}
		if err := decodeFieldColumn(raw, event.FieldByID(c.ID), evs, c.Count); err != nil {
			return nil, nil, r.corrupt(SectionBlock, bi, fmt.Errorf("column %d: %w", c.ID, err))
		}
	}
	return evs, k, nil
}

// Events returns the events of rows, in the given order. Each needed block
// is decompressed once per call. The events are owned by the caller.
func (r *Reader) Events(rows []uint32) ([]event.Event, error) {
	if err := r.live(); err != nil {
		return nil, err
	}
	out := make([]event.Event, len(rows))
	cache := map[int][]event.Event{}
	for i, row := range rows {
		if uint64(row) >= r.f.Events {
			return nil, fmt.Errorf("eventlog: segment %s: row %d out of range (%d events)", r.path, row, r.f.Events)
		}
		bi := r.blockOf(row)
		evs, ok := cache[bi]
		if !ok {
			var err error
			if evs, _, err = r.decodeBlock(bi); err != nil {
				return nil, err
			}
			cache[bi] = evs
		}
		out[i] = evs[row-r.blocks[bi].FirstRow]
	}
	return out, nil
}
