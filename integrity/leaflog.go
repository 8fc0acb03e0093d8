package integrity

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// The leaf log: the leaf hashes in leaf order, with each leaf's sequence
// number, in files of LeavesPerFile entries (a level-16 tile of the
// tree), named by their first leaf index. FORMAT.md describes the bytes.
const (
	// LeavesPerFile is how many leaves one leaf file holds.
	LeavesPerFile = 1 << 16
	// EntrySize is the size of one leaf entry: seq, hash, CRC.
	EntrySize = 8 + HashSize + 4
	// leafHeaderSize is the size of a leaf file's header.
	leafHeaderSize = 16
	leafMagic      = "EVLLEAF\x00"
	leafVersion    = 1
	leafSuffix     = ".leaves"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt marks damaged integrity data (leaf log, heads file, keys).
var ErrCorrupt = errors.New("integrity data is corrupt")

// leafFile is one file of the leaf log.
type leafFile struct {
	first uint64 // leaf index of its first entry
	path  string
	f     vfs.File
	count int // entries written (some may still be in the write buffer's past)
	// tiles locates the tiles of a version 2 file (some packed: see
	// leafpack.go); nil for version 1, whose leaf i is at a fixed offset.
	tiles []tileInfo
	bytes int64 // a version 2 file's size
	// hashes is the tile hash file of a version 1 file (tilehashes.go),
	// nil when read-only or once the file is version 2 or 3.
	hashes vfs.File
}

// size returns the file's size on disk as far as written.
func (lf *leafFile) size() int64 {
	if lf.tiles != nil {
		return lf.bytes
	}
	return leafHeaderSize + int64(lf.count)*EntrySize // tile hash files, a cache, not counted
}

// leafLog appends to and reads the leaf files. It is not safe for
// concurrent use: Log serializes it.
type leafLog struct {
	fs       vfs.FS
	dir      string
	readOnly bool
	log      *slog.Logger
	files    []*leafFile
	size     uint64 // leaves in the log
	lastSeq  uint64 // seq of the last leaf, 0 if none
	buf      []byte // encoded entries not yet written
	bufFirst uint64 // leaf index of buf's first entry
	synced   uint64 // leaves known fsynced
	// sums holds the CRCs of the entries of the tile being filled, and
	// tileQueue the records of completed tiles not yet written to their
	// tile hash files (tilehashes.go); hashedAtOpen counts the tiles open
	// hashed from their entries for want of a good record.
	sums         tileSums
	tileQueue    []queuedTile
	hashedAtOpen int
	// scanBuf is the buffer open reads each leaf file into in turn (a
	// new one per file was a page fault per 4 KiB of the leaf log).
	scanBuf []byte
	// src and salts recompute sealed tiles' leaves (sealed.go); cache
	// keeps the last tile recomputed.
	src   LeafSource
	salts *Salter
	cache sealedCache
}

func leafFileName(first uint64) string { return fmt.Sprintf("%016x%s", first, leafSuffix) }

func appendLeafHeader(dst []byte) []byte { return appendFileHeader(dst, leafMagic, leafVersion) }

// appendEntry encodes one leaf entry.
func appendEntry(dst []byte, seq uint64, h Hash) []byte {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint64(dst, seq)
	dst = append(dst, h[:]...)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// decodeEntry decodes one leaf entry, checking its CRC.
func decodeEntry(b []byte) (uint64, Hash, error) {
	if len(b) < EntrySize {
		return 0, Hash{}, fmt.Errorf("entry of %d bytes is short", len(b))
	}
	if binary.LittleEndian.Uint32(b[40:]) != crc32.Checksum(b[:40], castagnoli) {
		return 0, Hash{}, errors.New("entry checksum mismatch")
	}
	return binary.LittleEndian.Uint64(b), Hash(b[8:40]), nil
}

// listLeafFiles returns the leaf files in dir in order, checking that
// their names follow each other.
func listLeafFiles(fsys vfs.FS, dir string) ([]*leafFile, error) {
	entries, err := fsys.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	var files []*leafFile
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), leafSuffix)
		if !ok {
			continue
		}
		first, err := strconv.ParseUint(name, 16, 64)
		if err != nil || len(name) != 16 || first%leavesPerFile != 0 {
			return nil, fmt.Errorf("%w: %s: not a leaf file name", ErrCorrupt, filepath.Join(dir, e.Name()))
		}
		files = append(files, &leafFile{first: first, path: filepath.Join(dir, e.Name())})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].first < files[j].first })
	for i, f := range files {
		if f.first != uint64(i)*leavesPerFile {
			return nil, fmt.Errorf("%w: %s: expected the file of leaf %d (a leaf file is missing)", ErrCorrupt, f.path, uint64(i)*leavesPerFile)
		}
	}
	return files, nil
}

