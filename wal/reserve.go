package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"path/filepath"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// The reservation file: "every sequence number below N may have been used".
const (
	reservedName  = "seq.reserved"
	reservedMagic = "EVWS"
	reservedSize  = 20
)

// encodeReserved returns the 20-byte content of seq.reserved for n.
func encodeReserved(n uint64) []byte {
	b := make([]byte, 0, reservedSize)
	b = append(b, reservedMagic...)
	b = append(b, reservedVersion, 0, 0, 0)
	b = binary.LittleEndian.AppendUint64(b, n)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// decodeReserved validates the content of seq.reserved and returns N.
func decodeReserved(b []byte) (uint64, error) {
	if len(b) != reservedSize {
		return 0, fmt.Errorf("size %d, want %d", len(b), reservedSize)
	}
	if string(b[0:4]) != reservedMagic {
		return 0, fmt.Errorf("bad magic %q", b[0:4])
	}
	if crc32.Checksum(b[:16], castagnoli) != binary.LittleEndian.Uint32(b[16:]) {
		return 0, errors.New("checksum mismatch")
	}
	if v := b[4]; v != reservedVersion {
		return 0, fmt.Errorf("%w: seq.reserved version %d", ErrUnsupportedVersion, v)
	}
	return binary.LittleEndian.Uint64(b[8:16]), nil
}

// readReserved returns N from dir/seq.reserved, or 0 if there is none. A
// damaged file is a *CorruptionError, or ignored (logged) under Repair.
func (w *WAL) readReserved() (uint64, error) {
	path := filepath.Join(w.opts.Dir, reservedName)
	b, err := vfs.ReadFile(w.fs, path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("wal: read %s: %w", path, err)
	}
	n, err := decodeReserved(b)
	if errors.Is(err, ErrUnsupportedVersion) {
		return 0, fmt.Errorf("wal: %s: %w", path, err)
	}
	if err != nil {
		cerr := &CorruptionError{File: path, Reason: err.Error()}
		if !w.opts.Repair {
			return 0, cerr
		}
		w.log.Error("wal: ignoring damaged sequence reservation; sequence numbers lost in a crash may be reused", "err", cerr)
		return 0, nil
	}
	return n, nil
}

// reserve makes sure every sequence number up to last is covered by the
// durable reservation, raising it by SeqReserve when needed. w.mu is held.
func (w *WAL) reserve(last uint64) error {
	if last < w.reserved {
		return nil
	}
	n := last + 1 + w.opts.SeqReserve
	if n <= last {
		return fmt.Errorf("wal: sequence numbers exhausted at %d", last)
	}
	path := filepath.Join(w.opts.Dir, reservedName)
	if err := vfs.WriteFileAtomic(w.fs, path, encodeReserved(n)); err != nil {
		return fmt.Errorf("wal: reserve sequence numbers below %d: %w", n, err)
	}
	w.reserved = n
	return nil
}

// releaseReservation lowers the durable reservation to the next sequence
// number after a clean shutdown (everything written is fsynced), so a clean
// restart continues without a gap. Failure is harmless: the higher
// reservation stays valid.
func (w *WAL) releaseReservation() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.reserved <= w.nextSeq {
		return
	}
	path := filepath.Join(w.opts.Dir, reservedName)
	if err := vfs.WriteFileAtomic(w.fs, path, encodeReserved(w.nextSeq)); err != nil {
		w.log.Warn("wal: could not release unused sequence reservation", "err", err)
		return
	}
	w.reserved = w.nextSeq
}
