package eventlog

import (
	"errors"
	"fmt"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// A store stops writing when it can no longer know what its files hold on
// disk: a failed fsync of the WAL (the WAL poisons itself), or a manifest
// replacement whose rename or directory fsync failed, so that after a
// crash the directory may name the new segments or the old ones. From then
// on every write fails and no file is deleted — neither the new segments
// (the new manifest may be durable) nor the old ones (the old one may be) —
// until the store is reopened, and the open decides from what the
// directory really holds.

// commitManifest replaces the manifest with m, unless the store has stopped
// writing. A replacement whose outcome is unknown stops the store.
func (db *DB) commitManifest(m *manifest) error {
	if err := db.writeErr(); err != nil {
		return err
	}
	err := writeManifest(db.opts.FS, db.dir, m)
	if errors.Is(err, vfs.ErrMaybeReplaced) {
		return db.stopWrites(err)
	}
	if err == nil {
		db.notifyManifest(m)
	}
	return err
}

// StopWrites makes every later write fail with an error wrapping cause
// until the store is reopened, as a failed fsync does: for a component
// outside the engine that finds the store must not go on (package
// tiering, when another writer took over its bucket prefix). Reads go on.
func (db *DB) StopWrites(cause error) error {
	if db.opts.ReadOnly || db.wal == nil {
		return nil
	}
	return db.wal.Poison(fmt.Errorf("stopped writing: %w", cause))
}

// stopWrites makes every later write fail with an error wrapping cause
// (and wal.ErrPoisoned) until the store is reopened.
func (db *DB) stopWrites(cause error) error {
	err := fmt.Errorf("the state of the data directory on disk is unknown; stopped writing until reopened: %w", cause)
	if db.wal == nil { // replaying during Open: the open fails instead
		return err
	}
	return db.wal.Poison(err)
}

// writeErr returns why the store may not write, or nil.
func (db *DB) writeErr() error {
	if db.wal == nil {
		return nil
	}
	return db.wal.Err()
}

// abandonSegments lets go of segments that did not become live after err:
// their files are removed unless the manifest naming them may be on disk.
func abandonSegments(segs []*liveSegment, err error) {
	if !errors.Is(err, vfs.ErrMaybeReplaced) {
		discardSegments(segs)
		return
	}
	for _, s := range segs {
		s.release()
	}
}
