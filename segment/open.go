package segment

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"github.com/edsrzf/mmap-go"
	"github.com/klauspost/compress/zstd"

	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/internal/match"
	"github.com/eventlogdb/eventlog/memory"
)

// OpenOptions configure Open.
type OpenOptions struct {
	// Decoder decompresses columns and the postings dictionary; it may be
	// shared and should be made with NewDecoder, or at least with
	// WithDecoderMaxMemory. Nil means the Reader makes its own (NewDecoder)
	// and closes it in Close.
	Decoder *zstd.Decoder
	// KeyMemory is charged for the decoded keys the Reader caches (those
	// of the last few blocks it read, ~200 KB a full block) while it keeps
	// them; a block's keys the account refuses are not cached. Nil: not
	// counted.
	KeyMemory *memory.Account
	// Dicts keeps the postings dictionary while reads use it (see
	// DictCache); a store shares one among its segments. Nil: the Reader
	// keeps its dictionary from the first read that loads it until Close,
	// uncounted.
	Dicts *DictCache
	// Docs keeps the documents sparse reads decode (see DocCache); a store
	// shares one among its segments. Nil: none are kept.
	Docs *DocCache
}

// Reader reads one segment file through a read-only memory mapping (Open),
// or from its pinned part and a BlockSource (OpenSource). It is safe for
// concurrent use; Close must not run while another method does
// (callers refcount readers). Events and values returned are copies and
// outlive the Reader; bitmaps never leave the package.
type Reader struct {
	path    string
	size    int64
	data    mmap.MMap   // nil for a Reader made by OpenSource
	src     BlockSource // blocks of a Reader made by OpenSource
	pin     []byte      // its pinned part (blocksource.go)
	pinOff  uint64      // the file offset of pin[8:]
	f       footer
	blocks  []blockMeta
	bounds  []match.Block // blocks' bounds, as Blocks returns them
	runs    []seqRun
	sect    *index.Section // the postings, without the dictionary
	dicts   *DictCache     // keeps the dictionary (postings())
	slot    dictSlot       // this Reader's place in dicts
	ranks   []uint32       // the ref key table (VersionRefKeys on)
	refKeys *refKeys       // resolves it against the dictionary; nil before VersionRefKeys
	dec     *zstd.Decoder
	ownDec  bool
	closeMu sync.Mutex
	closed  atomic.Bool
	kc      keyCache
	docs    *DocCache // nil: documents are not cached
	id      uint64    // this Reader's key in docs
}

// Open opens the segment at path. It checks the header, the footer and the
// CRCs of the block index, postings and sequence index with ordinary reads
// before mapping the file, so a short or damaged file is reported, never
// faulted on. Damage is a *CorruptionError; a file of a newer format version
// gives ErrUnsupportedVersion; I/O and mmap failures are returned as they
// are.
func Open(path string, opts OpenOptions) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open segment: %w", err)
	}
	defer f.Close()
	r := &Reader{path: path, dec: opts.Decoder, kc: keyCache{acct: opts.KeyMemory}, dicts: dictsOrOwn(opts.Dicts),
		docs: opts.Docs, id: readerIDs.Add(1)}
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("open segment %s: %w", path, err)
	}
	r.size = st.Size()
	if err := r.check(f); err != nil {
		return nil, err
	}
	if r.data, err = mmap.Map(f, mmap.RDONLY, 0); err != nil {
		return nil, fmt.Errorf("open segment %s: mmap: %w", path, err)
	}
	if err := r.openPostings(); err != nil {
		r.data.Unmap()
		return nil, err
	}
	return r, nil
}

func (r *Reader) corrupt(section string, block int, err error) error {
	return &CorruptionError{File: r.path, Section: section, Block: block, Err: err}
}

// check reads and validates everything but the blocks and bitmaps of a
// file of r.size bytes.
func (r *Reader) check(f io.ReaderAt) error {
	var err error
	if r.size < headerLen+footerLen {
		return r.corrupt(SectionFooter, -1, fmt.Errorf("file has %d bytes, fewer than a header and footer", r.size))
	}
	if err := r.checkFooter(f); err != nil {
		return err
	}
	if err := r.checkLayout(f); err != nil {
		return err
	}
	bi, err := r.readSection(f, SectionBlockIndex, r.f.BlockIndex)
	if err != nil {
		return err
	}
	if r.blocks, r.ranks, err = decodeBlockIndex(bi, &r.f); err != nil {
		return r.corrupt(SectionBlockIndex, -1, err)
	}
	r.bounds = blockBounds(r.blocks)
	if _, err := r.readSection(f, SectionPostings, r.f.Postings); err != nil {
		return err
	}
	si, err := r.readSection(f, SectionSeqIndex, r.f.SeqIndex)
	if err != nil {
		return err
	}
	if r.runs, err = decodeSeqIndex(si, &r.f); err != nil {
		return r.corrupt(SectionSeqIndex, -1, err)
	}
	return nil
}

// readAt reads len(b) bytes at off; a short read of a file whose size was
// just checked is an I/O error, not damage.
func (r *Reader) readAt(f io.ReaderAt, b []byte, off int64) error {
	if _, err := f.ReadAt(b, off); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("open segment %s: read at %d: %w", r.path, off, err)
	}
	return nil
}

