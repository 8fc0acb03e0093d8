package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/eventlogdb/eventlog/query"
)

// Headers of a _tail answer (the server package's HeaderTailFrom and
// HeaderHeartbeat).
const (
	headerTailFrom  = "X-Eventlog-Tail-From"
	headerHeartbeat = "X-Eventlog-Heartbeat"
)

// TailRequest says where a Tail starts and which events it keeps.
type TailRequest struct {
	// From is the sequence number of the first event; 0 is the first one
	// stored.
	From uint64
	// Now starts with the events stored from now on (From is ignored).
	Now bool
	// Filter keeps the events a KQL filter matches ("" keeps all).
	Filter string
	// Space keeps the events of a Kibana space (/s/{space}/api/events/_tail).
	Space string
}

// Tail returns the events req selects as the server stores them, in
// sequence order, for as long as ctx lasts: when the stream ends (the
// server restarting, a slow reader cut off) or the connection drops or
// goes silent past three heartbeats, it connects again after a backoff
// (Options.MinBackoff to MaxBackoff, reported to Options.OnRetry), resuming
// after the last event it yielded with Last-Event-ID, so no event is
// yielded twice or skipped. It ends without an error when ctx is done, and
// with one when the server refuses the request (a bad filter).
func (c *Client) Tail(ctx context.Context, req TailRequest) iter.Seq2[query.Hit, error] {
	return func(yield func(query.Hit, error) bool) {
		t := &tail{c: c, req: req, next: max(req.From, 1), now: req.Now, yield: yield}
		_, err := backoff.Retry(ctx, func() (struct{}, error) { return struct{}{}, t.connect(ctx) }, c.retryOptions(0)...)
		if err = unwrapRetry(err); err != nil && !errors.Is(err, errStopped) && ctx.Err() == nil {
			yield(query.Hit{}, err)
		}
	}
}

// errStopped ends a Tail whose loop stopped.
var errStopped = errors.New("stopped")

// tail is the state of a Tail across its connections.
type tail struct {
	c     *Client
	req   TailRequest
	next  uint64 // the sequence number to resume from
	now   bool   // no stream has said where "now" is yet
	yield func(query.Hit, error) bool
}

// connect reads one stream and says how to go on: a permanent error ends
// the Tail, any other reconnects, at once after the backoff is reset when
// the stream brought events.
func (t *tail) connect(ctx context.Context) error {
	n, err := t.stream(ctx)
	var ae *APIError
	switch {
	case errors.Is(err, errStopped), errors.As(err, &ae) && ae.Status/100 == 4 && ae.Status != http.StatusTooManyRequests:
		return backoff.Permanent(err)
	case errors.As(err, &ae) && ae.RetryAfter > 0:
		return &retryAfter{err: err, wait: min(ae.RetryAfter, t.c.opts.MaxRetryWait)}
	case n > 0:
		return &retryAfter{err: err, wait: t.c.opts.MinBackoff}
	}
	return err
}

// stream reads one _tail stream, yielding its events, and returns how many
// it yielded and why it ended.
func (t *tail) stream(ctx context.Context) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, err := t.open(ctx)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if from, err := strconv.ParseUint(resp.Header.Get(headerTailFrom), 10, 64); err == nil && t.now {
		t.next, t.now = from, false
	}
	idle := 30 * time.Second
	if hb, err := time.ParseDuration(resp.Header.Get(headerHeartbeat)); err == nil {
		idle = max(3*hb, time.Second)
	}
	var silent atomic.Bool
	watchdog := time.AfterFunc(idle, func() { silent.Store(true); cancel() })
	defer watchdog.Stop()
	ls := newLines(resp.Body)
	for n := 0; ; n++ {
		line, err := ls.next()
		for err == nil && isBlank(line) { // heartbeats
			watchdog.Reset(idle)
			line, err = ls.next()
		}
		watchdog.Reset(idle)
		if silent.Load() {
			return n, fmt.Errorf("eventlog client: _tail: nothing from the server, not even a heartbeat, in %v", idle)
		}
		if err != nil {
			return n, t.ended(err)
		}
		if err := t.line(line); err != nil {
			return n, err
		}
	}
}

// line yields the event of a line, or returns why the line ended the
// stream.
func (t *tail) line(line []byte) error {
	if bytes.HasPrefix(line, []byte(`{"error"`)) {
		return t.endRecord(line)
	}
	h, err := decodeHit(line)
	if err != nil {
		return wrap("_tail", err)
	}
	if !t.yield(h, nil) {
		return errStopped
	}
	t.next = h.Seq + 1
	return nil
}

// ended is the error of a stream whose reading failed.
func (t *tail) ended(err error) error {
	if err == io.EOF {
		return errors.New("eventlog client: _tail: the server ended the stream")
	}
	return wrap("_tail", err)
}

// tailEnd is the last record of a stream.
type tailEnd struct {
	Error      string `json:"error"`
	ResumeFrom uint64 `json:"resume_from"`
}

// endRecord takes the resume point of a stream's last record and returns
// its reason as the error.
func (t *tail) endRecord(line []byte) error {
	var end tailEnd
	if err := json.Unmarshal(line, &end); err != nil || end.ResumeFrom == 0 {
		return fmt.Errorf("eventlog client: _tail: bad last record %.100q", line)
	}
	t.next, t.now = end.ResumeFrom, false
	return fmt.Errorf("eventlog client: _tail: the server ended the stream: %s", end.Error)
}

// open sends the _tail request for the resume point and returns the
// stream, or the server's error.
func (t *tail) open(ctx context.Context) (*http.Response, error) {
	r := request{method: http.MethodGet, path: "api/events/_tail", params: url.Values{}, header: http.Header{"Accept": {"application/x-ndjson"}}}
	if t.req.Space != "" {
		r.path = "s/" + url.PathEscape(t.req.Space) + "/" + r.path
	}
	switch {
	case t.now:
		r.params.Set("from", "now")
	case t.next <= 1:
		r.params.Set("from", "beginning")
	default: // Last-Event-ID wins; from says the same to a proxy that drops it
		r.params.Set("from", strconv.FormatUint(t.next, 10))
		r.header.Set("Last-Event-ID", strconv.FormatUint(t.next-1, 10))
	}
	if t.req.Filter != "" {
		r.params.Set("filter", t.req.Filter)
	}
	req, err := t.c.newRequest(ctx, r)
	if err != nil {
		return nil, err
	}
	resp, err := t.c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("eventlog client: _tail: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, readAPIError(resp, time.Now())
	}
	return resp, nil
}
