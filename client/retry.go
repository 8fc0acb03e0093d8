package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// NewBackOff returns the exponential backoff with jitter the client waits
// by between two attempts: from min, growing 1.5 times per attempt, up to
// max, each wait drawn within ±50% of its step. Destinations and the CLI
// use it too, so that every retry in eventlog waits the same way.
func NewBackOff(min, max time.Duration) *backoff.ExponentialBackOff {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval = min, max
	return b
}

// retryOptions are the options of backoff.Retry for at most maxTries
// attempts (0: no limit), reporting each retry to OnRetry.
func (c *Client) retryOptions(maxTries int) []backoff.RetryOption {
	opts := []backoff.RetryOption{
		backoff.WithBackOff(NewBackOff(c.opts.MinBackoff, c.opts.MaxBackoff)),
		backoff.WithMaxTries(uint(maxTries)),
		backoff.WithMaxElapsedTime(0), // maxTries bounds it
	}
	if c.opts.OnRetry != nil {
		opts = append(opts, backoff.WithNotify(func(err error, d time.Duration) { c.opts.OnRetry(unwrapRetry(err), d) }))
	}
	return opts
}

// networkError classifies a failed round trip: a read is tried again, and
// so is a write whose connection was never made; any other write may have
// reached the server, so its outcome is unknown and it is not sent again.
func (c *Client) networkError(ctx context.Context, r request, err error) error {
	err = fmt.Errorf("eventlog client: %s %s: %w", r.method, r.path, err)
	switch {
	case ctx.Err() != nil, isTLSMismatch(err):
		return backoff.Permanent(err)
	case !r.write || isDial(err):
		return err
	}
	return backoff.Permanent(fmt.Errorf("%w: %w", ErrOutcomeUnknown, err))
}

// isTLSMismatch reports an error that asking again cannot fix: the
// server's certificate failed verification (an unknown CA, a wrong name,
// expired), the server refused the handshake (an alert: no or a wrong
// client certificate), or it does not speak TLS at all.
func isTLSMismatch(err error) bool {
	var verify *tls.CertificateVerificationError
	var record tls.RecordHeaderError
	var op *net.OpError // crypto/tls reports a received alert as Op "remote error"
	return errors.As(err, &verify) || errors.As(err, &record) || errors.As(err, &op) && op.Op == "remote error"
}

// answerError classifies an error answer: 429 and 503 are tried again,
// after what Retry-After asks when it asks, unless the server says the
// outcome of a write is unknown; other answers are final.
func (c *Client) answerError(r request, e *APIError) error {
	retried := e.Status == http.StatusTooManyRequests ||
		(e.Status == http.StatusServiceUnavailable && e.Outcome != OutcomeUnknown)
	if !retried {
		return backoff.Permanent(e)
	}
	if e.RetryAfter > 0 {
		return &retryAfter{err: e, wait: min(e.RetryAfter, c.opts.MaxRetryWait)}
	}
	return e
}

// retryAfter is a retried error with the wait the server asked for, which
// backoff.Retry takes in place of its own.
type retryAfter struct {
	err  error
	wait time.Duration
}

func (e *retryAfter) Error() string { return e.err.Error() }

// Unwrap gives the error and, to backoff.Retry, the wait.
func (e *retryAfter) Unwrap() []error {
	return []error{e.err, &backoff.RetryAfterError{Duration: e.wait}}
}

// unwrapRetry strips the markers of the retry policy from the error
// backoff.Retry returns, leaving the request's own.
func unwrapRetry(err error) error {
	var p *backoff.PermanentError
	if errors.As(err, &p) {
		err = p.Err
	}
	var ra *retryAfter
	if errors.As(err, &ra) {
		err = ra.err
	}
	return err
}
