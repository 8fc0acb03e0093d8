package wal

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// Record is one batch as stored: Count events with sequence numbers
// FirstSeq..FirstSeq+Count-1. Payload is opaque to the WAL (the DB encodes
// the batch's events); during replay it is borrowed and only valid during the
// callback, unless Options.KeepPayloads.
type Record struct {
	FirstSeq uint64
	Count    uint32
	Payload  []byte
	// Owner, when not nil, is the mapping of the log file Payload is a
	// slice of (Options.MapPayloads): whoever keeps Payload, or anything
	// pointing into it, past the callback keeps Owner reachable as long,
	// since the file is unmapped once Owner is unreachable. nil: Payload is
	// ordinary memory.
	Owner *Mapping
}

// Stats is a snapshot of the WAL's size and counters.
type Stats struct {
	Files    int    `json:"files"`    // live log files
	Bytes    int64  `json:"bytes"`    // bytes in live log files
	Appends  uint64 `json:"appends"`  // successful Appends since Open
	Records  uint64 `json:"records"`  // records in live log files (replayed, plus appended, minus checkpointed)
	Fsyncs   uint64 `json:"fsyncs"`   // fsyncs of log files since Open
	Poisoned bool   `json:"poisoned"` // an fsync failed; Appends fail until reopened
}

// logFile is one live log file.
type logFile struct {
	seq     uint64 // first sequence number; the file's name
	path    string
	size    int64 // bytes of header and complete records
	records int
	version uint8 // format version of the header
}

// WAL is an open write-ahead log. Its methods are safe for concurrent use.
type WAL struct {
	opts Options
	fs   vfs.FS
	log  *slog.Logger

	// mu is the ordering lock: it serializes sequence assignment, writes,
	// commit callbacks, rotation and the file list.
	mu       sync.Mutex
	files    []*logFile // live files in sequence order
	active   vfs.File   // handle on the last file, open for writing; nil until needed
	retired  []vfs.File // rotated-out handles (already fsynced), closed by the next sync
	nextSeq  uint64
	reserved uint64 // every seq below it may have been handed out (durably recorded)
	written  uint64 // highest sequence number written to a file
	closed   bool
	buf      []byte // encoding buffer, reused
	// pins are the floors of the Snapshots not yet released: Checkpoint
	// deletes no file holding a record above the lowest one.
	pins []uint64

	// syncMu serializes fsyncs of the active file and the closing of retired
	// handles; lock order is syncMu before mu.
	syncMu  sync.Mutex
	durable atomic.Uint64
	poison  atomic.Pointer[error]

	appends atomic.Uint64
	fsyncs  atomic.Uint64

	stop chan struct{} // closed by Close to stop the background syncer
	done chan struct{} // closed by the background syncer when it exits
}

// NextSeq returns the sequence number the next Append will get.
func (w *WAL) NextSeq() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.nextSeq
}

// DurableSeq returns the highest sequence number known to be fsynced, or 0.
func (w *WAL) DurableSeq() uint64 { return w.durable.Load() }

// Err returns the error that poisoned the WAL, or nil.
func (w *WAL) Err() error {
	if p := w.poison.Load(); p != nil {
		return *p
	}
	return nil
}

// Stats returns a snapshot of the WAL's size and counters.
func (w *WAL) Stats() Stats {
	w.mu.Lock()
	st := Stats{Files: len(w.files)}
	for _, f := range w.files {
		st.Bytes += f.size
		st.Records += uint64(f.records)
	}
	w.mu.Unlock()
	st.Appends = w.appends.Load()
	st.Fsyncs = w.fsyncs.Load()
	st.Poisoned = w.Err() != nil
	return st
}

// Close fsyncs what is unsynced, stops the background syncer, releases the
// unused part of the sequence reservation (so a clean restart continues
// without a gap) and closes the files. It returns the poisoning error if the WAL was poisoned (unsynced
// records may be lost). Closing again returns nil.
func (w *WAL) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	w.mu.Unlock()
	if w.stop != nil {
		close(w.stop)
		<-w.done
	}
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	err := w.Err()
	if err == nil && !w.opts.ReadOnly {
		err = w.syncLocked()
		if err == nil {
			w.releaseReservation()
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	handles := append(w.retired, w.active)
	w.retired, w.active = nil, nil
	for _, f := range handles {
		if f == nil {
			continue
		}
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("wal: close %s: %w", f.Name(), cerr)
		}
	}
	return err
}

// Poison stops the WAL taking appends, as a failed fsync does, because the
// store above it found its own files in an unknown state (a manifest whose
// replacement may or may not be durable). Every later Append fails with
// ErrPoisoned wrapping cause until the WAL is reopened.
func (w *WAL) Poison(cause error) error { return w.setPoison(cause) }

// setPoison poisons the WAL with cause (the first cause wins) and returns the
// poisoning error.
func (w *WAL) setPoison(cause error) error {
	perr := fmt.Errorf("%w: %w", ErrPoisoned, cause)
	if w.poison.CompareAndSwap(nil, &perr) {
		w.log.Error("wal: poisoned; appends fail until reopened", "err", cause)
	}
	return w.Err()
}

// usable returns why the WAL cannot be written now, or nil. w.mu is held.
func (w *WAL) usable() error {
	switch {
	case w.opts.ReadOnly:
		return ErrReadOnly
	case w.closed:
		return ErrClosed
	}
	return w.Err()
}
