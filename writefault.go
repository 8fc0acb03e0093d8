package eventlog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/wal"
)

// How the write path reports storage faults: a full disk is remembered for
// Stats.DiskFull, and an Append's error says whether its batch may have been
// stored (ErrOutcomeUnknown) and whether the disk is full (ErrDiskFull).

// diskFull remembers the last ENOSPC a WAL append met, until an append
// (or a disk probe, see CheckDiskFull) succeeds.
type diskFull struct {
	reason atomic.Pointer[string]

	probeMu  sync.Mutex // one probe at a time
	probedAt time.Time  // guarded by probeMu
}

// The disk probe: a file of diskProbeBytes written, fsynced and removed in
// the WAL directory (whose *.tmp leftovers are deleted on open), at most
// once per diskProbeInterval.
const (
	diskProbeFile     = "diskprobe.tmp"
	diskProbeBytes    = 64 << 10
	diskProbeInterval = time.Second
)

// CheckDiskFull returns Stats.DiskFull, first checking, while an append
// has found the disk full, whether space has come back: it writes, fsyncs
// and removes a small probe file beside the WAL (at most once a second)
// and clears the condition when that succeeds. Without it only the next
// successful append would clear it, and a store nobody writes to (say,
// because it reported itself not ready) would never learn that space was
// freed. It writes nothing when the disk is not known to be full.
func (db *DB) CheckDiskFull() string {
	if db.diskFull.reason.Load() != nil && !db.opts.ReadOnly && !db.closed.Load() {
		db.diskFull.probe(db.opts.FS, db.dir)
	}
	return db.diskFullReason()
}

// probe writes the probe file of data directory dir and records the
// outcome, unless the last probe was less than diskProbeInterval ago.
func (d *diskFull) probe(fsys vfs.FS, dir string) {
	d.probeMu.Lock()
	defer d.probeMu.Unlock()
	if time.Since(d.probedAt) < diskProbeInterval {
		return
	}
	d.probedAt = time.Now()
	path := filepath.Join(dir, "wal", diskProbeFile)
	err := writeProbe(fsys, path)
	if rerr := fsys.Remove(path); err == nil && rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
		err = rerr
	}
	if errors.Is(err, syscall.ENOSPC) {
		err = &DiskFullError{Dir: dir, Err: err}
	}
	d.observe(err)
}

// writeProbe creates path and writes and fsyncs diskProbeBytes to it.
func writeProbe(fsys vfs.FS, path string) error {
	f, err := fsys.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(make([]byte, diskProbeBytes))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
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
