package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/eventlogdb/eventlog/query"
	"github.com/eventlogdb/eventlog/server"
)

// The backoff of tail --url between two connections, doubled after each
// failure in a row up to the maximum.
const (
	tailMinBackoff = 100 * time.Millisecond
	tailMaxBackoff = 5 * time.Second
)

// follow tails the server's _tail (NDJSON), sending each event to out,
// until ctx is done. When the stream ends (a slow reader cut off, the
// server restarting) or the connection drops, it connects again from
// where it stopped, after a bounded backoff, saying so on stderr. A
// refusal of the request itself (a bad filter) is an error.
func (c *apiClient) follow(ctx context.Context, start tailStart, filter string, out chan<- query.Hit, stderr io.Writer) error {
	pos, backoff := start, tailMinBackoff
	for {
		n, err := c.tailOnce(ctx, &pos, filter, out)
		if ctx.Err() != nil {
			return nil
		}
		var ae *apiError
		if errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 && ae.Status != http.StatusTooManyRequests {
			return err
		}
		if n > 0 {
			backoff = tailMinBackoff
		}
		fmt.Fprintf(stderr, "eventlog tail: %v; reconnecting in %v from %s\n", err, backoff, pos)
		if sleep(ctx, backoff) != nil {
			return nil
		}
		backoff = min(2*backoff, tailMaxBackoff)
	}
}

func (s tailStart) String() string {
	if s.now {
		return "now"
	}
	return strconv.FormatUint(s.seq, 10)
}

// tailEnd is the last record of a stream.
type tailEnd struct {
	Error      string `json:"error"`
	ResumeFrom uint64 `json:"resume_from"`
}

// tailOnce reads one _tail stream from pos, moving pos past each event it
// sends, and returns how many it sent and why the stream ended. A stream
// silent for a few heartbeats is taken for dead.
func (c *apiClient) tailOnce(ctx context.Context, pos *tailStart, filter string, out chan<- query.Hit) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	resp, err := c.openTail(ctx, *pos, filter)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if from, err := strconv.ParseUint(resp.Header.Get(server.HeaderTailFrom), 10, 64); err == nil {
		*pos = tailStart{seq: from} // "now", resolved
	}
	idle := 30 * time.Second
	if hb, err := time.ParseDuration(resp.Header.Get(server.HeaderHeartbeat)); err == nil {
		idle = max(3*hb, time.Second)
	}
	var silent atomic.Bool
	watchdog := time.AfterFunc(idle, func() { silent.Store(true); cancel() })
	defer watchdog.Stop()
	lr := newLineReader(resp.Body, 1<<30)
	n := 0
	for {
		line, err := lr.next()
		if silent.Load() {
			return n, fmt.Errorf("nothing from the server, not even a heartbeat, in %v", idle)
		}
		watchdog.Reset(idle)
		switch {
		case err == io.EOF:
			return n, errors.New("the server ended the stream")
		case err != nil:
			return n, err
		case isBlank(line): // a heartbeat
			continue
		case bytes.HasPrefix(line, []byte(`{"error"`)):
			var end tailEnd
			if err := json.Unmarshal(line, &end); err != nil || end.ResumeFrom == 0 {
				return n, fmt.Errorf("_tail: bad last record %.100q", line)
			}
			*pos = tailStart{seq: end.ResumeFrom}
			return n, errors.New(end.Error)
		}
		h, err := decodeAPIEvent(line)
		if err != nil {
			return n, fmt.Errorf("_tail: %w", err)
		}
		select {
		case out <- h:
		case <-ctx.Done():
			return n, ctx.Err()
		}
		n++
		*pos = tailStart{seq: h.Seq + 1}
	}
}

// openTail sends the _tail request and returns the stream, or the
// server's error.
func (c *apiClient) openTail(ctx context.Context, pos tailStart, filter string) (*http.Response, error) {
	q := url.Values{"from": {pos.String()}}
	if filter != "" {
		q.Set("filter", filter)
	}
	u := c.base.JoinPath("api/events/_tail")
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/x-ndjson")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, readAPIError(resp)
	}
	return resp, nil
}
