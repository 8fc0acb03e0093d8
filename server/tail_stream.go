package server

import (
	"context"
	"errors"
	"iter"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/auth"
)

// Why a tail ended: the reason label of eventlog_tail_streams_ended_total.
const (
	tailEndClient   = "client_closed"
	tailEndSlow     = "slow_reader"
	tailEndShutdown = "shutdown"
	tailEndClosed   = "store_closed"
	tailEndError    = "error"
	tailEndKey      = "key_ended"
)

// tailEndGrace is how long a tail may take to send its last record once
// the server shuts down: a client that is not reading must not hold up
// the shutdown for a whole FlushTimeout.
const tailEndGrace = time.Second

// tailItem is one event of a tail, already encoded as its document.
type tailItem struct {
	seq uint64
	doc []byte
}

// pump reads a DB.Tail into a bounded buffer for the goroutine writing to
// the client. When the buffer stays full for the stall timeout, the client
// is not taking events: the pump ends as a slow reader instead of holding
// more. While the client takes events, however slowly, the pump waits for
// it: the tail reads the store at the client's pace, so memory stays
// bounded by the buffer whatever the lag.
type pump struct {
	ch     chan tailItem
	done   chan struct{} // closed when the pump has ended
	cancel context.CancelFunc
	// Set before done is closed: why the pump ended, when not because its
	// context was cancelled.
	slow bool
	err  error
	// key is the key of the stream's request (nil: none).
	key *auth.Key
}

// startPump runs events (a DB.Tail made with a context that cancel ends)
// into a buffer of lag events. Events are encoded as key k may see them (appendShown).
func startPump(cancel context.CancelFunc, events iter.Seq2[eventlog.Record, error], lag int, stall time.Duration, k *auth.Key) *pump {
	p := &pump{ch: make(chan tailItem, lag), done: make(chan struct{}), cancel: cancel, key: k}
	go p.run(events, stall)
	return p
}

// stop cancels the tail and waits for the pump's goroutine to end.
func (p *pump) stop() {
	p.cancel()
	<-p.done
}

func (p *pump) run(events iter.Seq2[eventlog.Record, error], stall time.Duration) {
	defer close(p.done)
	var timer *time.Timer
	for rec, err := range events {
		if err != nil {
			p.err = err
			return
		}
		it := tailItem{seq: rec.Seq, doc: appendShown(nil, p.key, rec.Seq, &rec.Event)}
		select {
		case p.ch <- it:
			continue
		default:
		}
		if timer == nil {
			timer = time.NewTimer(stall)
			defer timer.Stop()
		} else {
			timer.Reset(stall)
		}
		select {
		case p.ch <- it:
		case <-timer.C:
			p.slow = true
			return
		}
	}
	// The tail ends only when its context is done: the stream is over.
}

// tailStream writes a tail to its client as SSE or NDJSON.
type tailStream struct {
	w         http.ResponseWriter
	rc        *http.ResponseController
	ndjson    bool
	heartbeat time.Duration
	deadline  flushDeadline
	buf       *[]byte
	// next is the sequence number to resume from: one past the last event
	// written, or where the tail started.
	next uint64
}

// run writes the pump's events until the client goes away, the pump ends
// or quit is closed (the server shuts down), and returns why it ended.
func (t *tailStream) run(ctx context.Context, p *pump, quit <-chan struct{}) string {
	if t.start() != nil {
		return tailEndClient
	}
	idle := time.NewTimer(t.heartbeat)
	defer idle.Stop()
	for {
		select { // an ended stream takes no more events
		case <-quit:
			return t.end(tailEndShutdown, "server shutting down")
		case <-p.done:
			return t.endPump(ctx, p)
		default:
		}
		var err error
		select {
		case <-ctx.Done():
			if errors.Is(context.Cause(ctx), errKeyEnded) {
				return t.end(tailEndKey, "the key of this stream was revoked or has expired")
			}
			return tailEndClient
		case <-quit:
			return t.end(tailEndShutdown, "server shutting down")
		case <-p.done:
			return t.endPump(ctx, p)
		case it := <-p.ch:
			t.add(it)
			t.drain(p.ch)
			err = t.flush()
		case <-idle.C:
			err = t.ping()
		}
		if err != nil {
			return tailEndClient
		}
		idle.Reset(t.heartbeat)
	}
}

// start sends the header.
func (t *tailStream) start() error {
	h := t.w.Header()
	if t.ndjson {
		h.Set("Content-Type", ctNDJSONTail)
	} else {
		h.Set("Content-Type", ctEventStream)
	}
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	h.Set(HeaderHeartbeat, t.heartbeat.String())
	h.Set(HeaderTailFrom, strconv.FormatUint(t.next, 10))
	t.w.WriteHeader(http.StatusOK)
	return t.flush()
}

