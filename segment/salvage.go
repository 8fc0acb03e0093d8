package segment

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/eventlogdb/eventlog/internal/decbuf"

	"github.com/klauspost/compress/zstd"

	"github.com/eventlogdb/eventlog/event"
)

// Salvage reads what it can of a damaged segment file. Unlike Open it uses
// ordinary reads only (never a mapping) and never stops at the first
// damage: every block whose CRC checks and whose columns decode gives its
// rows.
//
// Blocks carry no header or sync marker of their own (FORMAT.md, "Segment files"):
// only the block index says where they are, so they cannot be found by
// scanning. Salvage therefore needs the block index. When the footer and
// block index check out (Complete), the lost blocks and their sequence
// ranges are exact. When either is damaged, Salvage still parses what it
// can of the block index (the footer's section fields, then entry by
// entry) and keeps only blocks whose bytes match the entry's CRC; the
// result is then incomplete: rows not returned are lost, and their
// sequence numbers are known only from elsewhere (the manifest).
//
// dec decompresses columns; nil makes a private decoder. Salvage returns an
// error only for I/O failures; damage is described in the result.
func Salvage(path string, dec *zstd.Decoder) (SalvageResult, error) {
	f, err := os.Open(path)
	if err != nil {
		return SalvageResult{}, fmt.Errorf("eventlog: salvage segment: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return SalvageResult{}, fmt.Errorf("eventlog: salvage segment %s: %w", path, err)
	}
	if dec == nil {
		if dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxColumnRaw+1<<20)); err != nil {
			return SalvageResult{}, err
		}
		defer dec.Close()
	}
	s := &salvager{path: path, f: f, size: st.Size(), dec: dec}
	return s.run()
}

// SalvageResult is what Salvage read from one file.
type SalvageResult struct {
	// Rows are the rows of every good block, in file order (sorted by
	// @timestamp, sequence within a block). The events are owned by the
	// caller.
	Rows []Row
	// Blocks lists every block the block index describes, good or lost, in
	// file order. Empty when the block index could not be read at all.
	Blocks []SalvagedBlock
	// Footer is the footer's summary when the footer's CRC checks, else nil.
	Footer *Info
	// Complete is true when the footer and the block index passed every
	// check: Blocks is then every block of the file, and the sequence
	// ranges of the lost ones are exact.
	Complete bool
	// IndexErr says why the footer or block index failed, when Complete is
	// false.
	IndexErr error
}

// SalvagedBlock is one block as described by the block index.
type SalvagedBlock struct {
	Index          int    // position in the block index
	Off, Len       uint64 // where the block is in the file
	Rows           int
	MinTS, MaxTS   int64
	MinSeq, MaxSeq uint64
	// Err is why the block was lost (a *CorruptionError); nil when its rows
	// are in SalvageResult.Rows.
	Err error
}

// Lost returns the blocks whose rows could not be read.
func (r *SalvageResult) Lost() []SalvagedBlock {
	var lost []SalvagedBlock
	for _, b := range r.Blocks {
		if b.Err != nil {
			lost = append(lost, b)
		}
	}
	return lost
}

// salvager is the state of one Salvage call.
type salvager struct {
	path string
	f    *os.File
	size int64
	dec  *zstd.Decoder
	res  SalvageResult
}

func (s *salvager) corrupt(section string, block int, err error) error {
	return &CorruptionError{File: s.path, Section: section, Block: block, Err: err}
}

func (s *salvager) run() (SalvageResult, error) {
	blocks, err := s.blockIndex()
	if err != nil {
		return SalvageResult{}, err
	}
	prevEnd := uint64(headerLen)
	for i := range blocks {
		b := &blocks[i]
		if !s.res.Complete && b.Off < prevEnd {
			break // an entry of a damaged index pointing backwards: stop trusting it
		}
		if err := s.block(i, b); err != nil {
			return SalvageResult{}, err
		}
		prevEnd = b.Off + b.Len
	}
	return s.res, nil
}

// readAt reads len(b) bytes at off; the caller checked the range against
// the file size, so a short read is an I/O error.
func (s *salvager) readAt(b []byte, off uint64) error {
	if _, err := s.f.ReadAt(b, int64(off)); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("eventlog: salvage segment %s: read at %d: %w", s.path, off, err)
	}
	return nil
}

