package eventlog

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query/filter"
	"github.com/eventlogdb/eventlog/segment"
)

// TailRequest says where a tail starts and what it keeps.
type TailRequest struct {
	// From is the first sequence number to yield (inclusive); 0 is the
	// beginning of the store.
	From uint64
	// FromNow starts after the last event stored when Tail is called;
	// From is then ignored.
	FromNow bool
	// Filter is a KQL filter (package query/filter); "" keeps everything.
	Filter string
	// IncludeExpired also yields events retention has expired but not yet
	// dropped: consumers that registered a floor (SetRetentionFloor) get
	// what they have not taken.
	IncludeExpired bool
}

// tailWindow is how many sequence numbers a tail reads at a time, and how
// many decoded rows its segment cursors keep for later windows (split
// between the segments a window reads): memory stays bounded however far
// behind the reader starts.
const tailWindow = 8192

// tailCursors are a tail's segment cursors, one per segment the last
// window read: a segment that stays in the store is walked by one cursor,
// which reads each block about once however late its events arrived.
type tailCursors map[*liveSegment]*segment.SeqCursor

// next returns the cursors for segs, a window starting at lo reads, and
// forgets the others: those of segments compacted or dropped meanwhile.
func (c *tailCursors) next(segs []*liveSegment, lo uint64) []*segment.SeqCursor {
	old, out := *c, make([]*segment.SeqCursor, len(segs))
	*c = make(tailCursors, len(segs))
	for i, s := range segs {
		cur := old[s]
		if cur == nil || cur.Next() != lo {
			cur = s.r.SeqCursor(lo)
		}
		(*c)[s], out[i] = cur, cur
	}
	return out
}

// Tail returns the stored events with sequence numbers from req's start on
// that match its filter, in sequence (arrival) order, and then, blocking,
// each new one as it becomes durable, until ctx is done (the sequence then
// ends) or the DB closes (it yields ErrClosed). Only durable events are
// yielded: under SyncInterval they follow the background fsync, under
// SyncNone they wait for a WAL rotation or Close, so a tail never shows
// what a crash could take back. No event is skipped or repeated across the
// switch from stored to live or across seals, and the sequence numbers
// give a reader its resume point. A bad filter is an error at once.
//
// A tail never skips damaged stored events: it yields every event before
// the first damaged range it reaches (a block whose checksum failed, a
// segment in quarantine/) and then a *CorruptionError (ErrCorrupt) naming
// it, and ends. Resuming from the next sequence number stops there again
// until eventlog repair has dealt with the range.
func (db *DB) Tail(ctx context.Context, req TailRequest) (iter.Seq2[Record, error], error) {
	f, err := db.opts.Pseudonymizer.ParseFilter(req.Filter)
	if err != nil {
		return nil, fmt.Errorf("eventlog: tail: %w: %w", ErrInvalidRequest, err)
	}
	if db.closed.Load() {
		return nil, ErrClosed
	}
	next := max(req.From, 1)
	if req.FromNow {
		next = db.visibleSeq() + 1
	}
	return func(yield func(Record, error) bool) {
		// Registered for the whole walk, so no notify between taking the
		// channel and waiting on it is skipped.
		db.tailers.add(1)
		defer db.tailers.add(-1)
		var cursors tailCursors
		for ctx.Err() == nil {
			wake := db.tailers.wait() // before reading: a later change wakes us
			top := db.visibleSeq()
			for next <= top {
				stop, dm := db.parkSeq(next)
				if next >= stop {
					yield(Record{}, errTailParked(dm))
					return
				}
				hi := min(top, next+tailWindow-1, stop-1)
				recs, err := db.readSeqRange(next, hi, f, req.IncludeExpired, &cursors)
				if err != nil {
					if s, _ := db.parkSeq(next); errors.Is(err, ErrCorrupt) && s <= hi {
						continue // damage found in this window: yield up to it, then park
					}
					yield(Record{}, err)
					return
				}
				for _, r := range recs {
					if !yield(Record{Seq: r.seq, ID: IDOf(r.seq), Event: *r.ev}, nil) {
						return
					}
				}
				next = hi + 1
			}
			select {
			case <-ctx.Done():
				return
			case <-db.quit:
				yield(Record{}, ErrClosed)
				return
			case <-wake:
			}
		}
	}, nil
}

// visibleSeq is the highest sequence number a tail may yield: published
// and durable.
func (db *DB) visibleSeq() uint64 {
	return min(db.published.Load(), db.wal.DurableSeq())
}

// seqEvent is an event a tail yields and its sequence number.
type seqEvent struct {
	seq uint64
	ev  *event.Event
}

// readSeqRange returns the events with sequence numbers in [lo, hi] that
// match f, in sequence order, from one view of the store: each event is in
// exactly one of its heads and segments. Segments are read through the
// tail's cursors, which decode each row once over the walk.
func (db *DB) readSeqRange(lo, hi uint64, f *filter.Filter, includeExpired bool, cursors *tailCursors) ([]seqEvent, error) {
	db.readers.RLock()
	defer db.readers.RUnlock()
	if db.closed.Load() {
		return nil, ErrClosed
	}
	pub := db.published.Load()
	tombs := db.tombs.Load().upTo(pub) // as in acquireSnapshot: before the view
	holds := db.liveHolds()
	v := db.acquireView()
	defer v.close()
	var out []seqEvent
	now := db.opts.Now()
	keep := func(seq uint64, ev *event.Event) {
		if (includeExpired || !db.expired(ev, now)) && f.Match(ev) && !holds.erases(tombs, seq, ev) {
			out = append(out, seqEvent{seq: seq, ev: ev})
		}
	}
	for _, h := range v.heads {
		err := h.SnapshotAt(pub).EachSeq(lo, hi, func(seq uint64, ev *event.Event) {
			c := *ev // EachSeq does not give ev away
			keep(seq, &c)
		})
		if err != nil {
			return nil, fmt.Errorf("eventlog: tail: %w", err)
		}
	}
	var segs []*liveSegment
	for _, s := range slices.Concat(v.segments, v.readableDamaged()) { // the tail stops before their damage
		if s.meta.MaxSeq >= lo && s.meta.MinSeq <= hi {
			segs = append(segs, s)
		}
	}
	for i, c := range cursors.next(segs, lo) {
		err := c.Each(hi, tailWindow/len(segs), func(seq uint64, ev *event.Event) error {
			keep(seq, ev)
			return nil
		})
		if err = db.checkDamage(err); errors.Is(err, ErrCorrupt) {
			return nil, fmt.Errorf("eventlog: tail: %w", err) // it names the segment
		}
		if err != nil {
			return nil, fmt.Errorf("eventlog: tail: segment %s: %w", segs[i].meta.Name, err)
		}
	}
	// Each source gave its events in sequence order; interleave them.
	slices.SortFunc(out, func(a, b seqEvent) int { return cmp.Compare(a.seq, b.seq) })
	return out, nil
}

var errStopScan = errors.New("stop scan")

// broadcast wakes every waiter at once: wait returns a channel that the
// next notify closes. notify costs nothing while nobody waits, so the
// write path can call it on every append.
type broadcast struct {
	waiters atomic.Int64
	mu      sync.Mutex
	ch      chan struct{}
}

func (b *broadcast) wait() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	return b.ch
}

func (b *broadcast) add(n int64) { b.waiters.Add(n) }

func (b *broadcast) notify() {
	if b.waiters.Load() == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch != nil {
		close(b.ch)
		b.ch = nil
	}
}
