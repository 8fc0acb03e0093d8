package index

import (
	"bytes"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/bits-and-blooms/bloom/v3"
	"github.com/klauspost/compress/zstd"

	"github.com/eventlogdb/eventlog/internal/decbuf"
)

// idSet reads the client ids of a LayoutV4 section (layout in
// postings_ids_build.go). It holds the filter and the page directory; pages
// are read from the section, decompressed into memory of their own (the
// last one looked up is kept), and checked as they are read.
type idSet struct {
	count       int
	filter      *bloom.BloomFilter // nil when count is 0
	filterBytes int
	keys        []byte   // the pages' first ids, back to back (owned)
	pages       []idPage // in id order
	data        []byte   // pageData (borrowed from the section)
	dec         *zstd.Decoder
	// last is the page the last lookup read, which the next lookup uses
	// without reading it again when it needs the same page: a retried
	// batch's ids, looked up in order (dedup sorts them), fall on few
	// pages. Immutable once stored; at most the largest page, which
	// memoryBytes counts (lastBound).
	last      atomic.Pointer[readPage]
	lastBound int
}

// readPage is a read and checked page, owned (not pooled).
type readPage struct {
	i       int
	raw     []byte
	entries []idEntry
}

// idPage is one page's directory entry.
type idPage struct {
	keyEnd  uint32 // its first id is keys[previous keyEnd:keyEnd]
	entries uint32
	off     uint64 // in data
	stored  uint32
	raw     uint32
	codec   uint8
}

// maxIDPageRaw bounds a page's decoded size. The writer closes a page at
// idPageBytes; an entry's payload is at most InlineMax row deltas or a
// bitmap's place, and an id at most event.MaxClientIDBytes, so a page is
// far smaller.
const maxIDPageRaw = 1 << 20

// minIDEntry is the fewest bytes an entry of a page takes: an id's length,
// a card and a row delta (or a bitmap's place).
const minIDEntry = 3

// openIDs parses the ids part b (its pages' payloads point into the
// section's bitmaps area, which the Postings holds). It checks the
// filter's and the directory's structure, bounding what a page read may
// allocate; pages are checked when read.
func openIDs(b []byte, dec *zstd.Decoder) (*idSet, error) {
	d := decbuf.New(b, ErrCorrupt)
	s := &idSet{dec: dec}
	count := d.Uvarint()
	if count > uint64(len(b)) { // every id takes at least a byte of a page
		return nil, corrupt("ids: count %d over the section's bytes", count)
	}
	s.count = int(count)
	if count > 0 {
		m, k := d.Uvarint(), d.U8()
		words := (m + 63) / 64
		if d.Err == nil && (m == 0 || k == 0 || k > 32 || words > uint64(d.Left()/8)) {
			return nil, corrupt("ids: filter of %d bits and %d probes out of bounds", m, k)
		}
		w := make([]uint64, words)
		for i := range w {
			w[i] = d.U64()
		}
		s.filter = bloom.FromWithM(w, uint(m), uint(k))
		s.filterBytes = 8 * len(w)
	}
	np := d.Count(5) // a directory entry takes at least 5 bytes
	s.pages = make([]idPage, 0, np)
	var total, off uint64
	var prev []byte
	for i := 0; i < np && d.Err == nil; i++ {
		first := d.Bytes(d.Count(1))
		p := idPage{entries: uint32(min(d.Uvarint(), 1<<32-1)), codec: d.U8()}
		stored, raw := d.Uvarint(), d.Uvarint()
		switch {
		case d.Err != nil:
		case i > 0 && bytes.Compare(first, prev) <= 0:
			d.Fail("ids: page %d's first id out of order", i)
		case p.entries == 0 || uint64(p.entries) > raw/minIDEntry || p.codec > idCodecZstd || raw == 0 || raw > maxIDPageRaw || stored == 0 || stored > raw && p.codec == idCodecRaw ||
			p.codec == idCodecRaw && stored != raw || stored > uint64(len(b)):
			d.Fail("ids: page %d: bad entries, codec or lengths", i)
		}
		prev = first
		s.keys = append(s.keys, first...)
		p.keyEnd, p.off, p.stored, p.raw = uint32(len(s.keys)), off, uint32(stored), uint32(raw)
		off += stored
		total += uint64(p.entries)
		s.pages = append(s.pages, p)
	}
	if d.Err != nil {
		return nil, d.Err
	}
	for _, p := range s.pages {
		s.lastBound = max(s.lastBound, int(p.raw)+int(p.entries)*int(unsafe.Sizeof(idEntry{})))
	}
	if total != count {
		return nil, corrupt("ids: pages hold %d ids, count says %d", total, count)
	}
	if off != uint64(d.Left()) {
		return nil, corrupt("ids: pages take %d bytes, %d follow the directory", off, d.Left())
	}
	s.data = b[d.Off:]
	return s, nil
}

// memoryBytes is what the set holds in memory: the filter, the directory
// and at most the largest page (last).
func (s *idSet) memoryBytes() int64 {
	return int64(s.filterBytes + cap(s.keys) + cap(s.pages)*int(unsafe.Sizeof(idPage{})) + s.lastBound)
}