// add appends an event's record to the buffer.
func (t *tailStream) add(it tailItem) {
	b := *t.buf
	if t.ndjson {
		b = append(append(b, it.doc...), '\n')
	} else {
		b = append(b, "id: "...)
		b = strconv.AppendUint(b, it.seq, 10)
		b = append(b, "\ndata: "...)
		b = append(append(b, it.doc...), "\n\n"...)
	}
	*t.buf = b
	t.next = it.seq + 1
}

// drain adds the events already waiting, up to one flush's worth.
func (t *tailStream) drain(ch <-chan tailItem) {
	for n := 1; n < exportFlushEvents && len(*t.buf) < exportFlushBytes; n++ {
		select {
		case it := <-ch:
			t.add(it)
		default:
			return
		}
	}
}

// ping sends a heartbeat: an SSE comment, or an empty NDJSON line.
func (t *tailStream) ping() error {
	if t.ndjson {
		*t.buf = append(*t.buf, '\n')
	} else {
		*t.buf = append(*t.buf, ": ping\n\n"...)
	}
	return t.flush()
}

// flush writes the buffer within a new write deadline.
func (t *tailStream) flush() error {
	if err := t.deadline.extend(); err != nil {
		return err
	}
	if len(*t.buf) > 0 {
		if _, err := t.w.Write(*t.buf); err != nil {
			return err
		}
		*t.buf = (*t.buf)[:0]
	}
	return t.rc.Flush()
}

// endPump ends the stream after the pump: a slow reader, the store
// closing, damaged stored events ahead (named) or a read error.
func (t *tailStream) endPump(ctx context.Context, p *pump) string {
	switch {
	case ctx.Err() != nil:
		return tailEndClient
	case p.slow:
		return t.end(tailEndSlow, "slow reader")
	case errors.Is(p.err, eventlog.ErrClosed):
		return t.end(tailEndClosed, "the store is closed")
	case errors.Is(p.err, eventlog.ErrCorrupt):
		// Stopped before damaged events: resume_from is where they begin.
		return t.end(tailEndError, corruptionReason(p.err))
	}
	return t.end(tailEndError, "internal error")
}

// end writes the last record, {"error":why,"resume_from":next} (as an
// SSE event named error), and returns reason.
func (t *tailStream) end(reason, why string) string {
	b := *t.buf
	if !t.ndjson {
		b = append(b, "event: error\ndata: "...)
	}
	b = append(b, `{"error":`...)
	b = appendString(b, why)
	b = append(b, `,"resume_from":`...)
	b = strconv.AppendUint(b, t.next, 10)
	b = append(b, '}', '\n')
	if !t.ndjson {
		b = append(b, '\n')
	}
	*t.buf = b
	_ = t.flush() // the client may be gone: nothing more to do then
	return reason
}

// flushDeadline sets the write deadline of each flush of a stream, and
// brings it forward to tailEndGrace once the server shuts down, so that a
// write blocked on a client that does not read ends in time.
type flushDeadline struct {
	rc      *http.ResponseController
	timeout time.Duration

	mu    sync.Mutex
	endAt time.Time // no deadline goes past it, once set
}

func (d *flushDeadline) extend() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	t := time.Now().Add(d.timeout)
	if !d.endAt.IsZero() && d.endAt.Before(t) {
		t = d.endAt
	}
	return d.set(t)
}

func (d *flushDeadline) set(t time.Time) error {
	if err := d.rc.SetWriteDeadline(t); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

// endOn brings the deadline forward when quit is closed. The function it
// returns stops watching and waits until the watcher has ended, so that
// nothing touches the response after the handler returns.
func (d *flushDeadline) endOn(quit <-chan struct{}) (stop func()) {
	stopc, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-quit:
			d.mu.Lock()
			defer d.mu.Unlock()
			d.endAt = time.Now().Add(tailEndGrace)
			_ = d.set(d.endAt)
		case <-stopc:
		}
	}()
	return func() {
		close(stopc)
		<-done
	}
}

// streamControl ends the server's long-lived streams when it shuts down.
// The zero value is ready to use.
type streamControl struct {
	mu   sync.Mutex
	quit chan struct{}
	shut bool
}

// done is closed once end is called.
func (c *streamControl) done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.chanLocked()
}

// end tells every stream to end (idempotent).
func (c *streamControl) end() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if q := c.chanLocked(); !c.shut {
		c.shut = true
		close(q)
	}
}

func (c *streamControl) chanLocked() chan struct{} {
	if c.quit == nil {
		c.quit = make(chan struct{})
	}
	return c.quit
}

// EndStreams ends every _tail stream, each with a last record saying
// where to resume, and makes new ones end as soon as they start. Run
// calls it when it shuts down; call it before http.Server.Shutdown when
// serving Handler yourself, since a tail never finishes on its own.
func (s *Server) EndStreams() { s.streams.end() }