// blockIndex returns the block index entries it can trust: all of them
// when the footer and index check out, else those parsed before the first
// implausible one (each is then checked against its block's CRC).
func (s *salvager) blockIndex() ([]blockMeta, error) {
	if s.size < headerLen+footerLen {
		s.res.IndexErr = s.corrupt(SectionFooter, -1, fmt.Errorf("file has %d bytes, fewer than a header and footer", s.size))
		return nil, nil
	}
	b := make([]byte, footerLen)
	if err := s.readAt(b, uint64(s.size-footerLen)); err != nil {
		return nil, err
	}
	ft, ferr := s.footer(b)
	if ft == nil {
		s.res.IndexErr = ferr
		return nil, nil
	}
	bi := ft.BlockIndex
	end := uint64(s.size - footerLen)
	if bi.Off < headerLen || bi.Off > end || bi.Len > end-bi.Off {
		s.res.IndexErr = errors.Join(ferr, s.corrupt(SectionFooter, -1, errors.New("block index out of bounds")))
		return nil, nil
	}
	raw := make([]byte, bi.Len)
	if err := s.readAt(raw, bi.Off); err != nil {
		return nil, err
	}
	if ferr == nil && crc(raw) == bi.CRC {
		blocks, err := decodeBlockIndex(raw, ft)
		if err == nil {
			s.res.Complete = true
			return blocks, nil
		}
		ferr = s.corrupt(SectionBlockIndex, -1, err)
	} else if ferr == nil {
		ferr = s.corrupt(SectionBlockIndex, -1, errors.New("crc mismatch"))
	}
	s.res.IndexErr = ferr
	return s.lenientIndex(raw, bi.Off), nil
}

// footer decodes the footer b. It returns the footer and nil when it checks
// out; the footer and the reason when only its magic does (its section
// fields may still be right: each block is checked by its CRC anyway); nil
// and the reason when even the magic or version is wrong.
func (s *salvager) footer(b []byte) (*footer, error) {
	if string(b[footerLen-8:]) != footerMagic {
		return nil, s.corrupt(SectionFooter, -1, errors.New("bad magic"))
	}
	if v := binary.LittleEndian.Uint32(b[footerVersionAt:]); v != Version {
		return nil, s.corrupt(SectionFooter, -1, fmt.Errorf("version %d, salvage reads %d", v, Version))
	}
	ft := decodeFooter(b)
	if crc(b[:footerCRCAt]) != binary.LittleEndian.Uint32(b[footerCRCAt:]) {
		return &ft, s.corrupt(SectionFooter, -1, errors.New("crc mismatch"))
	}
	info := ft.info(s.size)
	s.res.Footer = &info
	return &ft, nil
}

// lenientIndex parses block index entries until one fails to decode or is
// implausible for a block before indexOff.
func (s *salvager) lenientIndex(raw []byte, indexOff uint64) []blockMeta {
	d := decbuf.New(raw, errInvalid)
	n := d.Uvarint()
	var blocks []blockMeta
	for i := uint64(0); i < n && d.Err == nil && d.Left() > 0; i++ {
		var b blockMeta
		decodeBlockMeta(&d, &b)
		if d.Err != nil || !plausibleBlock(&b, indexOff) {
			break
		}
		blocks = append(blocks, b)
	}
	return blocks
}

// plausibleBlock checks an entry of a damaged block index as validateBlock
// would, without the footer: it must lie before the index and describe
// known, well-formed columns.
func plausibleBlock(b *blockMeta, indexOff uint64) bool {
	ok := b.Off >= headerLen && b.Off <= indexOff && b.Len <= indexOff-b.Off &&
		b.Rows >= 1 && b.Rows <= maxBlockRows && b.MinTS <= b.MaxTS && b.MinSeq <= b.MaxSeq &&
		len(b.Cols) >= 2 && b.Cols[0].ID == colSeq && b.Cols[1].ID == colTS
	for i := 0; ok && i < len(b.Cols); i++ {
		c := &b.Cols[i]
		ok = (i == 0 || c.ID > b.Cols[i-1].ID) && (i < 2 || event.FieldByID(c.ID) != nil) &&
			c.Codec <= codecZstd && c.RawLen <= maxColumnRaw && (c.Codec != codecRaw || c.RawLen == c.CLen) &&
			c.Count >= 1 && c.Count <= b.Rows && (i >= 2 || c.Count == b.Rows)
	}
	return ok
}

