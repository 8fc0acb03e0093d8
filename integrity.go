package eventlog

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/integrity"
	"github.com/eventlogdb/eventlog/wal"
)

// The Merkle tree over the log (Options.Integrity, package integrity).
// Events get leaves in the order they became durable, which is sequence
// order: the WAL's durable watermark only rises, over records written in
// sequence order. An Append's commit hands its events' digests to the log
// (under the WAL's ordering lock, so in order); the WAL's durability
// callback lets the log's goroutine give them leaves. The leaf log is not
// fsynced per event: until a seal lets the WAL drop its records, Open
// rebuilds lost leaves from the WAL; sealing fsyncs the WAL and then the
// leaf log before the manifest names the new segments.

// IntegrityDir is the directory of the integrity data in a data directory.
const IntegrityDir = "integrity"

// ErrNoIntegrity is returned by the integrity methods of a DB opened
// without Options.Integrity.
var ErrNoIntegrity = errors.New("eventlog: the Merkle tree is off (Options.Integrity)")

// openIntegrity opens the integrity data before the WAL's replay, which
// commits the events whose leaves the leaf log lacks.
func (db *DB) openIntegrity() error {
	// A store that keeps a tree keeps it whoever writes to it; a reader
	// that does not ask for it skips reading the leaf log.
	if _, err := db.opts.FS.Stat(filepath.Join(db.dir, IntegrityDir, integrity.SigningKeyFile)); err == nil && !db.opts.ReadOnly {
		db.opts.Integrity = true
	}
	if !db.opts.Integrity {
		return nil
	}
	l, err := integrity.Open(filepath.Join(db.dir, IntegrityDir), integrity.Options{
		FS: db.opts.FS, ReadOnly: db.opts.ReadOnly, Logger: db.log, Now: db.opts.Now,
		SignInterval: db.opts.IntegrityInterval,
	})
	if err != nil {
		return fmt.Errorf("eventlog: %w", err)
	}
	db.integrity = l
	l.SetSource(leafSource{db}) // sealed tiles' leaves: integrity_source.go
	if last := l.LastSeq(); last < db.manifest.SealedSeq && l.Size() > 0 {
		db.log.Error("eventlog: the leaf log ends before the sealed events; verify --chain will report the missing leaves",
			"leaf_log_last_seq", last, "sealed_seq", db.manifest.SealedSeq)
	}
	return nil
}

// replayWithLeaves wraps the WAL's replay callback: events past the leaf
// log's last are committed to the integrity log (their leaves were lost in
// a crash, or they were never made).
func (db *DB) replayWithLeaves(replay func(wal.Record) error) func(wal.Record) error {
	if db.integrity == nil || db.opts.ReadOnly {
		return replay // read-only: the leaf log is left as it is
	}
	after := db.integrity.LastSeq()
	return func(rec wal.Record) error {
		if rec.FirstSeq+uint64(rec.Count)-1 <= after {
			return replay(rec) // every event has its leaf: no walk of the payload
		}
		var digests []integrity.Hash
		first, seq := uint64(0), rec.FirstSeq
		for data := range eventFrames(rec.Payload) {
			if seq > after {
				if digests == nil {
					first = seq
				}
				digests = append(digests, integrity.Digest(data))
			}
			seq++
		}
		db.integrity.Commit(first, digests)
		return replay(rec)
	}
}

// startIntegrity gives leaves to every replayed event (durable now: the
// WAL replayed them) and starts the log's goroutine.
func (db *DB) startIntegrity() error {
	if db.integrity == nil || db.opts.ReadOnly {
		return nil
	}
	db.integrity.Durable(db.wal.DurableSeq())
	if err := db.integrity.CatchUp(); err != nil {
		return fmt.Errorf("eventlog: %w", err)
	}
	db.integrity.Start()
	return nil
}

// onDurable is the WAL's durability callback.
func (db *DB) onDurable(seq uint64) {
	if db.integrity != nil {
		db.integrity.Durable(seq)
	}
	db.tailers.notify()
}

// syncLeavesForSeal makes the leaves of a head's events durable before the
// manifest names its segments: after that the WAL may drop their records,
// from which lost leaves are rebuilt.
func (db *DB) syncLeavesForSeal(lastSeq uint64) error {
	if db.integrity == nil {
		return nil
	}
	if db.wal != nil { // nil while replaying: replayed records are durable
		if err := db.wal.Sync(); err != nil {
			return fmt.Errorf("fsync the WAL before sealing: %w", err)
		}
	}
	return db.integrity.SyncThrough(lastSeq)
}

// Integrity returns the Merkle tree over the log, or ErrNoIntegrity.
func (db *DB) Integrity() (*integrity.Log, error) {
	if db.integrity == nil {
		return nil, ErrNoIntegrity
	}
	return db.integrity, nil
}

// SignHead signs a tree head over every durable event now.
func (db *DB) SignHead() (integrity.SignedHead, error) {
	if db.integrity == nil {
		return integrity.SignedHead{}, ErrNoIntegrity
	}
	if err := db.wal.Sync(); err != nil {
		return integrity.SignedHead{}, fmt.Errorf("eventlog: fsync the WAL: %w", err)
	}
	return db.integrity.Sign()
}

// EventDigest returns the digest an event's leaf commits to: SHA-256 of
// its binary form (event.AppendBinary), as stored.
func EventDigest(ev *Event) (integrity.Hash, error) {
	return integrity.Digest(event.AppendBinary(nil, ev)), nil
}
