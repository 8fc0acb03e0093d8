package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/eventlogdb/eventlog/auth"
)

// wrap makes rt's handler a route: it authenticates and authorises the
// request (access.go), sets the write deadline of ordinary routes
// (streaming ones extend theirs per flush, and end when their key is
// revoked or expires), answers the handler's error as JSON, recovers a
// panic as a 500, records the audit event of the route's rule, counts the
// request by route and status and logs it at debug level.
func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w, es: rt.es}
		if rt.es {
			w.Header().Set(esProductHeader, esProduct) // on every answer, refusals included
		}
		if !rt.streaming {
			// Not every ResponseWriter has deadlines (httptest's recorder).
			_ = http.NewResponseController(w).SetWriteDeadline(start.Add(s.cfg.RequestTimeout))
		}
		defer s.finish(rec, r, rt.pattern, start)
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					rec.aborted = true
					panic(p)
				}
				s.log.Error("panic in handler", "route", rt.pattern, "panic", p, "stack", string(debug.Stack()))
				s.writeError(rec, r, errorf(http.StatusInternalServerError, typeInternal, "internal error"))
			}
		}()
		k, err := s.authorize(rec, r, &rt)
		if err != nil {
			s.writeError(rec, r, err)
			return
		}
		rec.key = k
		if rt.streaming && k != nil {
			var stop func()
			r, stop = s.endOnRevoke(r, k.ID)
			defer stop()
		}
		err = rt.h(rec, r)
		if err != nil {
			s.writeError(rec, r, err)
		}
		if rt.rule.audit != "" {
			s.auditRoute(r, rec, rt.rule.audit, err)
		}
	})
}

// endOnRevoke returns r with a context that ends once the key id is
// revoked or expires, checked every Config.KeyCheckInterval, so that an
// open stream (_tail, _export) does not outlive its key; stop ends the
// watch.
func (s *Server) endOnRevoke(r *http.Request, id string) (*http.Request, func()) {
	ctx, cancel := context.WithCancelCause(r.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(s.cfg.KeyCheckInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				if !s.keys.Active(id, now) {
					s.log.Info("stream ended: its key was revoked or expired", "key_id", id, "path", r.URL.Path)
					cancel(errKeyEnded)
					return
				}
			}
		}
	}()
	return r.WithContext(ctx), func() { cancel(nil); <-done }
}

// errKeyEnded is the cause of the end of a stream whose key was revoked
// or expired.
var errKeyEnded = errors.New("the key was revoked or has expired")

// writeError answers err as JSON, unless the answer has started (then the
// error is only logged). Internal errors are logged at error level with
// their cause; the client gets a generic reason.
func (s *Server) writeError(w *recorder, r *http.Request, err error) {
	e := asAPIError(err)
	switch {
	case e.status >= 500:
		s.log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", e.status), slog.Any("error", causeOf(e, err)))
	case s.log.Enabled(r.Context(), slog.LevelDebug):
		s.log.LogAttrs(r.Context(), slog.LevelDebug, "request rejected",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", e.status), slog.String("type", e.typ), slog.String("reason", e.reason))
	}
	if w.status != 0 {
		return
	}
	if e.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	buf := getBuf()
	defer putBuf(buf)
	if w.es {
		*buf = appendESError((*buf)[:0], e)
	} else {
		*buf = appendError((*buf)[:0], e)
	}
	writeJSON(w, e.status, *buf)
}

func causeOf(e *apiError, err error) error {
	if e.cause != nil {
		return e.cause
	}
	return err
}

// finish counts and logs a finished request.
func (s *Server) finish(rec *recorder, r *http.Request, route string, start time.Time) {
	status := rec.status
	switch {
	case rec.aborted:
		status = statusClientClosed
	case status == 0:
		status = http.StatusOK
	}
	s.metrics.httpRequests.WithLabelValues(route, statusLabel(status)).Inc()
	if !s.log.Enabled(r.Context(), slog.LevelDebug) {
		return
	}
	s.log.LogAttrs(r.Context(), slog.LevelDebug, "request",
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", status), slog.Duration("duration", time.Since(start)),
		slog.Int64("bytes", rec.bytes))
}

// statusLabel returns the decimal text of a status code, without
// allocating for the common ones.
func statusLabel(code int) string {
	switch code {
	case 200:
		return "200"
	case 201:
		return "201"
	case 400:
		return "400"
	}
	return strconv.Itoa(code)
}

// recorder remembers the status and the body size of an answer. Unwrap
// lets http.ResponseController reach the connection's deadlines and Flush.
// It also carries the key the request authenticated with (keyOf), which
// a context value would cost two allocations per request to carry.
type recorder struct {
	http.ResponseWriter
	status  int
	bytes   int64
	aborted bool
	key     *auth.Key
	es      bool // an Elasticsearch-compatible route: errors in its shape
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 && code >= 200 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// slogPrinter adapts a slog.Logger to promhttp's error log.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) {
	p.log.Error("metrics: " + fmt.Sprint(v...))
}