// block reads and decodes block i, recording it in the result.
func (s *salvager) block(i int, b *blockMeta) error {
	sb := SalvagedBlock{Index: i, Off: b.Off, Len: b.Len, Rows: int(b.Rows),
		MinTS: b.MinTS, MaxTS: b.MaxTS, MinSeq: b.MinSeq, MaxSeq: b.MaxSeq}
	data := make([]byte, b.Len)
	if err := s.readAt(data, b.Off); err != nil {
		return err
	}
	if got := crc(data); got != b.CRC {
		sb.Err = s.corrupt(SectionBlock, i, fmt.Errorf("crc %08x, want %08x", got, b.CRC))
	} else if rows, err := s.decodeBlock(data, b); err != nil {
		sb.Err = s.corrupt(SectionBlock, i, err)
	} else {
		s.res.Rows = append(s.res.Rows, rows...)
	}
	s.res.Blocks = append(s.res.Blocks, sb)
	return nil
}

// decodeBlock decodes every row of a block whose bytes (data) matched
// their CRC.
func (s *salvager) decodeBlock(data []byte, b *blockMeta) ([]Row, error) {
	n := int(b.Rows)
	rawSeq, err := s.column(data, &b.Cols[0])
	if err != nil {
		return nil, err
	}
	rawTS, err := s.column(data, &b.Cols[1])
	if err != nil {
		return nil, err
	}
	seq, err := decodeSeqColumn(rawSeq, n)
	if err != nil {
		return nil, fmt.Errorf("sequence column: %w", err)
	}
	ts, fmts, err := decodeTSColumn(rawTS, n)
	if err != nil {
		return nil, fmt.Errorf("timestamp column: %w", err)
	}
	if err := keysAgree(b, ts, seq); err != nil {
		return nil, err
	}
	evs := make([]event.Event, n)
	for i := range evs {
		evs[i].Timestamp, _ = event.DateFromParts(ts[i], event.Format(fmts[i]))
	}
	for i := 2; i < len(b.Cols); i++ {
		c := &b.Cols[i]
		raw, err := s.column(data, c)
		if err != nil {
			return nil, err
		}
		if err := decodeFieldColumn(raw, event.FieldByID(c.ID), evs, c.Count); err != nil {
			return nil, fmt.Errorf("column %d: %w", c.ID, err)
		}
	}
	rows := make([]Row, n)
	for i := range rows {
		rows[i] = Row{Seq: seq[i], Event: &evs[i]}
	}
	return rows, nil
}

// keysAgree checks decoded keys against the block index entry, as the
// read path does: the first and last timestamps match, rows are strictly
// ordered by (@timestamp, sequence), and sequence numbers are in range.
func keysAgree(b *blockMeta, ts []int64, seq []uint64) error {
	if ts[0] != b.MinTS || ts[len(ts)-1] != b.MaxTS {
		return fmt.Errorf("%w: timestamps disagree with the block index", errInvalid)
	}
	for i, q := range seq {
		if q < b.MinSeq || q > b.MaxSeq || (i > 0 && ts[i] == ts[i-1] && q <= seq[i-1]) {
			return fmt.Errorf("%w: sequence numbers disagree with the block index", errInvalid)
		}
	}
	return nil
}

// column returns the decoded bytes of column c of a block; data is the
// block's bytes, which decodeBlockMeta proved hold c.
func (s *salvager) column(data []byte, c *colMeta) ([]byte, error) {
	stored := data[c.Off : c.Off+c.CLen]
	if got := crc(stored); got != c.CRC {
		return nil, fmt.Errorf("column %d: crc %08x, want %08x", c.ID, got, c.CRC)
	}
	if c.Codec == codecRaw {
		return stored, nil
	}
	var h zstd.Header
	if err := h.Decode(stored); err != nil || (h.HasFCS && h.FrameContentSize != c.RawLen) {
		return nil, fmt.Errorf("column %d: bad zstd frame header", c.ID)
	}
	raw, err := s.dec.DecodeAll(stored, make([]byte, 0, min(c.RawLen, 8*uint64(len(stored))+4096)))
	if err != nil {
		return nil, fmt.Errorf("column %d: %w", c.ID, err)
	}
	if uint64(len(raw)) != c.RawLen {
		return nil, fmt.Errorf("column %d: %d bytes, want %d", c.ID, len(raw), c.RawLen)
	}
	return raw, nil
}
