package segment

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/bits"
	"os"
	"slices"

	"github.com/eventlogdb/eventlog/internal/decbuf"

	"github.com/klauspost/compress/zstd"

	"github.com/eventlogdb/eventlog/event"
)

// Salvage reads what it can of a damaged segment file. Unlike Open it uses
// ordinary reads only (never a mapping) and never stops at the first
// damage: every block whose checksums hold and whose columns decode gives
// its rows. It reads the whole file into memory.
//
// The block index says where the blocks are, and holds their checksums:
// blocks have no header of their own (FORMAT.md, "Segment files"). So
// Salvage first tries to trust the index, then looks for it:
//
//  1. Footer: trusted when its CRC holds (its magic, after the CRC, is not
//     needed). When the CRC fails and flipping one bit of the footer makes
//     it hold, that bit is corrected (Corrected says where).
//  2. Block index: trusted when the footer's CRC of it holds and it
//     decodes, likewise after correcting one flipped bit. Salvage is then
//     Complete: the lost blocks and their sequence ranges are exact.
//  3. Otherwise a scan (FORMAT.md, "Salvage scan"): at every offset where a
//     block index entry could start — within the block index section when
//     the footer is trusted, else anywhere in the file — decode an entry
//     with the block index decoder (every length bounded by the bytes
//     remaining) and keep its block when the block's bytes match the block
//     CRC and every column CRC, its columns decode and its rows agree with
//     the entry's keys. An entry whose offset alone is damaged is tried
//     where the previous block ended. Entries that decode in sequence but
//     whose blocks fail are lost blocks with the entry's ranges; stretches
//     of the block area that no entry describes are lost blocks of unknown
//     content (Index and Rows -1).
//
// dec decompresses columns; nil makes a private decoder. Salvage returns an
// error only for I/O failures; damage is described in the result.
func Salvage(path string, dec *zstd.Decoder) (SalvageResult, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return SalvageResult{}, fmt.Errorf("salvage segment: %w", err)
	}
	if dec == nil {
		if dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxColumnRaw+1<<20)); err != nil {
			return SalvageResult{}, err
		}
		defer dec.Close()
	}
	s := &salvager{path: path, data: data, dec: dec}
	s.run()
	return s.res, nil
}

// SalvageResult is what Salvage read from one file.
type SalvageResult struct {
	// Rows are the rows of every good block, in file order (sorted by
	// @timestamp, sequence within a block). The events are owned by the
	// caller.
	Rows []Row
	// Blocks lists every block found, good or lost, in file order, and
	// (when the block index was unreadable) every stretch of the block
	// area no readable entry describes. Empty when nothing was found.
	Blocks []SalvagedBlock
	// Footer is the footer's summary when the footer's CRC checks (after
	// any correction), else nil.
	Footer *Info
	// Complete is true when the footer and the block index passed every
	// check (after any correction): Blocks is then every block of the
	// file, and the sequence ranges of the lost ones are exact.
	Complete bool
	// IndexErr says why the footer or block index failed, when Complete is
	// false.
	IndexErr error
	// Corrected describes each single flipped bit Salvage corrected in the
	// footer or block index (by its CRC), e.g. "block index: bit 3 of byte
	// 1234 (file offset)"; the file itself is not changed.
	Corrected []string
}

// SalvagedBlock is one block found by Salvage.
type SalvagedBlock struct {
	// Index is the position in the block index, or in the order a scan
	// found it; -1 for a stretch no readable entry describes.
	Index    int
	Off, Len uint64 // where the block is in the file
	// Rows counts its rows; -1 when unknown (Index -1).
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
	data []byte // the whole file; corrections are made in this copy
	dec  *zstd.Decoder
	res  SalvageResult
	rows [][]Row // per entry of res.Blocks
	// version is the file's format version: the footer's when it checks,
	// else the header's when it is one this package knows, else Version.
	version uint32
	// keys resolves the refs of a version 5 file (VersionRefKeys): only
	// when its footer, block index and postings all check.
	keys *refKeys
}

func (s *salvager) corrupt(section string, block int, err error) error {
	return &CorruptionError{File: s.path, Section: section, Block: block, Err: err}
}

func (s *salvager) run() {
	s.version = Version
	if len(s.data) > 5 && s.data[5] >= 1 && s.data[5] <= Version {
		s.version = uint32(s.data[5])
	}
	ft, err := s.footer()
	if err == nil {
		s.version = ft.Version
	}
	if err != nil {
		s.res.IndexErr = err
		s.noKeys(err)
		s.scan(headerLen, uint64(len(s.data)), false)
		return
	}
	bi := ft.BlockIndex
	raw := s.data[bi.Off : bi.Off+bi.Len]
	blocks, ranks, err := s.blockIndex(raw, ft)
	if err != nil {
		s.res.IndexErr = err
		s.keysAfterDamage(raw, ft)
		s.scan(bi.Off, bi.Off+bi.Len, true)
		return
	}
	if s.version >= VersionRefKeys {
		s.keys = s.refKeys(ranks, ft)
	}
	s.res.Complete = true
	for i := range blocks {
		s.indexed(i, &blocks[i])
	}
	s.finish()
}

