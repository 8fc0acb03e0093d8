package integrity

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// Version 2 of a leaf file: the same 2^16 leaves, as tiles of 2^8
// (tileHeight), each stored either as its 256 entries or, once all its
// positions are erased on purpose, packed to its subtree hash and its
// leaves' sequence numbers (as runs). FORMAT.md ("Leaf files") gives the
// bytes; compact.go decides what is packed and rewrites the file.
const (
	leafVersionPacked = 2
	// leafVersionSealed is version 2 with a third tile kind, the sealed
	// tile (sealed.go); a file is written as version 3 only when it holds
	// one, so older builds refuse it by its version.
	leafVersionSealed = 3
	// tileLeaves is how many leaves a tile holds.
	tileLeaves = 1 << tileHeight
	// tileEntries, tilePacked and tileSealed are a tile record's kind
	// byte. A sealed tile is laid out as a packed one.
	tileEntries = 1
	tilePacked  = 2
	tileSealed  = 3
	// packedFixed is a packed tile record's size without its runs: kind,
	// run count, subtree hash, CRC.
	packedFixed = 1 + 2 + HashSize + 4
	// runSize is one run's size: first seq, count.
	runSize = 8 + 2
)

// leavesPerFile is LeavesPerFile; the package's tests shrink it to cover
// several files, and packed tiles, with few leaves. The bytes on disk are
// always written with LeavesPerFile.
var leavesPerFile uint64 = LeavesPerFile

// ErrCompacted says a proof needs a hash below the subtree hash of a
// wholly erased range that compaction packed: a position inside it, or a
// tree size strictly inside it.
var ErrCompacted = errors.New("the leaf hashes of a wholly erased range were compacted to its subtree hash")

// PackedLeaf is the hash ReadLeaves and ForEachLeaf give a leaf of a
// packed tile, whose own hash is no longer kept: all zeros, which no
// SHA-256 output is in practice.
var PackedLeaf Hash

// seqRun is a run of consecutive sequence numbers.
type seqRun struct {
	first uint64
	n     uint16
}

// packedTile is a tile compacted to its subtree hash and its sequence
// numbers: wholly erased (packed), or live with every event sealed into
// segments, from which its leaves are recomputed (sealed).
type packedTile struct {
	runs   []seqRun
	hash   Hash
	sealed bool
}

// kind returns the tile's record kind.
func (p *packedTile) kind() byte {
	if p.sealed {
		return tileSealed
	}
	return tilePacked
}

// seqAt returns the sequence number of the tile's i-th leaf.
func (p *packedTile) seqAt(i int) uint64 {
	for _, r := range p.runs {
		if i < int(r.n) {
			return r.first + uint64(i)
		}
		i -= int(r.n)
	}
	return 0 // not reached: a decoded tile's runs hold tileLeaves leaves
}

// lastSeq returns the sequence number of the tile's last leaf.
func (p *packedTile) lastSeq() uint64 {
	r := p.runs[len(p.runs)-1]
	return r.first + uint64(r.n) - 1
}

// tileInfo locates one tile of a version 2 file: the offset of its first
// entry, or its packed form.
type tileInfo struct {
	off    int64
	packed *packedTile
}

// runsOf returns the runs of increasing sequence numbers seqs.
func runsOf(seqs []uint64) []seqRun {
	var runs []seqRun
	for _, s := range seqs {
		if n := len(runs); n > 0 && runs[n-1].first+uint64(runs[n-1].n) == s {
			runs[n-1].n++
			continue
		}
		runs = append(runs, seqRun{first: s, n: 1})
	}
	return runs
}

// appendPackedTile encodes a packed tile record.
func appendPackedTile(dst []byte, p *packedTile) []byte {
	start := len(dst)
	dst = append(dst, p.kind())
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(p.runs)))
	for _, r := range p.runs {
		dst = binary.LittleEndian.AppendUint64(dst, r.first)
		dst = binary.LittleEndian.AppendUint16(dst, r.n)
	}
	dst = append(dst, p.hash[:]...)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// decodePackedTile decodes a packed or sealed tile record at the start of