// openLeafLog opens the leaf log in dir, calling visit for every leaf in
// order. A torn tail of the last file (a short or bad last entry: the
// leaves after the last fsync, which Open rebuilds from the WAL) is cut
// off; damage anywhere else is an error naming the file and offset.
func openLeafLog(fsys vfs.FS, dir string, readOnly bool, log *slog.Logger, visit leafVisitor) (*leafLog, error) {
	l := &leafLog{fs: fsys, dir: dir, readOnly: readOnly, log: log}
	files, err := listLeafFiles(fsys, dir)
	if err != nil {
		return nil, err
	}
	if !readOnly {
		if err := removePackLeftovers(fsys, dir); err != nil {
			return nil, err
		}
	}
	for i, f := range files {
		if err := l.scanFile(f, i == len(files)-1, visit); err != nil {
			l.close()
			return nil, err
		}
		l.files = append(l.files, f)
	}
	l.synced = l.size
	l.scanBuf = nil
	l.flushTiles() // the records open hashed anew
	return l, nil
}

// scanFile reads one leaf file, checking every entry.
func (l *leafLog) scanFile(lf *leafFile, last bool, visit leafVisitor) error {
	flag := os.O_RDWR
	if l.readOnly {
		flag = os.O_RDONLY
	}
	f, err := l.fs.OpenFile(lf.path, flag, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", lf.path, err)
	}
	lf.f = f
	data, err := readAllInto(f, l.scanBuf)
	l.scanBuf = data[:0] // the next file's buffer: nothing keeps data
	if err != nil {
		return fmt.Errorf("read %s: %w", lf.path, err)
	}
	version, err := checkFileHeaderUpTo(data, leafMagic, leafVersion, leafVersionSealed)
	if err != nil {
		if last && len(data) < leafHeaderSize {
			return l.cut(lf, 0, "torn header")
		}
		return fmt.Errorf("%s: %w", lf.path, err)
	}
	if version >= leafVersionPacked {
		l.dropTileHashes(lf) // a leftover of the file's version 1 form
		return l.scanPacked(lf, data, visit)
	}
	return l.scanEntries(lf, data, l.openTileHashes(lf), last, visit)
}

// scanEntries reads the entries of a version 1 file, data, checking each,
// and adds them to the tree through visit: each complete tile by the hash
// its tile hash record (recs) holds, or hashed from its leaves, the
// entries of an incomplete last tile one by one.
func (l *leafLog) scanEntries(lf *leafFile, data, recs []byte, last bool, visit leafVisitor) error {
	var leaves [tileLeaves]Hash
	var seqs [tileLeaves]uint64
	off, bad := leafHeaderSize, ""
	for ; off+EntrySize <= len(data) && lf.count < int(leavesPerFile); off += EntrySize {
		seq, h, err := decodeEntry(data[off:])
		if err == nil && seq <= l.lastSeq && l.size > 0 {
			err = fmt.Errorf("sequence number %d after %d", seq, l.lastSeq)
		}
		if err != nil {
			if !last {
				return fmt.Errorf("%w: %s at offset %d (leaf %d): %v", ErrCorrupt, lf.path, off, l.size, err)
			}
			bad = err.Error()
			break
		}
		i := lf.count % tileLeaves // a file starts at a tile's start
		leaves[i], seqs[i] = h, seq
		l.sums.set(i, data[off:])
		lf.count++
		l.size++
		l.lastSeq = seq
		if i == tileLeaves-1 {
			l.tileFromRecords(recs, (lf.count-1)/tileLeaves, leaves[:], seqs[:], visit)
		}
	}
	for i := range lf.count % tileLeaves {
		visit(seqs[i], leaves[i], 1)
	}
	if bad != "" {
		return l.cut(lf, off, bad)
	}
	if off != len(data) {
		if last {
			return l.cut(lf, off, "partial entry")
		}
		return fmt.Errorf("%w: %s: %d stray bytes at offset %d", ErrCorrupt, lf.path, len(data)-off, off)
	}
	if !last && lf.count != int(leavesPerFile) {
		return fmt.Errorf("%w: %s holds %d leaves, not %d, but is not the last file", ErrCorrupt, lf.path, lf.count, leavesPerFile)
	}
	return nil
}

// scanPacked reads a version 2 or 3 file (always full, written whole).
func (l *leafLog) scanPacked(lf *leafFile, data []byte, visit leafVisitor) error {
	after := l.lastSeq
	if l.size == 0 {
		after = 0
	}
	tiles, last, err := decodePackedFile(data, lf.first, after, visit)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, lf.path, err)
	}
	lf.tiles, lf.bytes, lf.count = tiles, int64(len(data)), int(leavesPerFile)
	l.size += leavesPerFile
	l.lastSeq = last
	return nil
}

