package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"syscall"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/tiering"
	"github.com/eventlogdb/eventlog/wal"
)

// Error types of the API (the "type" of an error response).
const (
	typeInvalidRequest   = "invalid_request"
	typeInvalidEvent     = "invalid_event"
	typeUnregistered     = "unregistered"
	typeTooLarge         = "payload_too_large"
	typeUnsupportedMedia = "unsupported_media_type"
	typeOverloaded       = "overloaded"
	typeNotFound         = "not_found"
	typeMethodNotAllowed = "method_not_allowed"
	typeReadOnly         = "read_only"
	typeUnavailable      = "unavailable"
	typeCancelled        = "cancelled"
	typeInternal         = "internal"
	typeDiskFull         = "disk_full"
	typeStorageFailed    = "storage_failed"
	typeRequestTimeout   = "request_timeout"
)

// Outcomes of a failed write (the "outcome" of its error answer): whether
// the batch may have been stored.
const (
	// outcomeUnknown: the batch was written but may not be durable; the
	// client should look for its events or deduplicate, not blindly retry.
	outcomeUnknown = "unknown"
	// outcomeNotStored: nothing of the batch was stored; a retry is safe.
	outcomeNotStored = "not_stored"
)

// typeCorruption answers a read that reached damaged stored events (500):
// the reason names the segment file and block.
const typeCorruption = "corruption"

// statusClientClosed is the status logged (never seen by the client) when
// the client went away before the answer: nginx's 499.
const statusClientClosed = 499

// apiError is an error answer: its status, type and reason, and for a
// rejected batch the error of each bad event.
type apiError struct {
	status int
	typ    string
	reason string
	items  []itemError
	// outcome says, for a write failed by storage, whether it may have
	// been stored ("" when the question does not arise).
	outcome string
	// cause is the underlying error of an internal error: logged, never
	// sent.
	cause error
	// retryAfter, when positive, is sent as the Retry-After header, in
	// seconds.
	retryAfter int
}

func (e *apiError) Error() string { return e.typ + ": " + e.reason }

// itemError is the error of one event of a batch, with its index in the
// batch.
type itemError struct {
	index, status int
	typ, reason   string
}

func errorf(status int, typ, format string, args ...any) *apiError {
	return &apiError{status: status, typ: typ, reason: fmt.Sprintf(format, args...)}
}

// errEventTooLarge marks an event over Config.MaxEventBytes.
var errEventTooLarge = errors.New("event too large")

// asAPIError maps an error of a handler or of the engine to its answer.
func asAPIError(err error) *apiError {
	var ae *apiError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &mbe):
		return errorf(http.StatusRequestEntityTooLarge, typeTooLarge, "request body is over the limit of %d bytes", mbe.Limit)
	case errors.Is(err, eventlog.ErrInvalidRequest):
		return errorf(http.StatusBadRequest, typeInvalidRequest, "%s", err)
	case errors.Is(err, eventlog.ErrReadOnly):
		return errorf(http.StatusForbidden, typeReadOnly, "the store is open read-only")
	case errors.Is(err, eventlog.ErrClosed):
		return errorf(http.StatusServiceUnavailable, typeUnavailable, "the store is closed")
	case errors.Is(err, tiering.ErrSegmentGone): // a query node that lagged: it is reloading
		e := errorf(http.StatusServiceUnavailable, typeUnavailable, "a segment this query node read is gone from the object store "+
			"(the writer deleted it after the delete grace: the node lagged); the node is reading the latest manifest: retry")
		e.cause, e.retryAfter = err, 1
		return e
	case errors.Is(err, eventlog.ErrMemoryFull): // a query's working set found no room in time
		e := errorf(http.StatusTooManyRequests, typeOverloaded, "%s", strings.TrimPrefix(err.Error(), "eventlog: "))
		e.retryAfter = 1
		return e
	case errors.Is(err, eventlog.ErrCorrupt):
		return &apiError{status: http.StatusInternalServerError, typ: typeCorruption, reason: corruptionReason(err), cause: err}
	case errors.Is(err, context.Canceled):
		return errorf(statusClientClosed, typeCancelled, "the request was cancelled")
	case errors.Is(err, context.DeadlineExceeded):
		return errorf(http.StatusServiceUnavailable, typeUnavailable, "the request timed out")
	}
	if e := storageError(err); e != nil {
		return e
	}
	return &apiError{status: http.StatusInternalServerError, typ: typeInternal, reason: "internal error", cause: err}
}