func (r *Reader) checkFooter(f io.ReaderAt) error {
	var head [headerLen]byte
	b := make([]byte, footerLen)
	if err := r.readAt(f, head[:], 0); err != nil {
		return err
	}
	if err := r.readAt(f, b, r.size-footerLen); err != nil {
		return err
	}
	if string(head[:5]) != headerMagic[:5] || head[6] != 0 || head[7] != 0 {
		return r.corrupt(SectionHeader, -1, errors.New("bad magic"))
	}
	if string(b[footerLen-8:]) != footerMagic {
		return r.corrupt(SectionFooter, -1, errors.New("bad magic"))
	}
	v := binary.LittleEndian.Uint32(b[footerVersionAt:])
	crcOK := crc(b[:footerCRCAt]) == binary.LittleEndian.Uint32(b[footerCRCAt:])
	if v != uint32(head[5]) {
		// The footer is right when it checks out under a version we know.
		section := SectionFooter
		if crcOK && v >= 1 && v <= Version {
			section = SectionHeader
		}
		return r.corrupt(section, -1, fmt.Errorf("footer version %d, header version %d", v, head[5]))
	}
	if v > Version {
		return fmt.Errorf("open segment %s: version %d: %w (this reader knows up to %d)", r.path, v, ErrUnsupportedVersion, Version)
	}
	if v == 0 {
		return r.corrupt(SectionFooter, -1, errors.New("version 0"))
	}
	if !crcOK {
		return r.corrupt(SectionFooter, -1, errors.New("crc mismatch"))
	}
	r.f = decodeFooter(b)
	return nil
}

// checkLayout checks that the sections follow each other as written: block
// index, zero padding to 8 bytes, postings, sequence index, footer.
func (r *Reader) checkLayout(f io.ReaderAt) error {
	ft := &r.f
	bi, po, si := ft.BlockIndex, ft.Postings, ft.SeqIndex
	end := uint64(r.size - footerLen)
	ok := bi.Off >= headerLen && bi.Off <= end && bi.Len <= end-bi.Off &&
		po.Off == (bi.Off+bi.Len+7)&^7 && po.Off <= end && po.Len <= end-po.Off &&
		si.Off == po.Off+po.Len && si.Len == end-si.Off &&
		ft.Events >= 1 && ft.Events <= maxEvents && ft.Blocks >= 1 &&
		ft.MinTS <= ft.MaxTS && ft.MinSeq <= ft.MaxSeq
	if !ok {
		return r.corrupt(SectionFooter, -1, errors.New("section layout out of bounds"))
	}
	pad := make([]byte, po.Off-(bi.Off+bi.Len))
	if err := r.readAt(f, pad, int64(bi.Off+bi.Len)); err != nil {
		return err
	}
	for _, c := range pad {
		if c != 0 {
			return r.corrupt(SectionPostings, -1, errors.New("non-zero padding before postings"))
		}
	}
	return nil
}

func (r *Reader) readSection(f io.ReaderAt, name string, s section) ([]byte, error) {
	b := make([]byte, s.Len)
	if err := r.readAt(f, b, int64(s.Off)); err != nil {
		return nil, err
	}
	if got := crc(b); got != s.CRC {
		return nil, r.corrupt(name, -1, fmt.Errorf("crc %08x, want %08x", got, s.CRC))
	}
	return b, nil
}

// openPostings makes the decoder if needed and opens the mapped postings
// section without its dictionary, which reads load when they need it
// (postings()).
func (r *Reader) openPostings() error {
	if r.dec == nil {
		dec, err := NewDecoder(zstd.WithDecoderConcurrency(1))
		if err != nil {
			return err
		}
		r.dec, r.ownDec = dec, true
	}
	p := r.f.Postings
	b, err := r.span(p.Off, p.Len)
	if err == nil {
		r.sect, err = index.OpenSectionLayout(b, r.dec, r.Layout())
	}
	if err != nil {
		if r.ownDec {
			r.dec.Close()
		}
		return r.corrupt(SectionPostings, -1, err)
	}
	if r.f.Version >= VersionRefKeys {
		r.refKeys = &refKeys{ranks: r.ranks, post: r.postings}
	}
	return nil
}

// dictsOrOwn is the cache a Reader opened with opts.Dicts uses: its own,
// unbounded, when none is given.
func dictsOrOwn(c *DictCache) *DictCache {
	if c == nil {
		return NewDictCache(nil, 0)
	}
	return c
}

// Info returns the segment's summary.
func (r *Reader) Info() Info { return r.f.info(r.size) }

// Path returns the file's path.
func (r *Reader) Path() string { return r.path }

// Close unmaps the file. It is idempotent. Nothing read from the Reader
// depends on the mapping afterwards.
func (r *Reader) Close() error {
	r.closeMu.Lock()
	defer r.closeMu.Unlock()
	if r.closed.Load() {
		return nil
	}
	r.closed.Store(true)
	r.kc.clear()
	r.dicts.drop(&r.slot)
	if r.docs != nil {
		r.docs.dropReader(r.id)
	}
	if r.ownDec {
		r.dec.Close()
	}
	if r.data == nil {
		return nil
	}
	return r.data.Unmap()
}
