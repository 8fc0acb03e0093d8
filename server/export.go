package server

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/query"
)

// Export flushes every exportFlushEvents events, or sooner once
// exportFlushBytes are buffered, and at the end.
const (
	exportFlushEvents = 1000
	exportFlushBytes  = 256 << 10
)

// exportErrorTrailer is the HTTP trailer an export that fails after its
// first event ends with: "TYPE: REASON", as in the error line before it.
// It is declared in every export's Trailer header and absent from a
// complete one.
const exportErrorTrailer = "X-Eventlog-Error"

// handleExport streams every match of a query as NDJSON, in the query's
// order and in constant memory: GET|POST [/s/{space}]/api/events/_export.
// Each flush extends the write deadline by FlushTimeout. An error before the
// first event is answered as JSON; after it, the export never ends silently
// short: its last line is the error answer's object
// ({"status":N,"error":{"type":...,"reason":...}}, e.g. type "corruption"
// naming a damaged segment block), repeated in the X-Eventlog-Error
// trailer. When the client is gone the connection is cut. With
// bundle=true it answers an evidence bundle instead (export_bundle.go).
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) error {
	sr, err := s.searchFromRequest(w, r, paramsExport)
	if err != nil {
		return err
	}
	if set := pagingFields(&sr.req); len(set) > 0 || len(sr.req.Aggs) > 0 {
		return errorf(http.StatusBadRequest, typeInvalidRequest,
			"_export streams every match: it takes no page, per_page, search_after or aggs (got %s)",
			strings.Join(append(set, aggsField(sr.req.Aggs)...), ", "))
	}
	if v := r.URL.Query().Get("bundle"); v != "" {
		bundle, err := parseBool("bundle", v)
		if err != nil {
			return err
		}
		if bundle {
			return s.exportBundle(w, r, sr.req) // export_bundle.go
		}
	}
	ex := &exporter{w: w, key: keyOf(w), rc: http.NewResponseController(w), timeout: s.cfg.FlushTimeout, buf: getBuf()}
	defer putBuf(ex.buf)
	start := time.Now()
	err = s.db.ExportHits(r.Context(), sr.req, ex.hit)
	if err == nil {
		err = ex.flush()
	}
	s.metrics.observeQuery(endpointExport, start)
	if err == nil || !ex.started {
		return err
	}
	if ex.writeErr != nil || r.Context().Err() != nil {
		s.log.Debug("export cut short: the client went away", "path", r.URL.Path, "events", ex.events, "error", err)
		panic(http.ErrAbortHandler)
	}
	s.log.Error("export failed after its first events; its last line says so", "path", r.URL.Path, "events", ex.events, "error", err)
	if ex.fail(asAPIError(err)) != nil {
		panic(http.ErrAbortHandler) // the client cannot be told: cut it off
	}
	return nil
}

func aggsField(aggs map[string]query.Agg) []string {
	if len(aggs) > 0 {
		return []string{"aggs"}
	}
	return nil
}

// exporter writes hits as NDJSON, flushing as it goes.
type exporter struct {
	w        http.ResponseWriter
	key      *auth.Key // events are sent as it may see them
	rc       *http.ResponseController
	timeout  time.Duration
	buf      *[]byte
	events   int
	started  bool  // the header is sent
	writeErr error // the error of a write to the client
}

func (e *exporter) hit(h *query.Hit) error {
	b := appendShown(*e.buf, e.key, h.Seq, &h.Event)
	*e.buf = append(b, '\n')
	e.events++
	if e.events%exportFlushEvents == 0 || len(*e.buf) >= exportFlushBytes {
		return e.flush()
	}
	return nil
}

// flush sends the buffered events (and the header, the first time) within
// a new write deadline.
func (e *exporter) flush() error {
	if err := e.rc.SetWriteDeadline(time.Now().Add(e.timeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	if !e.started {
		e.started = true
		e.w.Header().Set("Content-Type", "application/x-ndjson")
		e.w.Header().Set("Trailer", exportErrorTrailer)
		e.w.WriteHeader(http.StatusOK)
	}
	if _, err := e.w.Write(*e.buf); err != nil {
		e.writeErr = err
		return err
	}
	*e.buf = (*e.buf)[:0]
	if err := e.rc.Flush(); err != nil {
		e.writeErr = err
		return err
	}
	return nil
}

// fail ends a started export with the error ae: its object as the last
// line, and the X-Eventlog-Error trailer.
func (e *exporter) fail(ae *apiError) error {
	b := appendError(*e.buf, ae)
	*e.buf = append(b, '\n')
	e.w.Header().Set(exportErrorTrailer, ae.typ+": "+strings.Map(noControl, ae.reason))
	return e.flush()
}

// noControl maps the control characters a header value must not hold to
// spaces.
func noControl(r rune) rune {
	if r < 0x20 || r == 0x7f {
		return ' '
	}
	return r
}
