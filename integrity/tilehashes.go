package integrity

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io/fs"
	"os"
	"strings"
)

// Tile hash files (leaves/NNNNNNNNNNNNNNNN.tiles): beside each version 1
// leaf file, the subtree hash of each of its complete tiles, so that open
// adds a tile to the tree by its hash instead of hashing its 256 leaves
// up again (255 SHA-256 blocks pairs a tile, most of the open's cost when
// the WAL holds many events). The file is a cache: a record's checksum
// covers the CRCs of its tile's 256 entries, so a record that is missing,
// torn, stale or damaged is never used; the tile is hashed from its
// entries as before and its record written again. It is never fsynced.
// FORMAT.md ("Tile hash files") gives the bytes.
const (
	tileHashMagic   = "EVLTILES"
	tileHashVersion = 1
	tileHashSuffix  = ".tiles"
	// tileRecordSize is one record's size: the tile's last seq, its
	// subtree hash, the checksum.
	tileRecordSize = 8 + HashSize + 4
)

// tileHashFileName is the tile hash file beside the leaf file of first.
func tileHashFileName(first uint64) string {
	return strings.TrimSuffix(leafFileName(first), leafSuffix) + tileHashSuffix
}

// tileSums holds the CRCs of a tile's entries (u32 LE each, in leaf
// order): what a tile record's checksum binds it to.
type tileSums [tileLeaves * 4]byte

// set records the CRC of the tile's i-th entry, whose encoded bytes are e.
func (s *tileSums) set(i int, e []byte) { copy(s[i*4:i*4+4], e[EntrySize-4:EntrySize]) }

// tileRecordCRC is a record's checksum: CRC32C of the tile's entry CRCs,
// then of the record's first 40 bytes.
func tileRecordCRC(sums *tileSums, rec []byte) uint32 {
	return crc32.Update(crc32.Checksum(sums[:], castagnoli), castagnoli, rec[:8+HashSize])
}

// appendTileRecord encodes the record of a tile whose entries' CRCs are
// sums, whose last leaf's seq is lastSeq and whose subtree hash is h.
func appendTileRecord(dst []byte, sums *tileSums, lastSeq uint64, h Hash) []byte {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint64(dst, lastSeq)
	dst = append(dst, h[:]...)
	return binary.LittleEndian.AppendUint32(dst, tileRecordCRC(sums, dst[start:]))
}

// decodeTileRecord returns the subtree hash a record holds for the tile
// whose entries' CRCs are sums and whose last seq is lastSeq; ok is false
// unless the record is whole and its checksum and seq match.
func decodeTileRecord(b []byte, sums *tileSums, lastSeq uint64) (h Hash, ok bool) {
	if len(b) < tileRecordSize || binary.LittleEndian.Uint64(b) != lastSeq {
		return Hash{}, false
	}
	if binary.LittleEndian.Uint32(b[8+HashSize:]) != tileRecordCRC(sums, b) {
		return Hash{}, false
	}
	return Hash(b[8 : 8+HashSize]), true
}

// tileHashPath is the path of lf's tile hash file.
func (l *leafLog) tileHashPath(lf *leafFile) string {
	return strings.TrimSuffix(lf.path, leafSuffix) + tileHashSuffix
}

// openTileHashes opens the tile hash file of the version 1 leaf file lf
// (creating it, or starting it afresh when its header is bad, unless
// read-only) and returns its records' bytes: nil when there is none. A
// failure is logged, never an error: open then hashes every tile.
func (l *leafLog) openTileHashes(lf *leafFile) []byte {
	recs, err := l.readTileHashes(lf)
	if err != nil {
		l.warnTiles("integrity: cannot read a tile hash file; open hashes the tiles from their leaves", l.tileHashPath(lf), err)
	}
	return recs
}

