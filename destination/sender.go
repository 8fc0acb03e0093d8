package destination

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/eventlogdb/eventlog/client"
)

// Request headers.
const (
	HeaderTimestamp      = "X-Eventlog-Timestamp"
	HeaderSignature      = "X-Eventlog-Signature"
	HeaderIdempotencyKey = "X-Eventlog-Idempotency-Key"
)

// Sign returns the X-Eventlog-Signature value of body sent at timestamp
// (unix seconds) with secret: "sha256=" and the hex HMAC-SHA256 of
// timestamp + "." + body. Receivers compute the same and compare with
// hmac.Equal.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// sender posts batches with retries.
type sender struct {
	client *http.Client
	// minBackoff and maxBackoff are the first and the largest step of the
	// exponential backoff (see client.NewBackOff).
	minBackoff, maxBackoff time.Duration
	now                    func() time.Time
}

// deliver sends b until it is accepted (nil), the destination parks
// (errParked) or ctx is done, waiting between two tries by the backoff
// every eventlog client uses (client.NewBackOff), or what the receiver's
// Retry-After asks, up to maxBackoff.
func (s *sender) deliver(ctx context.Context, w *worker, b *batch) error {
	t := &try{s: s, w: w, b: b, body: b.body(w.cfg.Format)}
	_, err := backoff.Retry(ctx, func() (struct{}, error) { return struct{}{}, t.once(ctx) },
		backoff.WithBackOff(client.NewBackOff(s.minBackoff, s.maxBackoff)),
		backoff.WithMaxTries(0), backoff.WithMaxElapsedTime(0)) // outages are waited out
	return err
}

// try is the delivery of one batch, across its attempts.
type try struct {
	s       *sender
	w       *worker
	b       *batch
	body    []byte
	refused int // 4xx answers so far
}

// once sends the batch once. Its error is permanent (backoff.Permanent)
// when delivery ends: parked, split in two and delivered, or ctx done.
func (t *try) once(ctx context.Context) error {
	key := t.b.span().key()
	status, retryAfter, err := t.s.post(ctx, t.w.cfg, t.body, key)
	if ctx.Err() != nil {
		return backoff.Permanent(ctx.Err())
	}
	var reason string
	switch {
	case err != nil:
		reason = err.Error()
	case status >= 200 && status < 300:
		return nil
	case status == http.StatusRequestEntityTooLarge && len(t.b.seqs) > 1:
		first, second := t.b.halves()
		if err := t.s.deliver(ctx, t.w, first); err != nil {
			return backoff.Permanent(err)
		}
		return backoff.Permanent(t.s.deliver(ctx, t.w, second))
	case status == http.StatusTooManyRequests || status >= 500:
		reason = fmt.Sprintf("batch %s: receiver answered %d", key, status)
	default:
		t.refused++
		reason = fmt.Sprintf("batch %s: receiver refused it with %d", key, status)
		if t.refused >= t.w.cfg.MaxAttempts {
			return backoff.Permanent(t.w.park(fmt.Sprintf("%s (%d attempts)", reason, t.refused)))
		}
	}
	t.w.retried(reason)
	if retryAfter > 0 {
		return &backoff.RetryAfterError{Duration: min(retryAfter, t.s.maxBackoff)}
	}
	return errors.New(reason)
}

// post sends one request and returns the status and any Retry-After.
func (s *sender) post(ctx context.Context, cfg Config, body []byte, key string) (int, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.URL, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	ct := "application/x-ndjson"
	if cfg.Format == "json" {
		ct = "application/json"
	}
	req.Header.Set("Content-Type", ct)
	for k, v := range cfg.Headers {
		req.Header.Set(k, v)
	}
	ts := strconv.FormatInt(s.now().Unix(), 10)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderIdempotencyKey, key)
	if cfg.Secret != "" {
		req.Header.Set(HeaderSignature, Sign(cfg.Secret, ts, body))
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // reuse the connection
	ra, _ := client.ParseRetryAfter(resp.Header.Get("Retry-After"), s.now())
	return resp.StatusCode, ra, nil
}