// cut truncates the last file's torn tail at off.
func (l *leafLog) cut(lf *leafFile, off int, why string) error {
	l.log.Warn("integrity: cutting the torn tail of the leaf log; the leaves are rebuilt from the WAL", "file", lf.path, "offset", off, "reason", why)
	if l.readOnly {
		return nil
	}
	if off < leafHeaderSize {
		if err := lf.f.Truncate(0); err != nil {
			return fmt.Errorf("truncate %s: %w", lf.path, err)
		}
		if _, err := lf.f.WriteAt(appendLeafHeader(nil), 0); err != nil {
			return fmt.Errorf("rewrite header of %s: %w", lf.path, err)
		}
	} else if err := lf.f.Truncate(int64(off)); err != nil {
		return fmt.Errorf("truncate %s: %w", lf.path, err)
	}
	return lf.f.Sync()
}

// add queues a leaf for writing.
func (l *leafLog) add(seq uint64, h Hash) {
	if len(l.buf) == 0 {
		l.bufFirst = l.size
	}
	l.buf = appendEntry(l.buf, seq, h)
	l.sums.set(int(l.size%tileLeaves), l.buf[len(l.buf)-EntrySize:])
	l.size++
	l.lastSeq = seq
}

// flush writes the queued leaves to the files (not fsynced). It keeps the
// queue's buffer for the next leaves: the loop reslices l.buf past what it
// wrote, which leaves no room, and growing it again for every batch was
// 140 bytes allocated per event at ingest.
func (l *leafLog) flush() error {
	queue := l.buf
	for len(l.buf) > 0 {
		idx := l.bufFirst
		lf, err := l.fileFor(idx)
		if err != nil {
			return err
		}
		room := int(lf.first+leavesPerFile-idx) * EntrySize
		chunk := l.buf[:min(room, len(l.buf))]
		off := int64(leafHeaderSize) + int64(idx-lf.first)*EntrySize
		if _, err := lf.f.WriteAt(chunk, off); err != nil {
			return fmt.Errorf("write %s at offset %d: %w", lf.path, off, err)
		}
		lf.count += len(chunk) / EntrySize
		l.buf = l.buf[len(chunk):]
		l.bufFirst += uint64(len(chunk) / EntrySize)
	}
	l.buf = queue[:0]
	l.flushTiles()
	return nil
}

// fileFor returns the file that holds leaf idx, creating it if it is the
// next one; a full file is fsynced before the next is created.
func (l *leafLog) fileFor(idx uint64) (*leafFile, error) {
	if n := len(l.files); n > 0 && idx < l.files[n-1].first+leavesPerFile {
		return l.files[n-1], nil
	}
	if n := len(l.files); n > 0 {
		if err := l.files[n-1].f.Sync(); err != nil {
			return nil, fmt.Errorf("fsync %s: %w", l.files[n-1].path, err)
		}
	}
	first := idx - idx%leavesPerFile
	if err := vfs.MkdirAllDurable(l.fs, l.dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", l.dir, err)
	}
	path := filepath.Join(l.dir, leafFileName(first))
	f, err := l.fs.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	if _, err := f.WriteAt(appendLeafHeader(nil), 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("write header of %s: %w", path, err)
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		f.Close()
		return nil, fmt.Errorf("fsync %s: %w", l.dir, err)
	}
	lf := &leafFile{first: first, path: path, f: f}
	l.createTileHashes(lf)
	l.files = append(l.files, lf)
	return lf, nil
}

// sync flushes and fsyncs the leaf log.
func (l *leafLog) sync() error {
	if err := l.flush(); err != nil {
		return err
	}
	if n := len(l.files); n > 0 && l.synced < l.size {
		lf := l.files[n-1]
		if err := lf.f.Sync(); err != nil {
			return fmt.Errorf("fsync %s: %w", lf.path, err)
		}
	}
	l.synced = l.size
	return nil
}

// read returns the entries of leaves [from, to), which must be written
// (flushed); a leaf of a packed tile is an error (ErrCompacted), a sealed
// tile's are recomputed from the source (sealed.go).
func (l *leafLog) read(from, to uint64, fn func(idx, seq uint64, h Hash)) error {
	return l.scan(from, to, true, func(idx, seq uint64, h Hash, _ bool) { fn(idx, seq, h) })
}