// storageError maps a storage fault to its answer, or returns nil: an
// unknown outcome or another I/O failure is 503 storage_failed, a full disk
// 507 disk_full naming the data directory. An unknown outcome comes first:
// the WAL is then poisoned, and freeing space would not help.
func storageError(err error) *apiError {
	var full *eventlog.DiskFullError
	var pathErr *fs.PathError
	var e *apiError
	switch {
	case errors.Is(err, eventlog.ErrNotShipped): // --sync-to-object-store
		e = errorf(http.StatusServiceUnavailable, typeStorageFailed,
			"the events are in this server's write-ahead log, but their copy in the object store was not confirmed (%v): "+
				"they are kept here and the upload is retried; look for them (or deduplicate) before retrying", err)
		e.outcome = outcomeUnknown
	case errors.Is(err, eventlog.ErrShipBacklog): // --sync-to-object-store, the bucket failing for long
		e = errorf(http.StatusServiceUnavailable, typeStorageFailed,
			"nothing was stored: too many events wait for their copy in the object store (%v); retry once it answers", err)
	case errors.Is(err, eventlog.ErrOutcomeUnknown):
		e = errorf(http.StatusServiceUnavailable, typeStorageFailed,
			"the events were written but their fsync failed: they may or may not be stored; "+
				"look for them (or deduplicate) before retrying. The store takes no writes until it is reopened (restart the server)")
		e.outcome = outcomeUnknown
	case errors.As(err, &full):
		e = errorf(http.StatusInsufficientStorage, typeDiskFull,
			"no space left on the disk of data directory %s; retry once space is freed", full.Dir)
	case errors.Is(err, syscall.ENOSPC):
		e = errorf(http.StatusInsufficientStorage, typeDiskFull, "no space left on the disk of the data directory; retry once space is freed")
	case errors.Is(err, wal.ErrPoisoned):
		e = errorf(http.StatusServiceUnavailable, typeStorageFailed,
			"the write-ahead log is poisoned by an earlier I/O failure; the store takes no writes until it is reopened (restart the server)")
	case errors.As(err, &pathErr):
		e = errorf(http.StatusServiceUnavailable, typeStorageFailed, "storage I/O failed: %s %s: %v", pathErr.Op, pathErr.Path, pathErr.Err)
	default:
		return nil
	}
	e.cause = err
	return e
}

// writeFailed is the answer to a failed write (an Append, a delete): a
// storage fault's answer also says whether the batch was stored (see
// eventlog.ErrOutcomeUnknown: any other error of Append stored nothing).
func writeFailed(err error) error {
	e := storageError(err)
	if e == nil {
		return err
	}
	if e.outcome == "" {
		e.outcome = outcomeNotStored
	}
	return e
}

// corruptionReason is the reason of a corruption answer: the damaged range
// and what to do, without the engine's wrapping.
func corruptionReason(err error) string {
	var ce *eventlog.CorruptionError
	if errors.As(err, &ce) {
		return ce.Error()
	}
	return err.Error()
}

// eventError classifies the error of one event.
func eventError(err error) itemError {
	if it, ok := forbiddenItem(err); ok {
		return it
	}
	var ee *esItemError
	if errors.As(err, &ee) {
		return itemError{status: ee.status, typ: ee.typ, reason: ee.reason}
	}
	switch {
	case errors.Is(err, errEventTooLarge):
		return itemError{status: http.StatusRequestEntityTooLarge, typ: typeTooLarge, reason: err.Error()}
	case errors.Is(err, eventlog.ErrUnregistered):
		return itemError{status: http.StatusBadRequest, typ: typeUnregistered, reason: err.Error()}
	}
	return itemError{status: http.StatusBadRequest, typ: typeInvalidEvent, reason: err.Error()}
}

// Reasons of the events_rejected_total counter.
const (
	reasonInvalid      = "invalid"
	reasonMalformed    = "malformed"
	reasonUnregistered = "unregistered"
	reasonTooLarge     = "too_large"
	reasonForbidden    = "forbidden"
)

var rejectReasons = []string{reasonInvalid, reasonMalformed, reasonUnregistered, reasonTooLarge, reasonForbidden}

// rejectReason is the metric reason of an event's error.
func rejectReason(err error) string {
	switch {
	case errors.Is(err, errOutOfScope):
		return reasonForbidden
	case errors.Is(err, errEventTooLarge):
		return reasonTooLarge
	case errors.Is(err, eventlog.ErrUnregistered):
		return reasonUnregistered
	case errors.Is(err, event.ErrSyntax):
		return reasonMalformed
	}
	return reasonInvalid
}
