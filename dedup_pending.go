package eventlog

import (
	"context"
	"fmt"
)

// This file keeps idempotent ingest exact without serialising the WAL
// writes of appends that carry client ids, so that they keep group commit
// with each other (one fsync for many appends under SyncAlways).
//
// An append with ids decides under db.dedupMu only: it looks its ids up
// (heads, segments, erased ids) and reserves the ids it will store in
// db.pending. It then writes and fsyncs without the lock. Once its events
// are stored and published (readable by the lookup), or once its write
// failed, it drops its reservations and wakes the appends that wait on
// them.
//
// An append that meets another's reservation of one of its ids reserves
// nothing and waits, without the lock, for that append's outcome, then
// decides again from the start. So an answer of Duplicate or Conflict is
// only ever given from a stored, published event: it never points at a
// sequence number whose write then fails. If the first append failed, its
// events are not found and the waiter stores its own event (or fails as
// the store does, e.g. a poisoned WAL). Waiting holds no reservation, so
// two appends that wait on each other's ids cannot deadlock: the one that
// reserved first holds all its ids and needs nobody's.

// reservation is one append's claim on the client ids it is storing.
type reservation struct {
	ids []string
	// done is closed when the ids are stored and published, or their write
	// failed, and they are no longer in db.pending.
	done chan struct{}
}

// appendDeduped stores the events of a batch with client ids that are not
// yet stored (nor erased, nor being stored by a concurrent append) and
// answers for each event what became of it.
func (db *DB) appendDeduped(ctx context.Context, events []Event) (Appended, error) {
	for {
		d, r, wait, err := db.decide(ctx, events)
		if err != nil {
			return Appended{}, fmt.Errorf("eventlog: append: %w", err)
		}
		if wait == nil {
			return db.storeDeduped(ctx, events, d, r)
		}
		select {
		case <-wait.done:
		case <-ctx.Done():
			return Appended{}, fmt.Errorf("eventlog: append: waiting for a concurrent append of the same client id: %w", ctx.Err())
		}
	}
}

// decide, under db.dedupMu, returns either a reservation another append
// holds on one of events' ids (wait on it, then decide again), or what
// deduplication decided and the reservation of the ids to store (nil when
// none is).
func (db *DB) decide(ctx context.Context, events []Event) (d *dedup, r, wait *reservation, err error) {
	db.dedupMu.Lock()
	defer db.dedupMu.Unlock()
	for i := range events {
		if r := db.pending[events[i].ClientID]; r != nil {
			return nil, nil, r, nil
		}
	}
	if d, err = db.dedupe(ctx, events); err != nil {
		return nil, nil, nil, err
	}
	return d, db.reserveLocked(events, d), nil, nil
}

// reserveLocked reserves the client ids of the events d stores.
// db.dedupMu is held.
func (db *DB) reserveLocked(events []Event, d *dedup) *reservation {
	var r *reservation
	for _, i := range d.at {
		id := events[i].ClientID
		if id == "" {
			continue
		}
		if r == nil {
			r = &reservation{ids: make([]string, 0, len(d.at)), done: make(chan struct{})}
		}
		if db.pending == nil {
			db.pending = make(map[string]*reservation)
		}
		db.pending[id] = r
		r.ids = append(r.ids, id)
	}
	return r
}

// release drops r's ids from db.pending and wakes its waiters. The events
// are published (store returned) or not stored: either way a waiter's new
// lookup answers right.
func (db *DB) release(r *reservation) {
	if r == nil {
		return
	}
	db.dedupMu.Lock()
	for _, id := range r.ids {
		delete(db.pending, id)
	}
	db.dedupMu.Unlock()
	close(r.done)
}

// storeDeduped stores the events d chose, holding reservation r until the
// outcome is known.
func (db *DB) storeDeduped(ctx context.Context, events []Event, d *dedup, r *reservation) (Appended, error) {
	defer db.release(r)
	var a Appended
	if len(d.at) > 0 {
		var err error
		if a, err = db.store(ctx, d.toStore(events), nil); err != nil {
			return Appended{}, err
		}
	}
	return d.appended(a.FirstSeq, len(events)), nil
}
