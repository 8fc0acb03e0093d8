package segment

import (
	"errors"
	"fmt"
	"io"
	"math"
)

// BlockSource serves byte ranges of a segment file's block area to a
// Reader that does not hold them: a segment whose file is not on local
// disk, only its pinned part (PinnedPart), with the blocks fetched on
// demand (ranged GETs through a bounded cache, package tiering). The
// Reader asks for exactly the bytes of one column at a time, so a query
// fetches only the columns of the blocks it decodes.
type BlockSource interface {
	// ReadRange returns the n bytes of the segment file at off. The
	// Reader checks them against the column's CRC; it never modifies the
	// slice, and keeps it (a raw column aliases it) only as long as the
	// values it returns are used, so the source must not reuse it.
	ReadRange(off, n int64) ([]byte, error)
}

// Prefetcher is a BlockSource that can fetch several ranges at once. Before
// decoding a block's columns the Reader hands it their ranges, so that a
// remote source fetches them concurrently rather than in one round trip
// each; the ReadRange calls that follow ask for the same ranges.
type Prefetcher interface {
	Prefetch(ranges [][2]int64)
}

// prefetch hands a Prefetcher source the ranges of block bi's field
// columns that wanted accepts, when there are several.
func (r *Reader) prefetch(bi int, wanted func(id uint8) bool) {
	p, ok := r.src.(Prefetcher)
	if !ok {
		return
	}
	b := &r.blocks[bi]
	var ranges [][2]int64
	for i := 2; i < len(b.Cols); i++ {
		if c := &b.Cols[i]; wanted(c.ID) {
			ranges = append(ranges, [2]int64{int64(b.Off + c.Off), int64(c.CLen)})
		}
	}
	if len(ranges) > 1 {
		p.Prefetch(ranges)
	}
}

// prefetchKeys hands a Prefetcher source the ranges of block bi's
// sequence and timestamp columns (its first two), which decodeKeys reads
// one after the other.
func (r *Reader) prefetchKeys(bi int) {
	if p, ok := r.src.(Prefetcher); ok {
		b := &r.blocks[bi]
		c0, c1 := &b.Cols[0], &b.Cols[1]
		p.Prefetch([][2]int64{{int64(b.Off + c0.Off), int64(c0.CLen)}, {int64(b.Off + c1.Off), int64(c1.CLen)}})
	}
}

// The pinned part of a segment is what a Reader needs besides its
// blocks: the header and every byte from the block index to the end of
// the file (block index, padding, postings, sequence index, footer). It
// is the file's bytes [0, 8) followed by [blockIndex.off, size), so it is
// self-describing: its last 120 bytes are the footer, which gives
// blockIndex.off and thus the file's size. FORMAT.md ("Pinned parts")
// describes it.

// PinnedOffset returns where the pinned part of a segment file of size
// bytes starts (the block index's offset), given the file's last
// FooterLen bytes. The footer is only parsed here; OpenSource checks it.
func PinnedOffset(footerBytes []byte, size int64) (int64, error) {
	if len(footerBytes) != footerLen || size < headerLen+footerLen {
		return 0, fmt.Errorf("segment: pinned part: want the %d-byte footer of a file of at least %d bytes, have %d of %d", footerLen, headerLen+footerLen, len(footerBytes), size)
	}
	off := decodeFooter(footerBytes).BlockIndex.Off
	if off < headerLen || off > uint64(size-footerLen) {
		return 0, fmt.Errorf("segment: pinned part: block index offset %d out of bounds for a file of %d bytes", off, size)
	}
	return int64(off), nil
}

// FooterLen is the size of a segment's footer, its last bytes.
const FooterLen = footerLen

