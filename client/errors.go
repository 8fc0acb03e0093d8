package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Outcomes of a failed write, as the server's error answers say them.
const (
	// OutcomeUnknown: the events were written but may not be durable.
	OutcomeUnknown = "unknown"
	// OutcomeNotStored: nothing of the request was stored.
	OutcomeNotStored = "not_stored"
)

// ErrOutcomeUnknown is matched (errors.Is) by the error of a write whose
// events may or may not be stored: the server said "outcome":"unknown", or
// the connection failed after the request may have reached it. Look for
// the events, or deduplicate, before sending them again.
var ErrOutcomeUnknown = errors.New("eventlog client: outcome unknown: the events may or may not be stored")

// APIError is an error answer of the server:
// {"status":N,"error":{"type":T,"reason":R},"outcome":O}.
type APIError struct {
	// Status is the HTTP status.
	Status int
	// Type is the server's error type ("invalid_request", "overloaded",
	// "storage_failed", ...), or "http" for an answer that is not the
	// server's JSON (a proxy's, say).
	Type string
	// Reason says what went wrong, in the server's words.
	Reason string
	// Outcome is OutcomeUnknown or OutcomeNotStored for a failed write,
	// "" when the question does not arise.
	Outcome string
	// RetryAfter is what the Retry-After header asked (0: nothing).
	RetryAfter time.Duration
}

// Error names the status and type with the reason.
func (e *APIError) Error() string {
	return fmt.Sprintf("eventlog server: %d %s: %s", e.Status, e.Type, e.Reason)
}

// Is matches ErrOutcomeUnknown when the server said the outcome is unknown.
func (e *APIError) Is(target error) bool {
	return target == ErrOutcomeUnknown && e.Outcome == OutcomeUnknown
}

// errorBody is the JSON of an error answer.
type errorBody struct {
	Status int `json:"status"`
	Error  struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
	Outcome string `json:"outcome"`
}

// apiError returns the APIError the JSON b holds, or nil when b is not an
// error answer.
func apiError(b []byte, status int) *APIError {
	var body errorBody
	if json.Unmarshal(b, &body) != nil || body.Error.Reason == "" {
		return nil
	}
	if body.Status != 0 {
		status = body.Status
	}
	return &APIError{Status: status, Type: body.Error.Type, Reason: body.Error.Reason, Outcome: body.Outcome}
}

// readAPIError decodes a non-2xx answer, or describes one that is not the
// server's JSON.
func readAPIError(resp *http.Response, now time.Time) *APIError {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := apiError(b, resp.StatusCode)
	if e == nil {
		e = &APIError{Status: resp.StatusCode, Type: "http", Reason: strings.TrimSpace(resp.Status + " " + string(bytes.TrimSpace(b)))}
	}
	e.Status = resp.StatusCode
	e.RetryAfter, _ = ParseRetryAfter(resp.Header.Get("Retry-After"), now)
	return e
}

// ParseRetryAfter returns how long a Retry-After header value asks to wait:
// delay-seconds or an HTTP date (RFC 9110, section 10.2.3), never less
// than 0. ok is false when h is empty or neither.
func ParseRetryAfter(h string, now time.Time) (d time.Duration, ok bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	if s, err := strconv.ParseUint(h, 10, 32); err == nil {
		return time.Duration(s) * time.Second, true
	}
	t, err := http.ParseTime(h)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// wrap adds the route to an error of the client's own (a bad answer, a
// stream cut short); the server's *APIError goes as it is.
func wrap(route string, err error) error {
	var ae *APIError
	if errors.As(err, &ae) {
		return err
	}
	return fmt.Errorf("eventlog client: %s: %w", route, err)
}