// first returns page i's first id (borrowed).
func (s *idSet) first(i int) []byte {
	lo := uint32(0)
	if i > 0 {
		lo = s.pages[i-1].keyEnd
	}
	return s.keys[lo:s.pages[i].keyEnd]
}

// pageFor returns the page that would hold id: the last whose first id is
// at most id, or -1.
func (s *idSet) pageFor(id string) int {
	return sort.Search(len(s.pages), func(i int) bool { return strings.Compare(unsafeString(s.first(i)), id) > 0 }) - 1
}

// idEntry is one entry of a read page: its id, and its payload's place in
// the page.
type idEntry struct {
	id      string // borrowed from the page
	payload int
}

// pageBuf is the memory one read of a page uses: the decompressed page
// and its entries. Reads take one from pagePool and put it back once they
// no longer use the page (nothing they return points into it: rows are
// copied or alias the section's bitmaps, ids are cloned), so a lookup
// allocates no page.
type pageBuf struct {
	raw     []byte
	entries []idEntry
}

var pagePool = sync.Pool{New: func() any { return new(pageBuf) }}

// idPage reads and checks page i into buf: its entries in order, their ids
// strictly increasing from the directory's first id and below the next
// page's, and their payloads within bounds. It returns the raw page (buf's
// or the section's) and its entries (buf's).
func (p *Postings) idPage(i int, buf *pageBuf) ([]byte, []idEntry, error) {
	s := p.ids
	pg := s.pages[i]
	stored := s.data[pg.off : pg.off+uint64(pg.stored)]
	raw := stored
	if pg.codec == idCodecZstd {
		var h zstd.Header
		if err := h.Decode(stored); err != nil || (h.HasFCS && h.FrameContentSize != uint64(pg.raw)) {
			return nil, nil, corrupt("ids: page %d: bad frame header", i)
		}
		out, err := s.dec.DecodeAll(stored, slices.Grow(buf.raw[:0], int(pg.raw)))
		if err != nil || len(out) != int(pg.raw) {
			return nil, nil, corrupt("ids: page %d: %d bytes decoded, want %d: %v", i, len(out), pg.raw, err)
		}
		raw, buf.raw = out, out
	}
	d := decbuf.New(raw, ErrCorrupt)
	entries := slices.Grow(buf.entries[:0], int(pg.entries))
	for j := 0; j < int(pg.entries) && d.Err == nil; j++ {
		v := unsafeString(d.Bytes(d.Count(1)))
		e := idEntry{id: v, payload: d.Off}
		switch {
		case d.Err != nil:
		case j == 0 && v != unsafeString(s.first(i)):
			d.Fail("ids: page %d starts with another id than its directory's", i)
		case j > 0 && v <= entries[j-1].id:
			d.Fail("ids: page %d: ids out of order", i)
		case i+1 < len(s.pages) && v >= unsafeString(s.first(i+1)):
			d.Fail("ids: page %d: id past the next page's first", i)
		}
		p.skipPayload(&d, 0)
		entries = append(entries, e)
	}
	d.End()
	buf.entries = entries
	if d.Err != nil {
		return nil, nil, d.Err
	}
	return raw, entries, nil
}

// rows decodes the payload at off of a checked page.
func (p *Postings) idRows(raw []byte, off int) (*roaring.Bitmap, int, error) {
	d := decbuf.Buf{B: raw, Off: off, Invalid: ErrCorrupt}
	return p.payload(&d, -1)
}

// lookupID returns the rows of client id, or ok false when none has it.
func (p *Postings) lookupID(id string) (*roaring.Bitmap, bool, error) {
	s := p.ids
	if s.count == 0 || !s.filter.TestString(id) {
		return nil, false, nil
	}
	i := s.pageFor(id)
	if i < 0 {
		return nil, false, nil
	}
	pg := s.last.Load()
	if pg == nil || pg.i != i {
		raw, entries, err := p.idPage(i, &pageBuf{})
		if err != nil {
			return nil, false, err
		}
		pg = &readPage{i: i, raw: raw, entries: entries}
		s.last.Store(pg)
	}
	raw, entries := pg.raw, pg.entries
	k, found := sort.Find(len(entries), func(k int) int { return strings.Compare(id, entries[k].id) })
	if !found {
		return nil, false, nil
	}
	bm, _, err := p.idRows(raw, entries[k].payload)
	if err != nil {
		return nil, false, err
	}
	return bm, true, nil
}

// eachID calls fn, in id order, for every client id that starts with
// prefix, with its rows' payload in its page. It reads the pages from the
// one that would hold prefix on, and stops past the ids with the prefix.
func (p *Postings) eachID(prefix string, fn func(id string, raw []byte, payload int) error) error {
	s := p.ids
	buf := pagePool.Get().(*pageBuf)
	defer pagePool.Put(buf)
	for i := max(s.pageFor(prefix), 0); i < len(s.pages); i++ {
		if f := unsafeString(s.first(i)); f > prefix && !strings.HasPrefix(f, prefix) {
			return nil
		}
		raw, entries, err := p.idPage(i, buf)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if e.id < prefix {
				continue
			}
			if !strings.HasPrefix(e.id, prefix) {
				return nil
			}
			if err := fn(e.id, raw, e.payload); err != nil {
				return err
			}
		}
	}
	return nil
}
