package eventlog

import (
	"context"
	"errors"
	"fmt"
)

// ErrNotShipped is matched, with ErrOutcomeUnknown, by the error of an
// Append whose batch is durable in the local WAL but whose copy
// (Options.WALShipper) was not confirmed: the WAL is not poisoned, and the
// copy may still be made later.
var ErrNotShipped = errors.New("eventlog: the batch's copy was not confirmed")

// ErrShipBacklog is matched by the error of an Append refused before
// anything was stored because Options.WALShipper has too many records
// waiting for their copy (the copy's target is failing or too slow).
var ErrShipBacklog = errors.New("eventlog: too many records wait for their copy; nothing stored")

// WALShipper copies every WAL record elsewhere as it is written and holds
// an append's acknowledgement until the copy holding it is safe (package
// tiering's WALSync uploads the records to object storage in chunks:
// serve --sync-to-object-store).
type WALShipper interface {
	// Ship is given each record the WAL writes, framed as in the log file
	// (record header, then payload), in sequence order, while the WAL's
	// ordering lock is held: it must be quick, must copy rec (the store
	// reuses it), and must not call the DB. Records are shipped before
	// their fsync, so a copy may hold a batch whose Append then failed
	// with ErrOutcomeUnknown.
	Ship(rec []byte)
	// Wait returns once the record holding seq is in the copy, or an
	// error saying why it is not (ctx ended, the copy failed for too long,
	// the shipper was fenced or closed).
	Wait(ctx context.Context, seq uint64) error
	// Admit is called before a batch is written: it returns once the
	// shipper can take another record, or an error saying why not (its
	// backlog stayed full, it was fenced or closed), and the batch is
	// then not stored. It bounds the memory of records waiting for their
	// copy while the target fails.
	Admit(ctx context.Context) error
}

// admitShip asks Options.WALShipper whether another batch may be written.
func (db *DB) admitShip(ctx context.Context) error {
	s := db.opts.WALShipper
	if s == nil {
		return nil
	}
	if err := s.Admit(ctx); err != nil {
		return fmt.Errorf("%w: %w", ErrShipBacklog, err)
	}
	return nil
}

// shipRecord hands a written WAL record to Options.WALShipper.
func (db *DB) shipRecord(rec []byte) {
	if s := db.opts.WALShipper; s != nil {
		s.Ship(rec)
	}
}

// waitShipped holds an append's acknowledgement until Options.WALShipper
// has the record holding seq. A failure leaves the batch stored on this
// disk but not confirmed in the copy: its outcome is unknown to the
// caller.
func (db *DB) waitShipped(ctx context.Context, seq uint64) error {
	s := db.opts.WALShipper
	if s == nil {
		return nil
	}
	if err := s.Wait(ctx, seq); err != nil {
		return fmt.Errorf("%w (%w): the batch is in the local write-ahead log: %w", ErrOutcomeUnknown, ErrNotShipped, err)
	}
	return nil
}
