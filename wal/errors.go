package wal

import (
	"errors"
	"fmt"

	"github.com/eventlogdb/eventlog/internal/corrupt"
)

var (
	// ErrCorrupt marks damage to the log that is not a torn tail. Every
	// *CorruptionError matches it with errors.Is.
	ErrCorrupt = corrupt.New("wal: corrupt log")
	// ErrPoisoned is wrapped by every Append after an fsync failed (or a failed
	// write could not be undone): the state of the file on disk is unknown, so
	// nothing more is acknowledged until the WAL is reopened.
	ErrPoisoned = errors.New("wal: poisoned by an earlier I/O failure")
	// ErrClosed is returned by operations on a closed WAL.
	ErrClosed = errors.New("wal: closed")
	// ErrReadOnly is returned by operations that would write to a WAL opened
	// with Options.ReadOnly.
	ErrReadOnly = errors.New("wal: read-only")
	// ErrUnsupportedVersion is wrapped when a file has a format version newer
	// than this package knows. Repair never touches such files.
	ErrUnsupportedVersion = errors.New("wal: unsupported format version")
)

// CorruptionError reports damage to the log: the file, the byte offset of the
// first damaged header or record, and why it was rejected.
type CorruptionError struct {
	File   string
	Offset int64
	Reason string
}

// Error describes the damage.
func (e *CorruptionError) Error() string {
	return fmt.Sprintf("wal: corrupt log file %s at offset %d: %s", e.File, e.Offset, e.Reason)
}

// Is reports whether target is ErrCorrupt or the store-wide marker.
func (e *CorruptionError) Is(target error) bool { return target == ErrCorrupt || target == corrupt.Err }
