package destination

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
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
	// minBackoff and maxBackoff bound the exponential backoff.
	minBackoff, maxBackoff time.Duration
	now                    func() time.Time
}

// deliver sends b until it is accepted (nil), the destination parks
// (errParked) or ctx is done.
func (s *sender) deliver(ctx context.Context, w *worker, b *batch) error {
	body := b.body(w.cfg.Format)
	refused := 0
	for try := 0; ; try++ {
		status, retryAfter, err := s.post(ctx, w.cfg, body, b.span().key())
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var reason string
		switch {
		case err != nil:
			reason = err.Error()
		case status >= 200 && status < 300:
			return nil
		case status == http.StatusRequestEntityTooLarge && len(b.seqs) > 1:
			first, second := b.halves()
			if err := s.deliver(ctx, w, first); err != nil {
				return err
			}
			return s.deliver(ctx, w, second)
		case status == http.StatusTooManyRequests || status >= 500:
			reason = fmt.Sprintf("batch %s: receiver answered %d", b.span().key(), status)
		default:
			refused++
			reason = fmt.Sprintf("batch %s: receiver refused it with %d", b.span().key(), status)
			if refused >= w.cfg.MaxAttempts {
				return w.park(fmt.Sprintf("%s (%d attempts)", reason, refused))
			}
		}
		w.retried(reason)
		if err := sleep(ctx, s.backoff(try, retryAfter)); err != nil {
			return err
		}
	}
}

// backoff is the wait before retry try+1: full jitter over an exponential
// ceiling, or what Retry-After asked when it asked for more.
func (s *sender) backoff(try int, retryAfter time.Duration) time.Duration {
	ceil := s.maxBackoff
	if try < 62 && s.minBackoff <= s.maxBackoff>>try { // no overflow: minBackoff<<try <= maxBackoff
		ceil = s.minBackoff << try
	}
	d := time.Duration(rand.Int64N(int64(ceil)) + 1)
	return max(d, min(retryAfter, s.maxBackoff))
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
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
	var ra time.Duration
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && secs > 0 {
		ra = time.Duration(secs) * time.Second
	}
	return resp.StatusCode, ra, nil
}
