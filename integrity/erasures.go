package integrity

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"os"
	"slices"

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

// The erasure kinds. Deletes and retention erase on purpose; repairs and
// restores lose events honestly (LostToRepair, LostToRestore: a fork of the
// log, recorded before the loss takes effect, so that a crash cannot leave
// the positions unexplained) and are then acknowledged by an event
// (ForkRecorded) appended at the store's next writable open.
const (
	ErasedByDelete    ErasureKind = 1
	ErasedByRetention ErasureKind = 2
	// LostToRepair: events a repair could not salvage (damaged segment
	// blocks, a damaged stretch of the WAL, a segment file gone).
	LostToRepair ErasureKind = 3
	// LostToRestore: events whose leaves a restored backup's leaf log holds
	// but which the backup does not (they became durable while it was
	// copied, after its sequence number).
	LostToRestore ErasureKind = 4
	// ForkRecorded acknowledges a loss record: Seqs holds one number, the
	// ordinal of the LostToRepair or LostToRestore record in the file, and
	// Eraser is the event that records that fork in the store.
	ForkRecorded ErasureKind = 5
)

func (k ErasureKind) String() string {
	switch k {
	case ErasedByDelete:
		return "delete"
	case ErasedByRetention:
		return "retention"
	case LostToRepair:
		return "repair"
	case LostToRestore:
		return "restore"
	case ForkRecorded:
		return "fork-recorded"
	}
	return fmt.Sprintf("kind %d", uint8(k))
}

// IsLoss reports whether k records an honest loss (a repair or a restore)
// rather than an erasure on purpose.
func (k ErasureKind) IsLoss() bool { return k == LostToRepair || k == LostToRestore }

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
	if _, err := AppendErasure(l.opts.FS, l.dir, e); err != nil {
		return err
	}
	l.erased.note(e)
	l.markForPacking(e)
	if st, err := l.opts.FS.Stat(l.dir + "/" + ErasuresFile); err == nil {
		l.erased.bytes = st.Size()
	}
	return nil
}

// AppendErasure appends e to the erasures file of the integrity directory
// dir (creating it) and fsyncs it, without opening the log: Repair and
// Restore record what they lose this way, on a store that is not open. It
// returns the record's ordinal in the file (what a ForkRecorded record
// names). The caller serializes appends to one directory.
func AppendErasure(fsys vfs.FS, dir string, e Erasure) (int, error) {
	path := dir + "/" + ErasuresFile
	f, err := fsys.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return 0, fmt.Errorf("integrity: open %s: %w", path, err)
	}
	defer f.Close()
	old, err := readAll(f)
	if err != nil {
		return 0, fmt.Errorf("integrity: read %s: %w", path, err)
	}
	prior, torn, err := DecodeErasures(old)
	if err != nil {
		return 0, fmt.Errorf("integrity: %s: %w", path, err)
	}
	end := len(old) - torn
	var rec []byte
	if end == 0 {
		rec = appendFileHeader(rec, erasuresMagic, erasuresVersion)
	}
	if rec, err = appendErasure(rec, e); err != nil {
		return 0, fmt.Errorf("integrity: %w", err)
	}
	if err := f.Truncate(int64(end)); err != nil {
		return 0, fmt.Errorf("integrity: truncate %s: %w", path, err)
	}
	if _, err := f.WriteAt(rec, int64(end)); err != nil {
		return 0, fmt.Errorf("integrity: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return 0, fmt.Errorf("integrity: fsync %s: %w", path, err)
	}
	if end == 0 {
		if err := fsys.SyncDir(dir); err != nil {
			return 0, fmt.Errorf("integrity: fsync %s: %w", dir, err)
		}
	}
	return len(prior), nil
}

// ResolveForks returns es with each loss record's Eraser taken from the
// ForkRecorded record that acknowledges it, and the ForkRecorded records
// left out. A loss record nothing acknowledges keeps Eraser 0: its fork
// event is not appended yet (the next writable open appends it).
func ResolveForks(es []Erasure) []Erasure {
	out := slices.Clone(es)
	for _, e := range es {
		if e.Kind != ForkRecorded || e.Seqs.GetCardinality() != 1 {
			continue
		}
		if i := e.Seqs.Minimum(); i < uint64(len(out)) && out[i].Kind.IsLoss() && out[i].Eraser == 0 {
			out[i].Eraser = e.Eraser
		}
	}
	return slices.DeleteFunc(out, func(e Erasure) bool { return e.Kind == ForkRecorded })
}

// UnrecordedForks returns the ordinals of the loss records of es that no
// ForkRecorded record acknowledges.
func UnrecordedForks(es []Erasure) []int {
	acked := map[uint64]bool{}
	for _, e := range es {
		if e.Kind == ForkRecorded && e.Seqs.GetCardinality() == 1 {
			acked[e.Seqs.Minimum()] = true
		}
	}
	var out []int
	for i, e := range es {
		if e.Kind.IsLoss() && e.Eraser == 0 && !acked[uint64(i)] {
			out = append(out, i)
		}
	}
	return out
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
