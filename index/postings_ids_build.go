package index

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/bits-and-blooms/bloom/v3"
	"github.com/klauspost/compress/zstd"
)

// The client ids of a LayoutV4 postings section ("ids" in AppendTo's
// layout). A segment keeps in memory only the filter and the page
// directory; a lookup tests the filter, then binary-searches the directory
// for the one page that can hold the id and reads that page from the
// section (the mapped file):
//
//	ids       := uvarint(count) filter uvarint(pages) dirEntry×pages pageData
//	filter    := nothing when count = 0; else uvarint(m) u8(k) u64×⌈m/64⌉:
//	             a Bloom filter of m bits (bit i is bit i%64 of word i/64)
//	             and k probes, as github.com/bits-and-blooms/bloom/v3 makes
//	             and tests it (murmur3-128 of the id's bytes; probe j is
//	             bit (h[j%2] + j·h[2+((j+j%2)%4)/2]) mod m)
//	dirEntry  := string(firstID) uvarint(entries) u8(codec) uvarint(storedLen)
//	             uvarint(rawLen)
//	pageData  := the pages' stored bytes back to back, in directory order
//	page      := entry×entries (raw), the dictionary's entry format: ids
//	             strictly increasing across the pages, a page's first
//	             being its firstID; bitmap payloads point into the
//	             section's bitmaps area
//	codec     := 0: stored raw (storedLen = rawLen); 1: one zstd frame
//
// count is the number of distinct ids (the sum of the pages' entries).

// idPageBytes is the raw size at which the writer closes an id page: a
// lookup reads (and decompresses) one page, so small pages make it cheap,
// while each page costs its first id and a directory entry in memory. Not
// a wire constant: readers take any page size.
const idPageBytes = 4096

// idFilterFP is the false-positive rate the writer sizes the filter for:
// about 9.6 bits an id. A false positive costs one page read, never a wrong
// answer. Not a wire constant: m and k are in the file.
const idFilterFP = 0.01

// pageEncoder compresses id pages. Not the segment's encoder: at its level
// (SpeedFastest) zstd stores a page of hex ids uncompressed (39 bytes an
// id for UUIDs), at SpeedDefault 22, where the dictionary's one frame took
// 34. Measured by TestIDsOutOfMemory. EncodeAll is safe for concurrent
// use and starts no goroutine.
var pageEncoder = sync.OnceValues(func() (*zstd.Encoder, error) {
	return zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithLowerEncoderMem(true))
})

// Page codecs. Wire constants.
const (
	idCodecRaw  = 0
	idCodecZstd = 1
)

// encodeIDs returns the ids part for ids (sorted, all of field "_id"),
// whose rows are lists, writing the bitmaps of ids on more than InlineMax
// rows to bitmaps.
func (b *Builder) encodeIDs(ids []Term, lists []postingList, bitmaps *bytes.Buffer) ([]byte, error) {
	enc, err := pageEncoder()
	if err != nil {
		return nil, fmt.Errorf("index: id page encoder: %w", err)
	}
	out := binary.AppendUvarint(nil, uint64(len(ids)))
	if len(ids) > 0 {
		m, k := bloom.EstimateParameters(uint(len(ids)), idFilterFP)
		f := bloom.New(m, k)
		for _, t := range ids {
			f.AddString(t.Value)
		}
		out = binary.AppendUvarint(out, uint64(m))
		out = append(out, byte(k))
		for _, w := range f.BitSet().Words() {
			out = binary.LittleEndian.AppendUint64(out, w)
		}
	}
	var dir, data, raw []byte
	pages, first, entries := 0, "", 0
	flush := func() {
		stored, codec := raw, byte(idCodecRaw)
		if z := enc.EncodeAll(raw, nil); len(z) < len(raw) {
			stored, codec = z, idCodecZstd
		}
		dir = appendString(dir, first)
		dir = binary.AppendUvarint(dir, uint64(entries))
		dir = append(dir, codec)
		dir = binary.AppendUvarint(dir, uint64(len(stored)))
		dir = binary.AppendUvarint(dir, uint64(len(raw)))
		data = append(data, stored...)
		pages, raw, entries = pages+1, raw[:0], 0
	}
	for i, t := range ids {
		if entries == 0 {
			first = t.Value
		}
		if raw, err = appendEntry(raw, t, &lists[i], bitmaps, b.layout >= LayoutV8); err != nil {
			return nil, err
		}
		entries++
		if len(raw) >= idPageBytes {
			flush()
		}
	}
	if entries > 0 {
		flush()
	}
	out = binary.AppendUvarint(out, uint64(pages))
	out = append(out, dir...)
	return append(out, data...), nil
}
