package segment

import (
	"errors"
	"fmt"

	"github.com/eventlogdb/eventlog/internal/corrupt"
)

// ErrCorrupt marks proven damage: a checksum or structure failure. Only such
// errors are corruption; I/O and mmap failures are returned plain, so a
// caller never quarantines a healthy file for a transient error.
var ErrCorrupt = corrupt.New("segment corrupt")

// ErrUnsupportedVersion means the file was written by a newer format version
// than this reader knows. It is not corruption.
var ErrUnsupportedVersion = errors.New("segment format version not supported")

// ErrClosed is returned by reads on a closed Reader.
var ErrClosed = errors.New("segment reader closed")

// Section names used in CorruptionError.
const (
	SectionHeader     = "header"
	SectionBlock      = "block"
	SectionBlockIndex = "block index"
	SectionPostings   = "postings"
	SectionSeqIndex   = "sequence index"
	SectionFooter     = "footer"
)

// CorruptionError is proven damage in one section of a segment file.
// errors.Is(err, ErrCorrupt) holds for it.
type CorruptionError struct {
	File    string
	Section string
	Block   int // block number, -1 when the section is not a block
	Err     error
}

func (e *CorruptionError) Error() string {
	if e.Block >= 0 {
		return fmt.Sprintf("segment %s: %s %d corrupt: %v", e.File, e.Section, e.Block, e.Err)
	}
	return fmt.Sprintf("segment %s: %s corrupt: %v", e.File, e.Section, e.Err)
}

// Unwrap returns the cause.
func (e *CorruptionError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrCorrupt) true, and so the store-wide marker.
func (e *CorruptionError) Is(target error) bool { return target == ErrCorrupt || target == corrupt.Err }

// errInvalid is the cause of structural failures found by the decoders.
var errInvalid = errors.New("invalid encoding")
