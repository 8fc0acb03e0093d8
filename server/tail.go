package server

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/event"
)

// paramsTail are the query parameters of _tail.
var paramsTail = []string{"filter", "from"}

// Media types of a _tail stream.
const (
	ctEventStream = "text/event-stream"
	ctNDJSONTail  = "application/x-ndjson"
)

// Headers of a _tail answer. HeaderHeartbeat says how often the server
// sends a heartbeat ("15s"): a client that hears nothing for a few of them
// can take the connection for dead. HeaderTailFrom is the sequence number
// the stream starts at, "now" and Last-Event-ID resolved: a client that
// loses the connection before the first event reconnects from there.
const (
	HeaderHeartbeat = "X-Eventlog-Heartbeat"
	HeaderTailFrom  = "X-Eventlog-Tail-From"
)

// handleTail streams the events of the store as they become durable, the
// stored ones first: GET [/s/{space}]/api/events/_tail?filter=KQL&from=N.
//
// from is the first sequence number to send, "beginning" (the default) or
// "now" (events stored from now on); a Last-Event-ID header, which a
// browser's EventSource sends when it reconnects, wins over it and resumes
// after that event. The stream is Server-Sent Events ("id: SEQ" and "data:
// DOCUMENT" per event, ": ping" heartbeats), or NDJSON (a document per line,
// empty lines as heartbeats) when Accept prefers application/x-ndjson.
//
// The stream ends with a last error record carrying resume_from, the
// sequence number to reconnect with, when the client stops taking events
// (slow reader: see Config.MaxTailLag), the server shuts down or the store
// closes; and silently when the client goes away.
func (s *Server) handleTail(w http.ResponseWriter, r *http.Request) error {
	tr, err := s.tailRequest(r, keyOf(w))
	if err != nil {
		return err
	}
	ndjson := prefersNDJSON(r.Header.Get("Accept"))
	ctx, cancel := context.WithCancel(r.Context())
	events, err := s.db.Tail(ctx, tr)
	if err != nil {
		cancel()
		return err
	}
	rc := http.NewResponseController(w)
	// A tail outlives ReadTimeout, whose expiry would cancel the request:
	// the client's liveness is checked by the write deadlines instead.
	_ = rc.SetReadDeadline(time.Time{})
	ts := &tailStream{
		w: w, rc: rc, ndjson: ndjson, next: tr.From,
		heartbeat: s.cfg.HeartbeatInterval,
		deadline:  flushDeadline{rc: rc, timeout: s.cfg.FlushTimeout},
		buf:       getBuf(),
	}
	defer putBuf(ts.buf)
	p := startPump(cancel, events, s.cfg.MaxTailLag, s.cfg.TailStallTimeout, keyOf(w))
	defer p.stop()
	stopWatch := ts.deadline.endOn(s.streams.done())
	defer stopWatch()

	s.metrics.stream.tails.Inc()
	defer s.metrics.stream.tails.Dec()
	reason := ts.run(ctx, p, s.streams.done())
	s.metrics.stream.tailEnds.WithLabelValues(reason).Inc()
	if reason == tailEndError {
		s.log.Error("tail ended by an error", "path", r.URL.Path, "resume_from", ts.next, "error", p.err)
	}
	return nil
}

// tailRequest reads the parameters and the Last-Event-ID header of a
// _tail request into a TailRequest whose From is set (never FromNow), so
// that the handler knows the resume point before any event is sent.
func (s *Server) tailRequest(r *http.Request, k *auth.Key) (eventlog.TailRequest, error) {
	var tr eventlog.TailRequest
	q := r.URL.Query()
	for name, vals := range q {
		if !slices.Contains(paramsTail, name) {
			return tr, errorf(http.StatusBadRequest, typeInvalidRequest,
				"unknown query parameter %q (this route takes: %s)", name, strings.Join(paramsTail, ", "))
		}
		if len(vals) > 1 {
			return tr, errorf(http.StatusBadRequest, typeInvalidRequest, "query parameter %q is given %d times", name, len(vals))
		}
	}
	from, err := s.tailFrom(q.Get("from"), r.Header.Get("Last-Event-ID"))
	if err != nil {
		return tr, err
	}
	tr.From = from
	tr.Filter = q.Get("filter")
	if space := r.PathValue("space"); space != "" {
		// Check the filter as given, so that an error's position is the
		// user's, before it is wrapped.
		if _, err := s.db.Pseudonymizer().ParseFilter(tr.Filter); err != nil {
			return tr, fmt.Errorf("eventlog: tail: %w: %w", eventlog.ErrInvalidRequest, err)
		}
		tr.Filter = inSpaceFilter(tr.Filter, space)
	}
	if tr.Filter, err = restrictTail(k, tr.Filter); err != nil {
		return tr, fmt.Errorf("eventlog: tail: %w", err)
	}
	return tr, nil
}

// tailFrom resolves where a tail starts: after the Last-Event-ID when
// there is one, else from ("", "beginning", "now" or a sequence number).
func (s *Server) tailFrom(from, lastEventID string) (uint64, error) {
	if lastEventID = strings.TrimSpace(lastEventID); lastEventID != "" {
		id, err := strconv.ParseUint(lastEventID, 10, 64)
		if err != nil || id == ^uint64(0) {
			return 0, errorf(http.StatusBadRequest, typeInvalidRequest, "Last-Event-ID %q: want the sequence number of the last event received", lastEventID)
		}
		return id + 1, nil
	}
	switch from {
	case "", "beginning":
		return 1, nil
	case "now":
		st := s.db.Stats()
		return min(st.LastSeq, st.DurableSeq) + 1, nil
	}
	n, err := strconv.ParseUint(from, 10, 64)
	if err != nil {
		return 0, errorf(http.StatusBadRequest, typeInvalidRequest, "from %q: want a sequence number, beginning or now", from)
	}
	return max(n, 1), nil
}

// inSpaceFilter restricts a KQL filter to the events of a Kibana space,
// as query.Request.Space does: an event is in the space when one of its
// saved-object refs is (a ref without a namespace is in "default", which
// the namespace field matches too) or kibana.space_ids lists it; an event
// with neither is in "default" (event.Event.InSpace).
func inSpaceFilter(f, space string) string {
	v := quoteKQL(space)
	in := "kibana.space_ids:" + v + " or kibana.saved_objects.namespace:" + v
	if space == event.DefaultSpace {
		in += " or not (kibana.space_ids:* or kibana.saved_objects:*)"
	}
	if strings.TrimSpace(f) == "" {
		return in
	}
	return "(" + f + ") and (" + in + ")"
}

// quoteKQL quotes s as a KQL value: inside quotes only \" and \\ are
// escapes, and nothing else is special.
func quoteKQL(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// prefersNDJSON reads Accept: the first of text/event-stream and
// application/x-ndjson it lists (with a non-zero q) chooses the form; SSE
// when it lists neither.
func prefersNDJSON(accept string) bool {
	for part := range strings.SplitSeq(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if q, ok := params["q"]; ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				continue
			}
		}
		switch mt {
		case ctEventStream:
			return false
		case ctNDJSONTail:
			return true
		}
	}
	return false
}