// footer returns the footer when its CRC holds, correcting one flipped bit
// if that makes it hold, and its block index lies within the file.
func (s *salvager) footer() (*footer, error) {
	size := uint64(len(s.data))
	if size < headerLen+footerLen {
		return nil, s.corrupt(SectionFooter, -1, fmt.Errorf("file has %d bytes, fewer than a header and footer", size))
	}
	b := s.data[size-footerLen:]
	want := binary.LittleEndian.Uint32(b[footerCRCAt:])
	var ferr error
	if crc(b[:footerCRCAt]) != want {
		ferr = s.corrupt(SectionFooter, -1, errors.New("crc mismatch"))
		if !s.correct("footer", b[:footerCRCAt], want, size-footerLen) {
			return nil, ferr
		}
	}
	if v := binary.LittleEndian.Uint32(b[footerVersionAt:]); v < 1 || v > Version {
		return nil, s.corrupt(SectionFooter, -1, fmt.Errorf("version %d, salvage reads 1..%d", v, Version))
	}
	ft := decodeFooter(b)
	bi, end := ft.BlockIndex, size-footerLen
	if bi.Off < headerLen || bi.Off > end || bi.Len > end-bi.Off {
		return nil, s.corrupt(SectionFooter, -1, errors.New("block index out of bounds"))
	}
	info := ft.info(int64(size))
	s.res.Footer = &info
	return &ft, nil
}

// blockIndex decodes the block index raw when its CRC holds, correcting one
// flipped bit if that makes it hold.
func (s *salvager) blockIndex(raw []byte, ft *footer) ([]blockMeta, []uint32, error) {
	if crc(raw) != ft.BlockIndex.CRC && !s.correct("block index", raw, ft.BlockIndex.CRC, ft.BlockIndex.Off) {
		return nil, nil, s.corrupt(SectionBlockIndex, -1, errors.New("crc mismatch"))
	}
	blocks, ranks, err := decodeBlockIndex(raw, ft)
	if err != nil {
		return nil, nil, s.corrupt(SectionBlockIndex, -1, err)
	}
	return blocks, ranks, nil
}

// correct flips the one bit of b (at file offset off) that makes its
// CRC-32C equal want, if there is one, and records it. The CRC is linear:
// crc(b ^ e) = crc(b) ^ raw(e), where raw is the CRC register run from
// zero without the final inversion; for e a single bit, raw(e) depends only
// on the bit and the number of bytes after it, so every candidate is found
// in one backward pass of 8 one-byte CRC steps per byte. A syndrome of one
// bit is a flipped bit of the stored CRC itself: b is intact. (CRC-32C has
// Hamming distance at least 3 at these lengths, so no two single-bit
// errors share a syndrome.)
func (s *salvager) correct(section string, b []byte, want uint32, off uint64) bool {
	syndrome := crc(b) ^ want
	if bits.OnesCount32(syndrome) == 1 {
		s.res.Corrected = append(s.res.Corrected, fmt.Sprintf("%s: bit %d of its stored CRC-32C", section, bits.TrailingZeros32(syndrome)))
		return true
	}
	var reg [8]uint32
	for bit := range reg {
		reg[bit] = crcRegister(0, []byte{1 << bit})
	}
	zero := []byte{0}
	for i := len(b) - 1; i >= 0; i-- {
		for bit := range reg {
			if reg[bit] == syndrome {
				b[i] ^= 1 << bit
				s.res.Corrected = append(s.res.Corrected, fmt.Sprintf("%s: bit %d of byte %d (file offset)", section, bit, off+uint64(i)))
				return true
			}
			reg[bit] = crcRegister(reg[bit], zero)
		}
	}
	return false
}

// crcRegister runs the CRC-32C register from r over p, without the
// inversions crc32.Update applies on the way in and out.
func crcRegister(r uint32, p []byte) uint32 { return ^crc32.Update(^r, castagnoli, p) }

// indexed reads block i of an intact block index.
func (s *salvager) indexed(i int, b *blockMeta) {
	sb := salvagedBlock(i, b)
	rows, err := s.blockRows(b)
	if err != nil {
		sb.Err = s.corrupt(SectionBlock, i, err)
	}
	s.add(sb, rows)
}

