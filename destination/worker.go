package destination

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/eventlogdb/eventlog"
)

// worker delivers one destination. Its goroutine is owned by the Manager,
// which cancels its context and waits for it.
type worker struct {
	cfg   Config
	fixed bool
	db    *eventlog.DB
	files files
	send  *sender
	log   *slog.Logger
	// resume wakes a parked worker.
	resume chan struct{}

	mu        sync.Mutex // guards what Status reads
	prog      progress
	stats     counters
	lastErr   string
	pendSince time.Time // when the oldest undelivered event was read
}

// counters are a destination's delivery totals since the process started.
type counters struct {
	Deliveries      uint64 `json:"deliveries"`
	DeliveredEvents uint64 `json:"delivered_events"`
	Retries         uint64 `json:"retries"`
	Failures        uint64 `json:"failures"`
	// LostBatches counts in-flight batches whose events were gone when
	// resent after a restart (dropped by retention's max_bytes).
	LostBatches uint64 `json:"lost_batches"`
}

// errParked stops delivery until Resume.
var errParked = errors.New("parked")

func (w *worker) run(ctx context.Context) {
	for ctx.Err() == nil {
		w.mu.Lock()
		parked := w.prog.Parked != ""
		w.mu.Unlock()
		if parked {
			select {
			case <-ctx.Done():
				return
			case <-w.resume:
				w.mu.Lock()
				w.prog.Parked = ""
				err := w.files.saveProgress(w.cfg.Name, w.prog)
				w.mu.Unlock()
				if err != nil {
					w.fail(err)
				}
			}
			continue
		}
		err := w.deliver(ctx)
		switch {
		case ctx.Err() != nil || errors.Is(err, errParked):
		case errors.Is(err, eventlog.ErrClosed):
			return
		case errors.Is(err, eventlog.ErrCorrupt):
			// Damaged stored events lie ahead: wait at them, never skip
			// them, until the store is repaired and delivery resumed.
			if err := w.park("stopped before damaged stored events: " + err.Error()); !errors.Is(err, errParked) {
				w.fail(err)
			}
		case err != nil:
			// A store or disk error: say so and try again shortly.
			w.fail(err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

func (w *worker) fail(err error) {
	w.log.Error("destination: delivery stopped; retrying", "destination", w.cfg.Name, "err", err)
	w.mu.Lock()
	w.lastErr = err.Error()
	w.mu.Unlock()
}

// deliver sends the in-flight batch, if a crash left one, then tails the
// store from the cursor, batching and sending, until ctx is done or the
// destination parks.
func (w *worker) deliver(ctx context.Context) error {
	w.mu.Lock()
	prog := w.prog
	w.mu.Unlock()
	if r := prog.InFlight; r != nil {
		b, err := w.rebuild(ctx, *r)
		if err != nil {
			return err
		}
		if b != nil {
			if err := w.ship(ctx, b); err != nil {
				return err
			}
		}
	}
	return w.stream(ctx)
}

// rebuild reads again the events of an in-flight batch: the same events,
// since stored events never change and the filter is the same.
func (w *worker) rebuild(ctx context.Context, r seqRange) (*batch, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tail, err := w.db.Tail(ctx, eventlog.TailRequest{From: r.First, Filter: w.cfg.Filter, IncludeExpired: true})
	if err != nil {
		return nil, err
	}
	b := &batch{}
	for rec, err := range tail {
		if err != nil {
			return nil, err
		}
		if rec.Seq > r.Last {
			break
		}
		b.add(rec.Seq, &rec.Event)
		if rec.Seq == r.Last {
			break
		}
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if len(b.seqs) == 0 || b.first() != r.First || b.last() != r.Last {
		// Events of the batch are gone (retention forced by max_bytes, or
		// a repair): send what is left, as a batch of its own, and say so.
		w.log.Error("destination: in-flight batch lost events before delivery", "destination", w.cfg.Name, "batch", r.key(), "left", len(b.seqs))
		w.mu.Lock()
		w.lastErr = fmt.Sprintf("in-flight batch %s lost events before delivery (retention or repair); %d left", r.key(), len(b.seqs))
		w.stats.LostBatches++
		w.mu.Unlock()
		if len(b.seqs) == 0 {
			w.mu.Lock()
			w.prog.Cursor, w.prog.InFlight = r.Last, nil
			err := w.files.saveProgress(w.cfg.Name, w.prog)
			w.mu.Unlock()
			return nil, err
		}
		if err := w.begin(b); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// stream tails the store from the cursor and ships a batch when it is full
// or its first event has waited MaxDelay.
func (w *worker) stream(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	w.mu.Lock()
	from := w.prog.Cursor + 1
	w.mu.Unlock()
	f, err := w.db.Pseudonymizer().ParseFilter(w.cfg.Filter) // checked when the config was
	if err != nil {
		cancel()
		return err
	}
	// The tail is unfiltered so the cursor can pass events the filter
	// drops (the retention floor and the lag follow it); the store decodes
	// every event for a filtered tail anyway. Expired events still stored
	// are delivered: SetRetentionFloor keeps them for destinations that have
	// not taken them.
	tail, err := w.db.Tail(ctx, eventlog.TailRequest{From: from, IncludeExpired: true})
	if err != nil {
		cancel()
		return err
	}
	type item struct {
		rec eventlog.Record
		err error
	}
	ch := make(chan item, w.cfg.BatchSize)
	pumped := make(chan struct{})
	go func() { // owned by stream: cancelled and waited for below
		defer close(pumped)
		for rec, err := range tail {
			select {
			case ch <- item{rec, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() { cancel(); <-pumped }()

	b := &batch{}
	var timer <-chan time.Time
	var scanned uint64 // the last sequence number read, matching or not
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case it := <-ch:
			if it.err != nil {
				if errors.Is(it.err, eventlog.ErrCorrupt) {
					// Deliver what came before the damage, then park at it.
					if err := w.flush(ctx, b, scanned); err != nil {
						return err
					}
				}
				return it.err
			}
			scanned = it.rec.Seq
			if timer == nil {
				timer = time.After(time.Duration(w.cfg.MaxDelay))
			}
			if !f.Match(&it.rec.Event) {
				continue
			}
			if len(b.seqs) == 0 {
				w.mu.Lock()
				if w.pendSince.IsZero() {
					w.pendSince = time.Now()
				}
				w.mu.Unlock()
			}
			b.add(it.rec.Seq, &it.rec.Event)
			if len(b.seqs) < w.cfg.BatchSize {
				continue
			}
		case <-timer:
		}
		if err := w.flush(ctx, b, scanned); err != nil {
			return err
		}
		b, timer = &batch{}, nil
	}
}

// flush ships b, when it holds events, and moves the cursor past scanned.
func (w *worker) flush(ctx context.Context, b *batch, scanned uint64) error {
	if len(b.seqs) > 0 {
		if err := w.begin(b); err != nil {
			return err
		}
		if err := w.ship(ctx, b); err != nil {
			return err
		}
	}
	return w.passOver(scanned)
}

// passOver moves the cursor to seq once every matching event up to it has
// been delivered: events the filter drops move it too, so the lag and the
// retention floor do not wait for the next match.
func (w *worker) passOver(seq uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if seq <= w.prog.Cursor || w.prog.InFlight != nil {
		return nil
	}
	w.prog.Cursor = seq
	if w.db.Stats().DurableSeq <= seq {
		w.pendSince = time.Time{}
	}
	return w.files.saveProgress(w.cfg.Name, w.prog)
}

// begin persists b as the in-flight batch before its first try.
func (w *worker) begin(b *batch) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := b.span()
	w.prog.InFlight = &r
	return w.files.saveProgress(w.cfg.Name, w.prog)
}

// ship sends b until the receiver takes it, then moves the cursor past it.
func (w *worker) ship(ctx context.Context, b *batch) error {
	if err := w.send.deliver(ctx, w, b); err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.prog.Cursor, w.prog.InFlight = b.last(), nil
	w.stats.Deliveries++
	w.stats.DeliveredEvents += uint64(len(b.seqs))
	w.lastErr = ""
	if w.db.Stats().DurableSeq <= w.prog.Cursor {
		w.pendSince = time.Time{}
	} else {
		w.pendSince = time.Now()
	}
	return w.files.saveProgress(w.cfg.Name, w.prog)
}

// retried records a failed try that will be repeated.
func (w *worker) retried(reason string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stats.Retries++
	w.lastErr = reason
}

// park stops delivery until Resume, keeping the in-flight batch.
func (w *worker) park(reason string) error {
	w.log.Error("destination: parked", "destination", w.cfg.Name, "reason", reason)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stats.Failures++
	w.lastErr, w.prog.Parked = reason, reason
	if err := w.files.saveProgress(w.cfg.Name, w.prog); err != nil {
		return err
	}
	return errParked
}
