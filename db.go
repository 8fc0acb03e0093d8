// Package eventlog is an embeddable store for events: audit trails, alerting
// histories, incident "black boxes". Events are Kibana event log documents
// (package event); Append makes them durable through a write-ahead log and
// readable at once from an in-memory head; Find answers time-ranged,
// term- and saved-object-filtered queries with stable cursors.
//
//	db, err := eventlog.Open(dir, eventlog.Options{})
//	db.RegisterProviderActions("actions", "execute", "execute-via-http")
//	res, err := db.Append(ctx, ev1, ev2)
//	it, err := db.Find(ctx, eventlog.FindRequest{Terms: ...})
//	db.Close()
//
// A data directory holds:
//
//	LOCK            flock held while a DB has the directory open
//	registry.json   the registered provider/action pairs
//	wal/            the write-ahead log (see FORMAT.md)
package eventlog

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/head"
	"github.com/eventlogdb/eventlog/wal"
)

// Event is an event document; see package event.
type Event = event.Event

// DB is an open data directory. It is safe for concurrent use.
type DB struct {
	dir  string
	opts Options
	log  *slog.Logger
	lock *dirLock
	reg  *registry
	wal  *wal.WAL
	head *head.Head

	loggers *loggerQueue

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if needed) the data directory dir. It replays the
// write-ahead log, so every acknowledged event is readable when it returns.
func Open(dir string, opts Options) (*DB, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("eventlog: %w", err)
	}
	db := &DB{dir: dir, opts: opts, log: opts.Logger, head: head.New()}
	if err := db.open(); err != nil {
		db.releaseAll()
		return nil, err
	}
	if !opts.ReadOnly {
		db.loggers = startLoggerQueue(db)
	}
	return db, nil
}

func (db *DB) open() error {
	if !db.opts.ReadOnly {
		if err := db.opts.fs.MkdirAll(db.dir, 0o755); err != nil {
			return fmt.Errorf("eventlog: create %s: %w", db.dir, err)
		}
		lock, err := lockDir(db.dir)
		if err != nil {
			return err
		}
		db.lock = lock
	}
	reg, err := loadRegistry(db.opts.fs, db.dir, db.opts.ReadOnly)
	if err != nil {
		return err
	}
	db.reg = reg
	w, err := wal.Open(wal.Options{
		FS:           db.opts.fs,
		Dir:          filepath.Join(db.dir, "wal"),
		Sync:         db.opts.Sync,
		SyncInterval: db.opts.SyncInterval,
		MaxFileBytes: db.opts.WALMaxFileBytes,
		ReadOnly:     db.opts.ReadOnly,
		Repair:       db.opts.Repair,
		Logger:       db.log,
	}, 0, db.replay)
	if err != nil {
		return fmt.Errorf("eventlog: open %s: %w", db.dir, err)
	}
	db.wal = w
	db.head.Publish(w.NextSeq() - 1)
	return nil
}

// replay inserts one WAL record's events into the head.
func (db *DB) replay(r wal.Record) error {
	return decodeBatch(r.Payload, r.Count, func(i int, ev *event.Event, data []byte) {
		db.head.Insert(r.FirstSeq+uint64(i), ev, data)
	})
}

// Close flushes the Logger queue, syncs the WAL and releases the directory.
// It is idempotent; later calls return the first call's result.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		if db.loggers != nil {
			db.loggers.stop()
		}
		db.closed.Store(true)
		db.closeErr = db.releaseAll()
	})
	return db.closeErr
}

func (db *DB) releaseAll() error {
	var err error
	if db.wal != nil {
		err = db.wal.Close()
	}
	return errors.Join(err, db.lock.release())
}

// RegisterProviderActions allows events with the provider and each of the
// actions. The registry is saved in the data directory, so a reopened DB
// remembers it.
func (db *DB) RegisterProviderActions(provider string, actions ...string) error {
	if db.closed.Load() {
		return ErrClosed
	}
	return db.reg.register(provider, actions)
}

// IsRegistered reports whether the provider/action pair is registered.
func (db *DB) IsRegistered(provider, action string) bool {
	return db.reg.isRegistered(provider, action)
}

// ProviderActions returns every registered provider with its actions, sorted.
func (db *DB) ProviderActions() map[string][]string { return db.reg.list() }

// Stats are counters and sizes of an open DB.
type Stats struct {
	// HeadEvents and HeadBytes describe the in-memory head (bytes of the
	// events' binary form).
	HeadEvents int
	HeadBytes  int64
	// LastSeq is the highest sequence number readable; DurableSeq the
	// highest known to be fsynced.
	LastSeq    uint64
	DurableSeq uint64
	// LoggerDropped counts events DB.Logger dropped because its queue
	// stayed full; LoggerErrors the events it failed to append.
	LoggerDropped uint64
	LoggerErrors  uint64
	WAL           wal.Stats
}

// Stats returns the DB's current counters.
func (db *DB) Stats() Stats {
	hs := db.head.Stats()
	s := Stats{
		HeadEvents: hs.Rows,
		HeadBytes:  hs.Bytes,
		LastSeq:    db.head.Published(),
		DurableSeq: db.wal.DurableSeq(),
		WAL:        db.wal.Stats(),
	}
	if db.loggers != nil {
		s.LoggerDropped = db.loggers.dropped.Load()
		s.LoggerErrors = db.loggers.failed.Load()
	}
	return s
}
