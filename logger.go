package eventlog

import (
	"context"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventlogdb/eventlog/event"
)

// Logger writes events fire-and-forget, as the Kibana event logger does: Log
// merges the logger's defaults into the event, checks it, and queues it; a
// goroutine of the DB appends the queue in batches. Errors go to
// Options.Logger and the counters of DB.Stats. Safe for concurrent use.
type Logger struct {
	db       *DB
	defaults Event
}

// Logger returns a Logger whose events start from defaults: every field an
// event leaves empty takes the default's value (labels merge key by key).
func (db *DB) Logger(defaults Event) *Logger {
	return &Logger{db: db, defaults: defaults}
}

// Log queues ev. When the queue is full it waits up to Options.LoggerBlock,
// then drops the event and counts it in Stats().LoggerDropped. An invalid
// event is logged and counted in Stats().LoggerErrors.
func (l *Logger) Log(ev Event) {
	q := l.db.loggers
	if q == nil { // read-only DB
		l.db.log.Error("eventlog: logger: dropped event: the DB is read-only")
		return
	}
	mergeDefaults(&ev, &l.defaults)
	if ev.Timestamp.IsZero() {
		ev.Timestamp = event.DateOf(l.db.opts.Now())
	}
	if err := l.db.validate([]Event{ev}); err != nil {
		q.failed.Add(1)
		l.db.log.Error("eventlog: logger: invalid event dropped", "err", err)
		return
	}
	q.put(ev)
}

// mergeDefaults fills every empty field of ev from defaults.
func mergeDefaults(ev, defaults *Event) {
	for _, f := range event.Fields() {
		switch f.Kind {
		case event.KindString, event.KindIP:
			if p := f.Str(ev); *p == "" {
				*p = *f.Str(defaults)
			}
		case event.KindStrings:
			if p := f.List(ev); p.IsZero() {
				*p = *f.List(defaults)
			}
		case event.KindDate:
			if p := f.Date(ev); p.IsZero() {
				*p = *f.Date(defaults)
			}
		case event.KindInt:
			if p := f.Int(ev); *p == nil {
				*p = *f.Int(defaults)
			}
		case event.KindFloat:
			if p := f.Float(ev); *p == nil {
				*p = *f.Float(defaults)
			}
		}
	}
	if ev.Event.Duration == nil {
		ev.Event.Duration = defaults.Event.Duration
	}
	if len(ev.Kibana.SavedObjects) == 0 {
		ev.Kibana.SavedObjects = defaults.Kibana.SavedObjects
	}
	if len(defaults.Labels) > 0 {
		merged := maps.Clone(defaults.Labels)
		maps.Copy(merged, ev.Labels)
		ev.Labels = merged
	}
}

// loggerQueue is the bounded queue behind every Logger of a DB, and the
// goroutine (owned by the DB, stopped by Close) that drains it.
type loggerQueue struct {
	db *DB
	// ch holds pointers: a buffer of LoggerQueue whole Events (about
	// 1.3 KiB each) would take 13 MiB of heap from the first Open on,
	// used or not.
	ch      chan *Event
	dropped atomic.Uint64
	failed  atomic.Uint64

	mu      sync.RWMutex // held for reading by senders, for writing by stop
	stopped bool
	quit    chan struct{}
	done    chan struct{}
}

func startLoggerQueue(db *DB) *loggerQueue {
	q := newLoggerQueue(db)
	go q.run()
	return q
}

func newLoggerQueue(db *DB) *loggerQueue {
	return &loggerQueue{
		db:   db,
		ch:   make(chan *Event, db.opts.LoggerQueue),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
}

func (q *loggerQueue) put(ev Event) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.stopped {
		q.dropped.Add(1)
		q.db.log.Error("eventlog: logger: dropped event: the DB is closed")
		return
	}
	select {
	case q.ch <- &ev:
		return
	default:
	}
	t := time.NewTimer(q.db.opts.LoggerBlock)
	defer t.Stop()
	select {
	case q.ch <- &ev:
	case <-t.C:
		if n := q.dropped.Add(1); n&(n-1) == 0 { // log at powers of two, not per event
			q.db.log.Warn("eventlog: logger: queue full, dropping events", "dropped", n)
		}
	}
}

func (q *loggerQueue) run() {
	defer close(q.done)
	batch := make([]Event, 0, q.db.opts.LoggerBatch)
	for {
		select {
		case ev := <-q.ch:
			batch = q.fill(append(batch[:0], *ev))
			q.write(batch)
		case <-q.quit:
			for len(q.ch) > 0 {
				batch = q.fill(batch[:0])
				q.write(batch)
			}
			return
		}
	}
}

// fill adds queued events to batch without waiting, up to the batch size.
func (q *loggerQueue) fill(batch []Event) []Event {
	for len(batch) < cap(batch) {
		select {
		case ev := <-q.ch:
			batch = append(batch, *ev)
		default:
			return batch
		}
	}
	return batch
}

func (q *loggerQueue) write(batch []Event) {
	if len(batch) == 0 {
		return
	}
	if _, err := q.db.Append(context.Background(), batch...); err != nil {
		q.failed.Add(uint64(len(batch)))
		q.db.log.Error("eventlog: logger: append failed", "events", len(batch), "err", err)
	}
	clear(batch) // drop references to the events' strings
}

// stop waits for in-flight Log calls, then drains the queue and ends the
// goroutine.
func (q *loggerQueue) stop() {
	q.mu.Lock()
	q.stopped = true
	q.mu.Unlock()
	close(q.quit)
	<-q.done
}