func salvagedBlock(i int, b *blockMeta) SalvagedBlock {
	return SalvagedBlock{Index: i, Off: b.Off, Len: b.Len, Rows: int(b.Rows),
		MinTS: b.MinTS, MaxTS: b.MaxTS, MinSeq: b.MinSeq, MaxSeq: b.MaxSeq}
}

func (s *salvager) add(sb SalvagedBlock, rows []Row) {
	s.res.Blocks = append(s.res.Blocks, sb)
	s.rows = append(s.rows, rows)
}

// scan looks for block index entries at every offset of [lo, hi) (see
// Salvage). inIndex says [lo, hi) is the block index section: an entry
// that decodes right after the previous one and describes the block after
// the previous block is then kept as a lost block even when its block
// fails its checks.
func (s *salvager) scan(lo, hi uint64, inIndex bool) {
	prevEnd, afterEntry := uint64(headerLen), uint64(0)
	if inIndex {
		d := decbuf.New(s.data[lo:hi], errInvalid)
		d.Uvarint() // the entry count
		afterEntry = lo + uint64(d.Off)
	}
	for p := lo; p < hi; {
		b, n, ok := s.entryAt(p, hi)
		if !ok {
			p++
			continue
		}
		sb := salvagedBlock(len(s.res.Blocks), &b)
		if rows, err := s.found(&b, prevEnd); err == nil {
			s.add(salvagedBlock(sb.Index, &b), rows)
		} else if inIndex && p == afterEntry && b.Off == prevEnd {
			sb.Err = s.corrupt(SectionBlock, sb.Index, err)
			s.add(sb, nil)
		} else {
			p++
			continue
		}
		p += uint64(n)
		prevEnd, afterEntry = b.Off+b.Len, p
	}
	s.gaps(lo, inIndex)
	s.finish()
}

// entryAt decodes a plausible block index entry at data[p:hi]; n is its
// length.
func (s *salvager) entryAt(p, hi uint64) (b blockMeta, n int, ok bool) {
	if !s.entryHead(p, hi) {
		return b, 0, false
	}
	d := decbuf.New(s.data[p:hi], errInvalid)
	decodeBlockMeta(&d, &b)
	if d.Err != nil || !plausibleBlock(&b, uint64(len(s.data))) {
		return b, 0, false
	}
	return b, d.Off, true
}

// entryHead cheaply checks the fields of an entry at data[p:hi] up to its
// first column's codec before the full decode (whose errors format
// messages and whose columns allocate) runs.
func (s *salvager) entryHead(p, hi uint64) bool {
	h := headReader{b: s.data[p:hi], ok: true}
	size := uint64(len(s.data))
	off := h.uvarint()
	if !h.ok || off < headerLen || off >= size {
		return false
	}
	if n := h.uvarint(); !h.ok || n == 0 || n > size-off {
		return false
	}
	h.skip(4) // CRC
	h.uvarint()
	if rows := h.uvarint(); !h.ok || rows < 1 || rows > maxBlockRows {
		return false
	}
	if minTS, maxTS := h.varint(), h.varint(); !h.ok || minTS > maxTS {
		return false
	}
	if minSeq, maxSeq := h.uvarint(), h.uvarint(); !h.ok || minSeq > maxSeq {
		return false
	}
	cols := h.uvarint()
	id, codec := h.byte(), h.byte()
	return h.ok && cols >= 2 && cols <= 256 && id == colSeq && codec <= codecZstd
}

// headReader reads varints for entryHead; ok turns false, silently, at the
// first one that does not fit.
type headReader struct {
	b  []byte
	ok bool
}

func (h *headReader) uvarint() uint64 {
	v, n := binary.Uvarint(h.b)
	h.fail(n <= 0, n)
	return v
}

func (h *headReader) varint() int64 {
	v, n := binary.Varint(h.b)
	h.fail(n <= 0, n)
	return v
}

func (h *headReader) byte() byte {
	if len(h.b) == 0 {
		h.fail(true, 0)
		return 0
	}
	v := h.b[0]
	h.skip(1)
	return v
}

func (h *headReader) skip(n int) { h.fail(len(h.b) < n, n) }

// fail records a failure when bad, else consumes n bytes.
func (h *headReader) fail(bad bool, n int) {
	if bad {
		h.b, h.ok = nil, false
		return
	}
	h.b = h.b[n:]
}

// found reads the block an entry found by a scan describes: at its offset,
// or where the previous block ended when only the offset is damaged.
func (s *salvager) found(b *blockMeta, prevEnd uint64) ([]Row, error) {
	rows, err := s.blockRows(b)
	if err == nil || prevEnd == b.Off {
		return rows, err
	}
	alt := *b
	alt.Off = prevEnd
	if rows, aerr := s.blockRows(&alt); aerr == nil {
		*b = alt
		return rows, nil
	}
	return nil, err
}

