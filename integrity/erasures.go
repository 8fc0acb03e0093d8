package integrity

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"os"

	"github.com/RoaringBitmap/roaring/v2/roaring64"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// ErasuresFile is the append-only record of erasures: which events each
// delete by query (or retention run) removed the content of. Their leaves
// stay, so the tree, old heads and other events' proofs stay valid, and
// a verifier tells an erased position from a removed one.
const ErasuresFile = "ERASURES"

const (
	erasuresMagic   = "EVLERASE"
	erasuresVersion = 1
	// erasureFixed is a record's size without its bitmap: eraser seq,
	// kind, bitmap length, CRC.
	erasureFixed = 8 + 1 + 4 + 4
	// maxErasureBitmap bounds a decoded bitmap's length.
	maxErasureBitmap = 1 << 30
)

// ErasureKind says what erased events.
type ErasureKind uint8

// The erasure kinds.
const (
	ErasedByDelete    ErasureKind = 1
	ErasedByRetention ErasureKind = 2
)

func (k ErasureKind) String() string {
	switch k {
	case ErasedByDelete:
		return "delete"
	case ErasedByRetention:
		return "retention"
	}
	return fmt.Sprintf("kind %d", uint8(k))
}

// Erasure is one recorded erasure: the sequence numbers of the events it
// removed, and the event that records it (a delete's record).
type Erasure struct {
	Eraser uint64
	Kind   ErasureKind
	Seqs   *roaring64.Bitmap
}

// appendErasure encodes one record.
func appendErasure(dst []byte, e Erasure) ([]byte, error) {
	bm, err := e.Seqs.ToBytes()
	if err != nil {
		return nil, err
	}
	start := len(dst)
	dst = binary.LittleEndian.AppendUint64(dst, e.Eraser)
	dst = append(dst, byte(e.Kind))
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(bm)))
	dst = append(dst, bm...)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli)), nil
}

// DecodeErasures decodes an erasures file. A short or bad last record (a
// torn append) is reported by torn, the bytes to cut; other damage is an
// error naming the record and its offset.
func DecodeErasures(b []byte) (out []Erasure, torn int, err error) {
	if len(b) < 16 {
		return nil, len(b), nil
	}
	if err := checkFileHeader(b, erasuresMagic, erasuresVersion); err != nil {
		return nil, 0, fmt.Errorf("erasures file: %w", err)
	}
	off := 16
	for off < len(b) {
		e, n, err := decodeErasure(b[off:])
		if err != nil {
			if off+n >= len(b) || n == 0 {
				return out, len(b) - off, nil // the last record, torn
			}
			return out, 0, fmt.Errorf("%w: erasures file at offset %d (record %d): %v", ErrCorrupt, off, len(out), err)
		}
		out = append(out, e)
		off += n
	}
	return out, 0, nil
}

// decodeErasure decodes one record and returns its size (0 if even its
// length is not readable).
func decodeErasure(b []byte) (Erasure, int, error) {
	if len(b) < erasureFixed {
		return Erasure{}, 0, errors.New("short record")
	}
	n := binary.LittleEndian.Uint32(b[9:])
	if n > maxErasureBitmap || int(n) > len(b)-erasureFixed {
		return Erasure{}, 0, fmt.Errorf("bitmap of %d bytes is past the end", n)
	}
	size := erasureFixed + int(n)
	if binary.LittleEndian.Uint32(b[size-4:]) != crc32.Checksum(b[:size-4], castagnoli) {
		return Erasure{}, size, errors.New("record checksum mismatch")
	}
	bm := roaring64.New()
	if _, err := bm.FromUnsafeBytes(append([]byte(nil), b[13:13+n]...)); err != nil {
		return Erasure{}, size, fmt.Errorf("bitmap: %w", err)
	}
	return Erasure{Eraser: binary.LittleEndian.Uint64(b), Kind: ErasureKind(b[8]), Seqs: bm}, size, nil
}

// RecordErasure appends an erasure and fsyncs it.
func (l *Log) RecordErasure(e Erasure) error {
	if l.opts.ReadOnly {
		return errors.New("integrity: read-only: cannot record erasures")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	path := l.dir + "/" + ErasuresFile
	f, err := l.opts.FS.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("integrity: open %s: %w", path, err)
	}
	defer f.Close()
	old, err := readAll(f)
	if err != nil {
		return fmt.Errorf("integrity: read %s: %w", path, err)
	}
	_, torn, err := DecodeErasures(old)
	if err != nil {
		return fmt.Errorf("integrity: %s: %w", path, err)
	}
	end := len(old) - torn
	var rec []byte
	if end == 0 {
		rec = appendFileHeader(rec, erasuresMagic, erasuresVersion)
	}
	if rec, err = appendErasure(rec, e); err != nil {
		return fmt.Errorf("integrity: %w", err)
	}
	if err := f.Truncate(int64(end)); err != nil {
		return fmt.Errorf("integrity: truncate %s: %w", path, err)
	}
	if _, err := f.WriteAt(rec, int64(end)); err != nil {
		return fmt.Errorf("integrity: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("integrity: fsync %s: %w", path, err)
	}
	if end == 0 {
		return l.opts.FS.SyncDir(l.dir)
	}
	return nil
}

// Erasures reads the recorded erasures.
func (l *Log) Erasures() ([]Erasure, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return readErasures(l.opts.FS, l.dir+"/"+ErasuresFile, l.opts.Logger)
}

func readErasures(fsys vfs.FS, path string, log *slog.Logger) ([]Erasure, error) {
	b, err := vfs.ReadFile(fsys, path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("integrity: read %s: %w", path, err)
	}
	out, torn, err := DecodeErasures(b)
	if err != nil {
		return nil, fmt.Errorf("integrity: %s: %w", path, err)
	}
	if torn > 0 {
		log.Warn("integrity: the erasures file ends in a torn record; the next erasure cuts it", "file", path, "bytes", torn)
	}
	return out, nil
}