// b, returning it and its size. after is the sequence number of the leaf
// before the tile (0: none): the tile's must follow it.
func decodePackedTile(b []byte, after uint64) (*packedTile, int, error) {
	if len(b) < packedFixed {
		return nil, 0, fmt.Errorf("packed tile record of %d bytes is short", len(b))
	}
	if b[0] != tilePacked && b[0] != tileSealed {
		return nil, 0, fmt.Errorf("tile kind %d is not a packed or sealed tile", b[0])
	}
	nr := int(binary.LittleEndian.Uint16(b[1:]))
	if nr == 0 || nr > tileLeaves {
		return nil, 0, fmt.Errorf("packed tile has %d runs, not 1 to %d", nr, tileLeaves)
	}
	size := packedFixed + nr*runSize
	if len(b) < size {
		return nil, 0, fmt.Errorf("packed tile record of %d runs needs %d bytes, %d remain", nr, size, len(b))
	}
	if binary.LittleEndian.Uint32(b[size-4:]) != crc32.Checksum(b[:size-4], castagnoli) {
		return nil, 0, errors.New("packed tile checksum mismatch")
	}
	p := &packedTile{runs: make([]seqRun, nr), hash: Hash(b[size-4-HashSize : size-4]), sealed: b[0] == tileSealed}
	total := 0
	for i := range p.runs {
		r := b[3+i*runSize:]
		p.runs[i] = seqRun{first: binary.LittleEndian.Uint64(r), n: binary.LittleEndian.Uint16(r[8:])}
		if err := checkRun(p.runs[i], after); err != nil {
			return nil, 0, fmt.Errorf("packed tile run %d: %w", i, err)
		}
		after = p.runs[i].first + uint64(p.runs[i].n) - 1
		total += int(p.runs[i].n)
	}
	if total != tileLeaves {
		return nil, 0, fmt.Errorf("packed tile runs hold %d leaves, not %d", total, tileLeaves)
	}
	return p, size, nil
}

// checkRun checks that a run is not empty, does not overflow, and starts
// after the sequence number after (0: anything goes).
func checkRun(r seqRun, after uint64) error {
	switch {
	case r.n == 0 || int(r.n) > tileLeaves:
		return fmt.Errorf("run of %d leaves", r.n)
	case r.first == 0 || r.first+uint64(r.n)-1 < r.first:
		return fmt.Errorf("run of %d from sequence number %d is out of range", r.n, r.first)
	case r.first <= after:
		return fmt.Errorf("sequence number %d after %d", r.first, after)
	}
	return nil
}

// leafVisitor receives a leaf file's contents in order: each leaf (n = 1)
// or whole tile (n = tileLeaves, seq its last leaf's, h its subtree hash):
// a packed or sealed tile, or a tile of entries added by its hash
// (tilehashes.go).
type leafVisitor func(seq uint64, h Hash, n int)

// decodePackedFile checks and decodes the body of a version 2 or 3 leaf
// file (data includes its header, already checked) whose leaves follow
// sequence number after, calling visit for each leaf and packed or sealed
// tile. It returns the file's tiles and the last sequence number. Damage
// is an error naming its offset and leaf; a version 2 or 3 file is
// written whole, so it has no torn tail. Only version 3 holds sealed
// tiles.
func decodePackedFile(data []byte, first, after uint64, visit leafVisitor) ([]tileInfo, uint64, error) {
	if len(data) < leafHeaderSize {
		return nil, 0, fmt.Errorf("header of %d bytes is short", len(data))
	}
	version := binary.LittleEndian.Uint32(data[8:])
	tiles := make([]tileInfo, leavesPerFile/tileLeaves)
	off := leafHeaderSize
	for t := range tiles {
		leaf := first + uint64(t)*tileLeaves
		if off >= len(data) {
			return nil, 0, fmt.Errorf("offset %d (leaf %d): the file ends before tile %d of %d", off, leaf, t, len(tiles))
		}
		switch data[off] {
		case tileEntries:
			tiles[t].off = int64(off + 1)
			if len(data)-off-1 < tileLeaves*EntrySize {
				return nil, 0, fmt.Errorf("offset %d (leaf %d): tile of entries cut short", off, leaf)
			}
			for i := range tileLeaves {
				eoff := off + 1 + i*EntrySize
				seq, h, err := decodeEntry(data[eoff:])
				if err == nil && seq <= after && after != 0 {
					err = fmt.Errorf("sequence number %d after %d", seq, after)
				}
				if err != nil {
					return nil, 0, fmt.Errorf("offset %d (leaf %d): %w", eoff, leaf+uint64(i), err)
				}
				visit(seq, h, 1)
				after = seq
			}
			off += 1 + tileLeaves*EntrySize
		case tilePacked, tileSealed:
			if data[off] == tileSealed && version < leafVersionSealed {
				return nil, 0, fmt.Errorf("offset %d (leaf %d): a sealed tile in a version %d file", off, leaf, version)
			}
			p, n, err := decodePackedTile(data[off:], after)
			if err != nil {
				return nil, 0, fmt.Errorf("offset %d (leaves %d to %d): %w", off, leaf, leaf+tileLeaves-1, err)
			}
			tiles[t].packed = p
			after = p.lastSeq()
			visit(after, p.hash, tileLeaves)
			off += n
		default:
			return nil, 0, fmt.Errorf("offset %d (leaf %d): unknown tile kind %d", off, leaf, data[off])
		}
	}
	if off != len(data) {
		return nil, 0, fmt.Errorf("%d stray bytes at offset %d", len(data)-off, off)
	}
	return tiles, after, nil
}
