package eventlog

import (
	"context"
	"errors"
	"fmt"

	"github.com/eventlogdb/eventlog/event"
)

// Batch is one Append built in parts, for a caller that decodes a large
// request piece by piece: Add checks each event and encodes it at once into
// the WAL record and the head's rows, so the caller may reuse its Event
// values (and drop what they point to) for the next part, and holds one
// part decoded instead of the whole request. Commit then stores every event
// added in one WAL record, as one Append does: all of them durably (per
// Options.Sync) or, on error, none.
//
// Unlike Append, Add keeps the valid events of a part when others are
// invalid: it reports the invalid ones and leaves them out, and the caller
// decides (a caller that wants all or nothing calls Release instead of
// Commit). Events with a client id (Event.ClientID) are refused: they are
// deduplicated against each other and the store, which needs them whole;
// give them to Append.
//
// A Batch is not safe for concurrent use. Release it when done, committed
// or not.
type Batch struct {
	db  *DB
	b   *batch
	n   int        // events added
	now event.Date // the arrival time of events without @timestamp
}

// ErrBatchClientID fails an event with a client id given to Batch.Add.
var ErrBatchClientID = errors.New("an event with a client id (_id) is deduplicated and must be appended whole, not through a Batch")

// errBatchDone: the Batch was committed or released.
var errBatchDone = errors.New("batch committed or released already")

// NewBatch starts a Batch sized for about events events (0 if unknown).
func (db *DB) NewBatch(events int) *Batch {
	b := batchPool.Get().(*batch)
	db.reserveBatch(b, max(events, 0))
	return &Batch{db: db, b: b}
}

// Len returns the number of events added.
func (bt *Batch) Len() int { return bt.n }

// Add checks events as Append does and adds the valid ones to the batch.
// It returns the invalid ones, by index into events (nil when every event
// was added); they are not added. The events are encoded before Add
// returns, so the caller may reuse or change them afterwards; strings the
// events' posting keys share with the caller's memory (event.DecodeShared)
// must stay unchanged until Commit or Release.
func (bt *Batch) Add(events ...Event) []ItemError {
	return bt.add(events, false)
}

// AddDecoded is Add for events exactly as event.DecodeWith (or an
// event.Decoder) returned them,
// decoding with limits lim: what decoding checked is not checked again
// when lim is within the DB's Options.Limits (event.Limits.Within), which
// was a twentieth of a _bulk request's CPU. Every other check of Add (the
// registry, the future-skew guard, the pseudonymiser's) is made. An event
// changed after decoding, or decoded with other limits, must go to Add.
func (bt *Batch) AddDecoded(lim event.Limits, events ...Event) []ItemError {
	return bt.add(events, lim.Within(bt.db.opts.Limits))
}

// add is Add; decoded skips each event's Validate (see AddDecoded).
func (bt *Batch) add(events []Event, decoded bool) []ItemError {
	if bt.b == nil {
		bad := make([]ItemError, len(events))
		for i := range bad {
			bad[i] = ItemError{Index: i, Err: errBatchDone}
		}
		return bad
	}
	var bad []ItemError
	var invalid *InvalidEventsError
	if err := bt.db.checkWith(events, false, decoded); errors.As(err, &invalid) {
		bad = invalid.Items
	}
	next := 0 // into bad
	var refused []ItemError
	for i := range events {
		if next < len(bad) && bad[next].Index == i {
			next++
			continue
		}
		switch {
		case events[i].ClientID != "":
			refused = append(refused, ItemError{Index: i, Err: ErrBatchClientID})
			continue
		case bt.n == maxBatch:
			refused = append(refused, ItemError{Index: i, Err: fmt.Errorf("batch of more than %d events", maxBatch)})
			continue
		}
		bt.db.encodeEvent(bt.b, &events[i], &bt.now)
		bt.n++
	}
	if refused == nil {
		return bad
	}
	return mergeItemErrors(bad, refused)
}

// mergeItemErrors merges two lists of item errors sorted by index.
func mergeItemErrors(a, b []ItemError) []ItemError {
	out := make([]ItemError, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0].Index < b[0].Index {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// Commit stores the events added, in one WAL record, in the order they
// were added, with the errors and durability of Append: every error but
// one matching ErrOutcomeUnknown means nothing was stored. A Batch commits
// once; with no events it stores nothing and returns the zero Appended.
func (bt *Batch) Commit(ctx context.Context) (Appended, error) {
	db := bt.db
	switch {
	case bt.b == nil:
		return Appended{}, fmt.Errorf("eventlog: %w", errBatchDone)
	case db.closed.Load():
		return Appended{}, ErrClosed
	case db.opts.ReadOnly:
		return Appended{}, ErrReadOnly
	case bt.n == 0:
		return Appended{}, nil
	}
	if err := ctx.Err(); err != nil {
		return Appended{}, err
	}
	db.finishBatch(bt.b, bt.n)
	defer bt.Release()
	return db.commit(ctx, bt.b, bt.n)
}

// Release drops the batch's events (unless committed) and its memory. It
// may be called more than once.
func (bt *Batch) Release() {
	if bt.b == nil {
		return
	}
	bt.db.putBatch(bt.b)
	bt.b = nil
}
