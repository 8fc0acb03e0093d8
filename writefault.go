package eventlog

import (
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"

	"github.com/eventlogdb/eventlog/wal"
)

// How the write path reports storage faults: a full disk is remembered for
// Stats.DiskFull, and an Append's error says whether its batch may have been
// stored (ErrOutcomeUnknown) and whether the disk is full (ErrDiskFull).

// diskFull remembers the last ENOSPC a WAL append met, until an append
// succeeds.
type diskFull struct {
	reason atomic.Pointer[string]
}

// observe records the outcome of a WAL append: ENOSPC sets the reason,
// success clears it, any other error leaves it as it was.
func (d *diskFull) observe(err error) {
	switch {
	case err == nil:
		if d.reason.Load() != nil {
			d.reason.Store(nil)
		}
	case errors.Is(err, syscall.ENOSPC):
		r := err.Error()
		d.reason.Store(&r)
	}
}

// diskFullReason is Stats.DiskFull: the last ENOSPC of an append, else of
// a failing seal, or "" when writes do not find the disk full.
func (db *DB) diskFullReason() string {
	if r := db.diskFull.reason.Load(); r != nil {
		return *r
	}
	if err := db.sealErr(); errors.Is(err, syscall.ENOSPC) {
		return (&DiskFullError{Dir: db.dir, Err: err}).Error()
	}
	return ""
}

// appendFailed wraps the error of a failed append: a *DiskFullError when
// the disk is full, and ErrOutcomeUnknown when the batch may have reached
// the WAL (written).
func (db *DB) appendFailed(err error, written bool) error {
	if errors.Is(err, syscall.ENOSPC) && !errors.Is(err, ErrDiskFull) {
		err = &DiskFullError{Dir: db.dir, Err: err}
	}
	if written {
		err = fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
	}
	return fmt.Errorf("eventlog: append: %w", err)
}

// writtenBeforeFailing reports whether a WAL append that failed with err
// may have written its record: it returned a sequence number (its fsync
// failed), or it poisoned a WAL that was not poisoned before it (a failed
// write could not be undone; a concurrent append's failure counts too, which
// errs on the side of "unknown").
func writtenBeforeFailing(first uint64, err error, poisonedBefore bool) bool {
	return first != 0 || (!poisonedBefore && errors.Is(err, wal.ErrPoisoned))
}