// gaps adds a lost block of unknown content for each stretch of the block
// area that no block found covers: up to the block index when lo is its
// start (inIndex), else up to the end of the last block found.
func (s *salvager) gaps(lo uint64, inIndex bool) {
	blocks := slices.Clone(s.res.Blocks)
	slices.SortFunc(blocks, func(a, b SalvagedBlock) int { return cmp.Compare(a.Off, b.Off) })
	pos := uint64(headerLen)
	for _, b := range blocks {
		if b.Off > pos {
			s.addGap(pos, b.Off)
		}
		pos = max(pos, b.Off+b.Len)
	}
	if inIndex && lo > pos {
		s.addGap(pos, lo)
	}
}

func (s *salvager) addGap(from, to uint64) {
	err := s.corrupt(SectionBlockIndex, -1, fmt.Errorf("no readable block index entry describes bytes %d..%d", from, to))
	s.add(SalvagedBlock{Index: -1, Off: from, Len: to - from, Rows: -1, Err: err}, nil)
}

// finish puts the blocks and their rows in file order.
func (s *salvager) finish() {
	order := make([]int, len(s.res.Blocks))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(s.res.Blocks[a].Off, s.res.Blocks[b].Off) })
	blocks := make([]SalvagedBlock, len(order))
	for i, j := range order {
		blocks[i] = s.res.Blocks[j]
		s.res.Rows = append(s.res.Rows, s.rows[j]...)
	}
	s.res.Blocks = blocks
}

// plausibleBlock checks an entry found by a scan as validateBlock would,
// without the footer: it must lie within the file, hold bytes in every
// column and describe known, well-formed columns.
func plausibleBlock(b *blockMeta, size uint64) bool {
	ok := b.Off >= headerLen && b.Off <= size && b.Len <= size-b.Off &&
		b.Rows >= 1 && b.Rows <= maxBlockRows && b.MinTS <= b.MaxTS && b.MinSeq <= b.MaxSeq &&
		len(b.Cols) >= 2 && b.Cols[0].ID == colSeq && b.Cols[1].ID == colTS
	for i := 0; ok && i < len(b.Cols); i++ {
		c := &b.Cols[i]
		ok = (i == 0 || c.ID > b.Cols[i-1].ID) && (i < 2 || event.FieldByID(c.ID) != nil) && c.CLen > 0 &&
			c.Codec <= codecZstd && c.RawLen <= maxColumnRaw && (c.Codec != codecRaw || c.RawLen == c.CLen) &&
			c.Count >= 1 && c.Count <= b.Rows && (i >= 2 || c.Count == b.Rows)
	}
	return ok
}

// blockRows checks the block b describes against its CRC and decodes it.
func (s *salvager) blockRows(b *blockMeta) ([]Row, error) {
	if b.Off > uint64(len(s.data)) || b.Len > uint64(len(s.data))-b.Off {
		return nil, fmt.Errorf("%w: block beyond the end of the file", errInvalid)
	}
	data := s.data[b.Off : b.Off+b.Len]
	if got := crc(data); got != b.CRC {
		return nil, fmt.Errorf("crc %08x, want %08x", got, b.CRC)
	}
	return s.decodeBlock(data, b)
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
	ts, fmts, err := decodeTSColumn(rawTS, n, s.version >= VersionRefIDs)
	if err != nil {
		return nil, fmt.Errorf("timestamp column: %w", err)
	}
	if err := keysAgree(b, ts, seq); err != nil {
		return nil, err
	}
	evs := make([]event.Event, n)
	for i := range evs {
		evs[i].Timestamp, _ = event.DateFromParts(ts[i], event.Format(fmts.at(i)))
	}
	for i := 2; i < len(b.Cols); i++ {
		c := &b.Cols[i]
		raw, err := s.column(data, c)
		if err != nil {
			return nil, err
		}
		if err := decodeFieldColumn(raw, event.FieldByID(c.ID), evs, c.Count, s.keys, s.version >= VersionDerivedStart); err != nil {
			return nil, fmt.Errorf("column %d: %w", c.ID, err)
		}
	}
	if s.version >= VersionRefIDs {
		for _, c := range b.Cols[2:] {
			if c.ID == colMessage && s.version >= VersionMessageRefs {
				continue // refers to other fields too: expanded last
			}
			if err := expandColumnRefIDs(event.FieldByID(c.ID), evs); err != nil {
				return nil, fmt.Errorf("column %d: %w", c.ID, err)
			}
		}
	}
	if s.version >= VersionMessageRefs {
		if err := expandColumnMessages(evs); err != nil {
			return nil, fmt.Errorf("column %d: %w", colMessage, err)
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
