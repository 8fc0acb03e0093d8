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

// tailWindow is how many sequence numbers a tail reads at a time: memory
// stays bounded however far behind the reader starts.
const tailWindow = 8192

// Tail returns the stored events with sequence numbers from req's start on
// that match its filter, in sequence (arrival) order, and then, blocking,
// each new one as it becomes durable, until ctx is done (the sequence then
// ends) or the DB closes (it yields ErrClosed). Only durable events are
// yielded: under SyncInterval they follow the background fsync, under
// SyncNone they wait for a WAL rotation or Close, so a tail never shows
// what a crash could take back. No event is skipped or repeated across the
// switch from stored to live or across seals, and the sequence numbers
// give a reader its resume point. A bad filter is an error at once.
func (db *DB) Tail(ctx context.Context, req TailRequest) (iter.Seq2[Record, error], error) {
	f, err := filter.Parse(req.Filter)
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
		for ctx.Err() == nil {
			wake := db.tailers.wait() // before reading: a later change wakes us
			top := db.visibleSeq()
			for next <= top {
				hi := min(top, next+tailWindow-1)
				recs, err := db.readSeqRange(next, hi, f, req.IncludeExpired)
				if err != nil {
					yield(Record{}, err)
					return
				}
				for _, r := range recs {
					if !yield(r, nil) {
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

// readSeqRange returns the events with sequence numbers in [lo, hi] that
// match f, in sequence order, from one view of the store: each event is in
// exactly one of its heads and segments.
func (db *DB) readSeqRange(lo, hi uint64, f *filter.Filter, includeExpired bool) ([]Record, error) {
	db.readers.RLock()
	defer db.readers.RUnlock()
	if db.closed.Load() {
		return nil, ErrClosed
	}
	pub := db.published.Load()
	tombs := db.tombs.Load().upTo(pub) // as in acquireSnapshot: before the view
	v := db.acquireView()
	defer v.close()
	var out []Record
	now := db.opts.Now()
	keep := func(seq uint64, ev *event.Event) {
		if (includeExpired || !db.expiry.expired(ev, now)) && f.Match(ev) && !tombs.hides(seq, ev) {
			out = append(out, Record{Seq: seq, ID: IDOf(seq), Event: *ev})
		}
	}
	for _, h := range v.heads {
		if err := h.SnapshotAt(pub).EachSeq(lo, hi, func(seq uint64, ev *event.Event) { keep(seq, ev) }); err != nil {
			return nil, fmt.Errorf("eventlog: tail: %w", err)
		}
	}
	for _, s := range v.segments {
		if s.meta.MaxSeq < lo || s.meta.MinSeq > hi {
			continue
		}
		err := s.r.ScanSeq(lo, func(seq uint64, ev *event.Event) error {
			if seq > hi {
				return errStopScan
			}
			keep(seq, ev)
			return nil
		})
		if err != nil && !errors.Is(err, errStopScan) {
			return nil, fmt.Errorf("eventlog: tail: segment %s: %w", s.meta.Name, err)
		}
	}
	// Each source gave its rows in sequence order; interleave them by
	// sorting indices, as moving whole records costs more than the sort.
	idx := make([]int32, len(out))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int { return cmp.Compare(out[a].Seq, out[b].Seq) })
	sorted := make([]Record, len(out))
	for i, j := range idx {
		sorted[i] = out[j]
	}
	return sorted, nil
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