// PinnedPart returns the pinned part of a segment file of size bytes read
// from f.
func PinnedPart(f io.ReaderAt, size int64) ([]byte, error) {
	ft := make([]byte, footerLen)
	if size >= footerLen {
		if _, err := f.ReadAt(ft, size-footerLen); err != nil {
			return nil, fmt.Errorf("segment: pinned part: read footer: %w", err)
		}
	}
	off, err := PinnedOffset(ft, size)
	if err != nil {
		return nil, err
	}
	pin := make([]byte, headerLen+size-off)
	if _, err := f.ReadAt(pin[:headerLen], 0); err != nil {
		return nil, fmt.Errorf("segment: pinned part: read header: %w", err)
	}
	if _, err := f.ReadAt(pin[headerLen:], off); err != nil {
		return nil, fmt.Errorf("segment: pinned part: read from %d: %w", off, err)
	}
	return pin, nil
}

// OpenSource opens the segment called name (for messages) from its pinned
// part pin, reading its blocks through src. pin is checked as Open checks
// a file (header, footer, layout, section CRCs), and kept: the postings
// are parsed in place. Block bytes are checked against their column CRCs
// as they are read; a failing src fails the read that needed it, with
// src's error wrapped (never a *CorruptionError).
func OpenSource(name string, pin []byte, src BlockSource, opts OpenOptions) (*Reader, error) {
	if len(pin) < headerLen+footerLen {
		return nil, &CorruptionError{File: name, Section: SectionFooter, Block: -1, Err: fmt.Errorf("pinned part has %d bytes, fewer than a header and footer", len(pin))}
	}
	ft := pin[len(pin)-footerLen:]
	biOff := decodeFooter(ft).BlockIndex.Off
	if biOff < headerLen || biOff > math.MaxInt64/2 {
		return nil, &CorruptionError{File: name, Section: SectionFooter, Block: -1, Err: fmt.Errorf("block index offset %d out of bounds", biOff)}
	}
	r := &Reader{path: name, dec: opts.Decoder, src: src, pin: pin, pinOff: biOff, kc: keyCache{acct: opts.KeyMemory}, dicts: dictsOrOwn(opts.Dicts),
		docs: opts.Docs, id: readerIDs.Add(1)}
	r.size = int64(biOff) + int64(len(pin)) - headerLen
	if err := r.check(pinReader{r}); err != nil {
		return nil, err
	}
	if err := r.openPostings(); err != nil {
		return nil, err
	}
	return r, nil
}

// errNotPinned: a read of the block area from the pinned part alone.
var errNotPinned = errors.New("range not in the pinned part")

// pinReader reads a Reader's pinned part at file offsets (for check).
type pinReader struct{ r *Reader }

func (p pinReader) ReadAt(b []byte, off int64) (int, error) {
	src, err := p.r.pinned(uint64(off), uint64(len(b)))
	if err != nil {
		return 0, err
	}
	return copy(b, src), nil
}

// pinned returns the file's bytes [off, off+n) from the pinned part.
func (r *Reader) pinned(off, n uint64) ([]byte, error) {
	switch {
	case off+n <= headerLen:
		return r.pin[off : off+n], nil
	case off >= r.pinOff && off-r.pinOff+n <= uint64(len(r.pin))-headerLen:
		p := headerLen + off - r.pinOff
		return r.pin[p : p+n], nil
	}
	return nil, fmt.Errorf("segment %s: %d bytes at %d: %w", r.path, n, off, errNotPinned)
}

// span returns the file's bytes [off, off+n): from the mapping, else from
// the pinned part or the block source. The bytes are not to be modified.
func (r *Reader) span(off, n uint64) ([]byte, error) {
	if r.src == nil {
		return r.data[off : off+n], nil
	}
	if b, err := r.pinned(off, n); err == nil {
		return b, nil
	}
	b, err := r.src.ReadRange(int64(off), int64(n))
	if err != nil {
		return nil, fmt.Errorf("segment %s: read %d bytes at %d: %w", r.path, n, off, err)
	}
	if uint64(len(b)) != n {
		return nil, fmt.Errorf("segment %s: read %d bytes at %d: got %d: %w", r.path, n, off, len(b), io.ErrUnexpectedEOF)
	}
	return b, nil
}