// scan calls fn with the entries of leaves [from, to), which must be
// written (flushed). A leaf of a packed tile comes with PackedLeaf and
// packed set, or, if strict, is an error (ErrCompacted); a leaf of a
// sealed tile with SealedLeaf and packed set, or, if strict, with its
// hash recomputed from the source.
func (l *leafLog) scan(from, to uint64, strict bool, fn func(idx, seq uint64, h Hash, packed bool)) error {
	buf := make([]byte, 0, tileLeaves*EntrySize)
	for from < to {
		fi := from / leavesPerFile
		if fi >= uint64(len(l.files)) {
			return fmt.Errorf("leaf %d is past the leaf log's end", from)
		}
		lf := l.files[fi]
		off, p, end := lf.locate(from)
		n := min(to, end) - from
		if p != nil {
			start := end - tileLeaves
			var hs []Hash
			switch {
			case p.sealed && strict:
				var err error
				if hs, err = l.tileLeafHashes(start, p); err != nil {
					return err
				}
			case strict:
				return fmt.Errorf("leaf %d: %w: leaves %d to %d", from, ErrCompacted, start, end-1)
			}
			for i := range n {
				h := PackedLeaf
				switch {
				case hs != nil:
					h = hs[from+i-start]
				case p.sealed:
					h = SealedLeaf
				}
				fn(from+i, p.seqAt(int(from+i-start)), h, true)
			}
			from += n
			continue
		}
		buf = buf[:n*EntrySize]
		if _, err := lf.f.ReadAt(buf, off); err != nil {
			return fmt.Errorf("read %s at offset %d: %w", lf.path, off, err)
		}
		for i := range n {
			seq, h, err := decodeEntry(buf[i*EntrySize:])
			if err != nil {
				return fmt.Errorf("%w: %s at offset %d (leaf %d): %v", ErrCorrupt, lf.path, off+int64(i*EntrySize), from+i, err)
			}
			fn(from+i, seq, h, false)
		}
		from += n
	}
	return nil
}

// locate returns where leaf idx of lf is: the offset of its entry, or its
// packed tile, and the end of the stretch that goes on so (its tile's end,
// at most tileLeaves on).
func (lf *leafFile) locate(idx uint64) (int64, *packedTile, uint64) {
	rel := idx - lf.first
	end := idx - idx%tileLeaves + tileLeaves
	if lf.tiles == nil {
		return leafHeaderSize + int64(rel)*EntrySize, nil, end
	}
	t := lf.tiles[rel/tileLeaves]
	if t.packed != nil {
		return 0, t.packed, end
	}
	return t.off + int64(rel%tileLeaves)*EntrySize, nil, end
}

// lowerBound returns the index of the first written leaf whose sequence
// number is seq or more (the number of written leaves if none is).
func (l *leafLog) lowerBound(seq uint64) (uint64, error) {
	var ferr error
	written := l.size - uint64(len(l.buf)/EntrySize)
	idx := sort.Search(int(written), func(i int) bool {
		var s uint64
		if err := l.scan(uint64(i), uint64(i)+1, false, func(_, seq uint64, _ Hash, _ bool) { s = seq }); err != nil && ferr == nil {
			ferr = err
		}
		return s >= seq
	})
	return uint64(idx), ferr
}

// find returns the leaf index of seq, or false if no leaf has it.
func (l *leafLog) find(seq uint64) (uint64, bool, error) {
	var ferr error
	seqAt := func(idx uint64) uint64 {
		var s uint64
		if err := l.scan(idx, idx+1, false, func(_, seq uint64, _ Hash, _ bool) { s = seq }); err != nil && ferr == nil {
			ferr = err
		}
		return s
	}
	written := l.size - uint64(len(l.buf)/EntrySize)
	idx := uint64(sort.Search(int(written), func(i int) bool { return seqAt(uint64(i)) >= seq }))
	if ferr != nil {
		return 0, false, ferr
	}
	if idx < written && seqAt(idx) == seq {
		return idx, ferr == nil, ferr
	}
	return 0, false, nil
}

func (l *leafLog) close() error {
	var errs []error
	for _, f := range l.files {
		if f.f != nil {
			errs = append(errs, f.f.Close())
		}
		if f.hashes != nil {
			errs = append(errs, f.hashes.Close())
		}
	}
	return errors.Join(errs...)
}

// readAll reads a whole file from offset 0.
func readAll(f vfs.File) ([]byte, error) { return readAllInto(f, nil) }

// readAllInto is readAll into buf when it is large enough.
func readAllInto(f vfs.File, buf []byte) ([]byte, error) {
	st, err := f.Stat()
	if err != nil {
		return buf[:0], err
	}
	b := buf[:0]
	if int64(cap(b)) < st.Size() {
		b = make([]byte, st.Size())
	}
	b = b[:st.Size()]
	n, err := f.ReadAt(b, 0)
	if n == len(b) {
		return b, nil
	}
	return b[:n], err
}