func (l *leafLog) readTileHashes(lf *leafFile) ([]byte, error) {
	path := l.tileHashPath(lf)
	flag := os.O_RDWR | os.O_CREATE
	if l.readOnly {
		flag = os.O_RDONLY
	}
	f, err := l.fs.OpenFile(path, flag, 0o644)
	if errors.Is(err, fs.ErrNotExist) && l.readOnly {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	data, err := readAll(f)
	if err != nil {
		f.Close()
		return nil, err
	}
	if l.readOnly {
		f.Close()
	} else {
		lf.hashes = f
	}
	if checkFileHeader(data, tileHashMagic, tileHashVersion) == nil {
		return data[fileHeaderSize:], nil
	}
	if l.readOnly {
		return nil, nil
	}
	if err := f.Truncate(0); err != nil {
		return nil, err
	}
	_, err = f.WriteAt(appendFileHeader(nil, tileHashMagic, tileHashVersion), 0)
	return nil, err
}

// createTileHashes creates (emptied) the tile hash file of the new leaf
// file lf; a failure is logged, and lf's tiles get no records.
func (l *leafLog) createTileHashes(lf *leafFile) {
	path := l.tileHashPath(lf)
	f, err := l.fs.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err == nil {
		if _, err = f.WriteAt(appendFileHeader(nil, tileHashMagic, tileHashVersion), 0); err != nil {
			f.Close()
		}
	}
	if err != nil {
		l.warnTiles("integrity: cannot create a tile hash file; the next open hashes the tiles from their leaves", path, err)
		return
	}
	lf.hashes = f
}

// warnTiles logs a tile hash file's failure.
func (l *leafLog) warnTiles(msg, path string, err error) {
	if l.log != nil {
		l.log.Warn(msg, "file", path, "err", err)
	}
}

// dropTileHashes closes and removes lf's tile hash file: lf is a version
// 2 or 3 file now, whose open does not read one. A failure leaves a file
// that the next writable open removes.
func (l *leafLog) dropTileHashes(lf *leafFile) {
	if lf.hashes != nil {
		lf.hashes.Close()
		lf.hashes = nil
	}
	if l.readOnly {
		return
	}
	if err := l.fs.Remove(l.tileHashPath(lf)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		l.warnTiles("integrity: cannot remove a tile hash file; the next open does", l.tileHashPath(lf), err)
	}
}

// queuedTile is a tile record waiting for flush.
type queuedTile struct {
	first uint64 // leaf index of the tile's first leaf
	rec   [tileRecordSize]byte
}

// tileDone queues the record of the tile that leaf l.size-1 completed,
// whose subtree hash is h, for flush to write.
func (l *leafLog) tileDone(h Hash) {
	if l.readOnly {
		return
	}
	q := queuedTile{first: l.size - tileLeaves}
	appendTileRecord(q.rec[:0], &l.sums, l.lastSeq, h)
	l.tileQueue = append(l.tileQueue, q)
}

// flushTiles writes the queued tile records. A failed write is logged and
// drops the queue, never an error: the records are a cache, and the next
// open hashes those tiles from their entries.
func (l *leafLog) flushTiles() {
	for i := range l.tileQueue {
		q := &l.tileQueue[i]
		fi := q.first / leavesPerFile
		if fi >= uint64(len(l.files)) || l.files[fi].hashes == nil {
			continue
		}
		lf := l.files[fi]
		off := int64(fileHeaderSize) + int64((q.first%leavesPerFile)/tileLeaves)*tileRecordSize
		if _, err := lf.hashes.WriteAt(q.rec[:], off); err != nil {
			l.warnTiles("integrity: cannot write a tile hash record; the next open hashes the tile from its leaves", l.tileHashPath(lf), err)
			break
		}
	}
	l.tileQueue = l.tileQueue[:0]
}

// tileFromRecords adds the tile of entries just scanned (leaves and seqs,
// the entries' CRCs in l.sums, the tile number t of lf) to the tree
// through visit: by the hash its record holds when that record is good,
// else hashed from its leaves, and its record queued to be written.
func (l *leafLog) tileFromRecords(recs []byte, t int, leaves []Hash, seqs []uint64, visit leafVisitor) {
	last := seqs[len(seqs)-1]
	if off := t * tileRecordSize; off < len(recs) {
		if h, ok := decodeTileRecord(recs[off:], &l.sums, last); ok {
			visit(last, h, tileLeaves)
			return
		}
	}
	h := reduce(leaves)
	l.hashedAtOpen++
	visit(last, h, tileLeaves)
	l.tileDone(h)
}
