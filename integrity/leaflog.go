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
		if err != nil || len(name) != 16 || first%LeavesPerFile != 0 {
			return nil, fmt.Errorf("%w: %s: not a leaf file name", ErrCorrupt, filepath.Join(dir, e.Name()))
		}
		files = append(files, &leafFile{first: first, path: filepath.Join(dir, e.Name())})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].first < files[j].first })
	for i, f := range files {
		if f.first != uint64(i)*LeavesPerFile {
			return nil, fmt.Errorf("%w: %s: expected the file of leaf %d (a leaf file is missing)", ErrCorrupt, f.path, uint64(i)*LeavesPerFile)
		}
	}
	return files, nil
}

// openLeafLog opens the leaf log in dir, calling visit for every leaf in
// order. A torn tail of the last file (a short or bad last entry: the
// leaves after the last fsync, which Open rebuilds from the WAL) is cut
// off; damage anywhere else is an error naming the file and offset.
func openLeafLog(fsys vfs.FS, dir string, readOnly bool, log *slog.Logger, visit func(seq uint64, h Hash)) (*leafLog, error) {
	l := &leafLog{fs: fsys, dir: dir, readOnly: readOnly, log: log}
	files, err := listLeafFiles(fsys, dir)
	if err != nil {
		return nil, err
	}
	for i, f := range files {
		if err := l.scanFile(f, i == len(files)-1, visit); err != nil {
			l.close()
			return nil, err
		}
		l.files = append(l.files, f)
	}
	l.synced = l.size
	return l, nil
}

// scanFile reads one leaf file, checking every entry.
func (l *leafLog) scanFile(lf *leafFile, last bool, visit func(uint64, Hash)) error {
	flag := os.O_RDWR
	if l.readOnly {
		flag = os.O_RDONLY
	}
	f, err := l.fs.OpenFile(lf.path, flag, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", lf.path, err)
	}
	lf.f = f
	data, err := readAll(f)
	if err != nil {
		return fmt.Errorf("read %s: %w", lf.path, err)
	}
	if err := checkFileHeader(data, leafMagic, leafVersion); err != nil {
		if last && len(data) < leafHeaderSize {
			return l.cut(lf, 0, "torn header")
		}
		return fmt.Errorf("%s: %w", lf.path, err)
	}
	off := leafHeaderSize
	for ; off+EntrySize <= len(data) && lf.count < LeavesPerFile; off += EntrySize {
		seq, h, err := decodeEntry(data[off:])
		if err == nil && seq <= l.lastSeq && l.size > 0 {
			err = fmt.Errorf("sequence number %d after %d", seq, l.lastSeq)
		}
		if err != nil {
			if last {
				return l.cut(lf, off, err.Error())
			}
			return fmt.Errorf("%w: %s at offset %d (leaf %d): %v", ErrCorrupt, lf.path, off, l.size, err)
		}
		visit(seq, h)
		lf.count++
		l.size++
		l.lastSeq = seq
	}
	if off != len(data) {
		if last {
			return l.cut(lf, off, "partial entry")
		}
		return fmt.Errorf("%w: %s: %d stray bytes at offset %d", ErrCorrupt, lf.path, len(data)-off, off)
	}
	if !last && lf.count != LeavesPerFile {
		return fmt.Errorf("%w: %s holds %d leaves, not %d, but is not the last file", ErrCorrupt, lf.path, lf.count, LeavesPerFile)
	}
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
	l.size++
	l.lastSeq = seq
}

// flush writes the queued leaves to the files (not fsynced).
func (l *leafLog) flush() error {
	for len(l.buf) > 0 {
		idx := l.bufFirst
		lf, err := l.fileFor(idx)
		if err != nil {
			return err
		}
		room := int(lf.first+LeavesPerFile-idx) * EntrySize
		chunk := l.buf[:min(room, len(l.buf))]
		off := int64(leafHeaderSize) + int64(idx-lf.first)*EntrySize
		if _, err := lf.f.WriteAt(chunk, off); err != nil {
			return fmt.Errorf("write %s at offset %d: %w", lf.path, off, err)
		}
		lf.count += len(chunk) / EntrySize
		l.buf = l.buf[len(chunk):]
		l.bufFirst += uint64(len(chunk) / EntrySize)
	}
	l.buf = l.buf[:0]
	return nil
}

// fileFor returns the file that holds leaf idx, creating it if it is the
// next one; a full file is fsynced before the next is created.
func (l *leafLog) fileFor(idx uint64) (*leafFile, error) {
	if n := len(l.files); n > 0 && idx < l.files[n-1].first+LeavesPerFile {
		return l.files[n-1], nil
	}
	if n := len(l.files); n > 0 {
		if err := l.files[n-1].f.Sync(); err != nil {
			return nil, fmt.Errorf("fsync %s: %w", l.files[n-1].path, err)
		}
	}
	first := idx - idx%LeavesPerFile
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
// (flushed).
func (l *leafLog) read(from, to uint64, fn func(idx, seq uint64, h Hash)) error {
	buf := make([]byte, 0, 256*EntrySize)
	for from < to {
		fi := from / LeavesPerFile
		if fi >= uint64(len(l.files)) {
			return fmt.Errorf("leaf %d is past the leaf log's end", from)
		}
		lf := l.files[fi]
		n := min(to, lf.first+LeavesPerFile) - from
		n = min(n, 256)
		buf = buf[:n*EntrySize]
		off := int64(leafHeaderSize) + int64(from-lf.first)*EntrySize
		if _, err := lf.f.ReadAt(buf, off); err != nil {
			return fmt.Errorf("read %s at offset %d: %w", lf.path, off, err)
		}
		for i := range n {
			seq, h, err := decodeEntry(buf[i*EntrySize:])
			if err != nil {
				return fmt.Errorf("%w: %s at offset %d (leaf %d): %v", ErrCorrupt, lf.path, off+int64(i*EntrySize), from+i, err)
			}
			fn(from+i, seq, h)
		}
		from += n
	}
	return nil
}

// find returns the leaf index of seq, or false if no leaf has it.
func (l *leafLog) find(seq uint64) (uint64, bool, error) {
	var ferr error
	seqAt := func(idx uint64) uint64 {
		var s uint64
		if err := l.read(idx, idx+1, func(_, seq uint64, _ Hash) { s = seq }); err != nil && ferr == nil {
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
	}
	return errors.Join(errs...)
}

// readAll reads a whole file from offset 0.
func readAll(f vfs.File) ([]byte, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	b := make([]byte, st.Size())
	n, err := f.ReadAt(b, 0)
	if n == len(b) {
		return b, nil
	}
	return b[:n], err
}
