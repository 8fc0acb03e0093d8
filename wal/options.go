package wal

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// SyncPolicy says when appended records are fsynced.
type SyncPolicy int

const (
	// SyncAlways fsyncs before Append returns; concurrent Appends share one
	// fsync (group commit).
	SyncAlways SyncPolicy = iota
	// SyncInterval fsyncs from a background goroutine at most every
	// Options.SyncInterval; a crash may lose the last interval.
	SyncInterval
	// SyncNone leaves fsyncing to rotation, Sync and Close.
	SyncNone
)

// ParseSyncPolicy parses "always", "interval" or "none".
func ParseSyncPolicy(s string) (SyncPolicy, error) {
	switch s {
	case "always":
		return SyncAlways, nil
	case "interval":
		return SyncInterval, nil
	case "none":
		return SyncNone, nil
	}
	return 0, fmt.Errorf("wal: unknown sync policy %q (want always, interval or none)", s)
}

// String returns the name ParseSyncPolicy accepts.
func (p SyncPolicy) String() string {
	switch p {
	case SyncAlways:
		return "always"
	case SyncInterval:
		return "interval"
	case SyncNone:
		return "none"
	}
	return fmt.Sprintf("SyncPolicy(%d)", int(p))
}

// Defaults for the zero values of Options.
const (
	DefaultSyncInterval = 100 * time.Millisecond
	DefaultMaxFileBytes = 64 << 20
	DefaultSeqReserve   = 1 << 20
)

// Options configures Open. The zero value of every field but Dir is usable.
type Options struct {
	// FS is the file system; nil means vfs.OS{}.
	FS vfs.FS
	// Dir is the log's directory; it is created if missing (unless ReadOnly).
	Dir string
	// Sync is the sync policy; the zero value is SyncAlways.
	Sync SyncPolicy
	// SyncInterval is the background fsync period under SyncInterval;
	// 0 means DefaultSyncInterval.
	SyncInterval time.Duration
	// MaxFileBytes starts a new file when a record would take the current one
	// past it; 0 means DefaultMaxFileBytes.
	MaxFileBytes int64
	// SeqReserve is how many sequence numbers are reserved durably ahead of
	// use; 0 means DefaultSeqReserve.
	SeqReserve uint64
	// ReadOnly replays only: Open never creates, truncates or writes anything,
	// and Append, Checkpoint return ErrReadOnly.
	ReadOnly bool
	// Repair truncates the log at mid-log damage (dropping and logging
	// everything after it) instead of failing Open. With ReadOnly, replay just
	// stops at the damage.
	Repair bool
	// KeepPayloads gives every record replayed by Open a payload of its
	// own, which the callback may keep (the WAL never touches it again),
	// instead of one buffer reused from record to record: for a caller
	// that would copy each payload anyway, it saves the copy. Payloads are
	// cut from slabs of 8 MiB (payload_slab.go), which on Linux ask for
	// transparent huge pages, so filling hundreds of megabytes of new
	// memory costs one page fault per 2 MiB rather than per 4 KiB; a slab
	// lives as long as any payload cut from it.
	KeepPayloads bool
	// MapPayloads, with KeepPayloads, reads each log file through a
	// read-only mapping of it and hands out payloads that are slices of
	// the mapping, kept valid by the record's Owner (see Mapping): no read
	// system calls, no copies and no new memory, the payloads' pages being
	// the page cache's. Only for a log nobody else writes while the
	// payloads are kept: ReadOnly ignores it (another process may be
	// writing the files), and so does an FS whose files are not the
	// operating system's (the payloads are copied then, as KeepPayloads
	// alone does).
	MapPayloads bool
	// Logger receives warnings about truncations and failures; nil discards.
	Logger *slog.Logger
	// ObserveFsync, when set, is called with the duration of every fsync of
	// a log file (for metrics). It must be fast and safe for concurrent use.
	ObserveFsync func(time.Duration)
	// OnDurable, when set, is called whenever the durable sequence number
	// advances, with the new value; possibly under the WAL's locks, so it
	// must be fast and must not call the WAL.
	OnDurable func(seq uint64)
}

// withDefaults returns a copy of o with zero values filled in, or an error
// if o is invalid.
func (o Options) withDefaults() (Options, error) {
	if o.Dir == "" {
		return o, fmt.Errorf("wal: options: Dir is empty")
	}
	if o.Sync < SyncAlways || o.Sync > SyncNone {
		return o, fmt.Errorf("wal: options: invalid sync policy %d", int(o.Sync))
	}
	if o.SyncInterval < 0 || o.MaxFileBytes < 0 {
		return o, fmt.Errorf("wal: options: negative SyncInterval or MaxFileBytes")
	}
	if o.FS == nil {
		o.FS = vfs.OS{}
	}
	if o.SyncInterval == 0 {
		o.SyncInterval = DefaultSyncInterval
	}
	if o.MaxFileBytes == 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.SeqReserve == 0 {
		o.SeqReserve = DefaultSeqReserve
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}
