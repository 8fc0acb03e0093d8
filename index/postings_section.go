package index

import (
	"encoding/binary"

	"github.com/klauspost/compress/zstd"

	"github.com/eventlogdb/eventlog/event"
)

// Section is a postings section opened without decoding its dictionary:
// what a segment keeps while it is open. It checks the header's bounds
// and, in a LayoutV4 section, keeps the client ids' filter and page
// directory, so it answers client id lookups (LookupID) on its own; every
// other term needs the dictionary, which Dict decodes. The dictionary is
// the bulk of the memory (about 20 bytes an event on realistic data), so
// a store decodes it when a query needs it and drops it under memory
// pressure (segment.DictCache) instead of keeping it while the segment is
// open. A Section is safe for concurrent use.
type Section struct {
	frame  []byte // the compressed dictionary (borrowed)
	rawLen uint64
	packed bool // LayoutV6 on: the dictionary is packed (dict_packed.go; LayoutV8: split, dict_split.go)
	terms  int
	// ids holds the bitmaps area and the client ids without a
	// dictionary: it answers LookupID, and every Postings from Dict
	// shares its bitmaps and ids.
	ids Postings
}

// OpenSection parses section's header and, in a LayoutV4 section, the
// filter and page directory of its client ids (keeping dec for their
// pages: it must outlive the Section). The dictionary is checked by Dict.
func OpenSection(section []byte, dec *zstd.Decoder) (*Section, error) {
	if len(section) < headerLen {
		return nil, corrupt("bad header")
	}
	hlen := uint64(headerLen)
	magic := string(section[:4])
	switch magic {
	case postingsMagic:
	case postingsMagicV4, postingsMagicV6, postingsMagicV8:
		hlen = headerLenV4
	default:
		return nil, corrupt("bad header")
	}
	if uint64(len(section)) < hlen {
		return nil, corrupt("bad header")
	}
	frameLen := uint64(binary.LittleEndian.Uint32(section[4:]))
	rawLen := uint64(binary.LittleEndian.Uint32(section[8:]))
	terms := uint64(binary.LittleEndian.Uint32(section[12:]))
	if frameLen > uint64(len(section))-hlen || rawLen > MaxDictBytes || terms > rawLen {
		return nil, corrupt("dictionary length out of bounds")
	}
	bmStart := (hlen + frameLen + 7) &^ 7
	bmEnd := uint64(len(section))
	if hlen == headerLenV4 {
		bmEnd = binary.LittleEndian.Uint64(section[16:])
		if bmEnd%8 != 0 || bmEnd < bmStart || bmEnd > uint64(len(section)) {
			return nil, corrupt("ids offset %d out of bounds", bmEnd)
		}
	}
	if bmStart > bmEnd {
		return nil, corrupt("bitmaps start out of bounds")
	}
	s := &Section{frame: section[hlen : hlen+frameLen], rawLen: rawLen, terms: int(terms),
		packed: magic == postingsMagicV6 || magic == postingsMagicV8}
	s.ids.bitmaps = section[bmStart:bmEnd]
	s.ids.kinds = magic == postingsMagicV8
	if hlen == headerLenV4 {
		var err error
		if s.ids.ids, err = openIDs(section[bmEnd:], dec); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Dict decompresses the section's dictionary with dec and checks its
// structure (terms sorted, lengths and offsets within bounds), returning
// a Postings over every term. The Postings owns the decoded dictionary,
// on the Go heap, and shares the section's bitmaps and client ids; each
// call decodes again.
func (s *Section) Dict(dec *zstd.Decoder) (*Postings, error) {
	dict, err := decodeFrame(dec, s.frame, s.rawLen)
	if err != nil {
		return nil, err
	}
	switch {
	case s.ids.kinds: // LayoutV8
		if dict, err = unsplitDict(dict); err != nil {
			return nil, err
		}
	case s.packed:
		if dict, err = unpackDict(dict); err != nil {
			return nil, err
		}
	}
	p := &Postings{dict: dict, bitmaps: s.ids.bitmaps, ids: s.ids.ids, kinds: s.ids.kinds}
	if err := p.parse(s.terms); err != nil {
		return nil, err
	}
	if p.ids != nil && p.field(event.ClientIDField) >= 0 {
		return nil, corrupt("client ids in the dictionary of a section that pages them")
	}
	return p, nil
}

// IDPostings returns, for a section that keeps its client ids in pages
// (LayoutV4), a Postings of those ids alone, which answers Lookup,
// EachPrefix and UnionWhere of event.ClientIDField as Dict's does,
// without the dictionary (and has no term of any other field); nil for a
// section whose ids are dictionary terms.
func (s *Section) IDPostings() *Postings {
	if s.ids.ids == nil {
		return nil
	}
	return &s.ids
}

// MemoryBytes is what the Section holds in memory besides the section
// bytes: a LayoutV4 section's id filter and page directory.
func (s *Section) MemoryBytes() int64 {
	if s.ids.ids == nil {
		return 0
	}
	return s.ids.ids.memoryBytes()
}

// DictBytes is what a Postings holds in memory beyond its Section's
// MemoryBytes: the decoded dictionary and its entry index.
func (p *Postings) DictBytes() int64 {
	n := p.MemoryBytes()
	if p.ids != nil {
		n -= p.ids.memoryBytes()
	}
	return n
}
