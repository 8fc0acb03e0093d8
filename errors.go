package eventlog

import (
	"errors"
	"fmt"
	"strings"

	"github.com/eventlogdb/eventlog/internal/corrupt"
	"github.com/eventlogdb/eventlog/memory"
	"github.com/eventlogdb/eventlog/query"
)

// Errors the DB returns; check them with errors.Is.
var (
	// ErrClosed: the DB was closed.
	ErrClosed = errors.New("eventlog: closed")
	// ErrReadOnly: the DB was opened with Options.ReadOnly.
	ErrReadOnly = errors.New("eventlog: opened read-only")
	// ErrLocked: another DB (in this or another process) has the directory open.
	ErrLocked = errors.New("eventlog: data directory is in use")
	// ErrInvalidEvent: an event failed validation; nothing was stored.
	ErrInvalidEvent = errors.New("eventlog: invalid event")
	// ErrUnregistered: an event's provider/action pair is not registered.
	ErrUnregistered = errors.New("unregistered provider/action")
	// ErrInvalidRequest: a FindRequest or query.Request is malformed; the
	// message says what and where. It is query.ErrInvalid.
	ErrInvalidRequest = query.ErrInvalid
	// ErrDiskFull: a write failed because the file system holding the data
	// directory is full (ENOSPC). The error is a *DiskFullError and also
	// matches syscall.ENOSPC. Unless it also matches ErrOutcomeUnknown,
	// nothing of the batch was stored and a retry once space is freed is
	// safe. Stats.DiskFull reports the condition until a later append (or,
	// for a failing seal, a later seal) succeeds.
	ErrDiskFull = errors.New("eventlog: disk full")
	// ErrCorrupt: stored data is damaged. Every corruption error matches
	// it with errors.Is and keeps its own location: a WAL record
	// (*wal.CorruptionError, file and offset), a segment section or block
	// (*segment.CorruptionError), a postings list, the manifest, and a
	// damaged range a read reached (*CorruptionError, naming the file and
	// block).
	ErrCorrupt = corrupt.Err
	// ErrOutcomeUnknown: Append wrote the batch to the write-ahead log but
	// could not make sure it is durable (the fsync after the write failed,
	// or a failed write could not be undone), so its events may or may not
	// be present after a restart. A caller should look for them (or
	// deduplicate, e.g. by event.id) rather than blindly retry. The WAL is
	// poisoned: later appends fail until the DB is reopened. With
	// Options.WALShipper it also means the batch is durable locally but
	// its copy (in object storage) was not confirmed in time; the WAL is
	// not poisoned then. Every other error of Append means that nothing
	// of the batch was stored.
	ErrOutcomeUnknown = errors.New("eventlog: outcome of the append unknown")
	// ErrMemoryFull: a query's working set did not fit in the memory
	// budget (Options.MemoryLimit) within Options.QueryMemoryWait. The
	// query read nothing and changed nothing; retry once other work has
	// given memory back. It is memory.ErrFull.
	ErrMemoryFull = memory.ErrFull
)

// DiskFullError is the error of a write refused because the file system
// holding the data directory is full. It matches ErrDiskFull, and through
// Err syscall.ENOSPC, with errors.Is.
type DiskFullError struct {
	// Dir is the data directory.
	Dir string
	// Err is the failed write.
	Err error
}

func (e *DiskFullError) Error() string {
	return fmt.Sprintf("eventlog: no space left on the disk of data directory %s: %v", e.Dir, e.Err)
}

// Is makes errors.Is(err, ErrDiskFull) hold.
func (e *DiskFullError) Is(target error) bool { return target == ErrDiskFull }

// Unwrap returns the failed write's error.
func (e *DiskFullError) Unwrap() error { return e.Err }

// CorruptionError is the error of a read that reached a damaged range: the
// segment file, the block (-1: the whole file), the sequence numbers and
// time span it holds, and what the check found. It matches ErrCorrupt with
// errors.Is. Queries that set query.Request.AllowPartial answer without
// the range instead and list it in query.Result.Warnings.
type CorruptionError = query.CorruptionError

// ItemError is the error of one event of a batch.
type ItemError struct {
	Index int
	Err   error
}

// InvalidEventsError lists every invalid event of a rejected batch. It
// matches ErrInvalidEvent with errors.Is.
type InvalidEventsError struct {
	Items []ItemError
}

func (e *InvalidEventsError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "eventlog: %d invalid event(s), nothing stored", len(e.Items))
	for i, it := range e.Items {
		if i == 10 {
			fmt.Fprintf(&b, "; and %d more", len(e.Items)-i)
			break
		}
		fmt.Fprintf(&b, "; event %d: %v", it.Index, it.Err)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrInvalidEvent) hold.
func (e *InvalidEventsError) Is(target error) bool { return target == ErrInvalidEvent }

// Unwrap returns the items' errors, so errors.Is finds their causes too.
func (e *InvalidEventsError) Unwrap() []error {
	errs := make([]error, len(e.Items))
	for i, it := range e.Items {
		errs[i] = it.Err
	}
	return errs
}
