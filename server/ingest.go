package server

import (
	"cmp"
	"errors"
	"net/http"
	"slices"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/event"
)

// maxEventsPerRequest bounds the events of one ingest request, so that one
// request is one db.Append (whose batches are capped at 100,000 events) and
// its decoded events stay within bounded memory.
const maxEventsPerRequest = 100_000

// handleIngest stores one event object or a JSON array of them, all or
// nothing: POST /api/events.
func (s *Server) handleIngest(w http.ResponseWriter, r *http.Request) error {
	if err := requireMediaType(r, "application/json"); err != nil {
		return err
	}
	keep, err := s.keepUnknown(r)
	if err != nil {
		return err
	}
	body, err := s.readIngestBody(w, r)
	if err != nil {
		return err
	}
	defer body.release()
	if err := s.chargeBytes(w, len(body.data())); err != nil {
		return err
	}
	work, err := s.acquireWork(w, r, bulkWorkingSet(body.data(), true))
	if err != nil {
		return err
	}
	defer s.releaseWork(work)
	if err := s.acquireWrite(w, r); err != nil {
		return err
	}
	defer s.releaseWrite()
	raws, err := s.splitEvents(body.data())
	if err != nil {
		return err
	}
	events, bad := s.decodeEach(raws, keyOf(w), keep)
	if len(bad) > 0 {
		return s.rejectBatch(events, bad)
	}
	res, err := s.db.Append(r.Context(), events...)
	var invalid *eventlog.InvalidEventsError
	if errors.As(err, &invalid) {
		for _, it := range invalid.Items {
			bad = append(bad, s.itemError(it.Index, it.Err))
		}
		return batchError(bad, len(events))
	}
	if err != nil {
		return writeFailed(err)
	}
	s.metrics.ingested.Add(float64(storedCount(res)))
	if bad := conflicts(res, events); bad != nil {
		e := errorf(http.StatusConflict, typeConflict, "%d of %d events conflict with stored events of the same _id and were not stored (the others were stored or already were); event %d: %s",
			len(bad), len(events), bad[0].index, bad[0].reason)
		e.items = bad
		return e
	}
	out := getBuf()
	defer putBuf(out)
	b := append((*out)[:0], `{"items":[`...)
	for i := range res.Count {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		b = appendItemResult(b, &events[i], res.Seq(i), resultOf(res, i))
		b = append(b, '}')
	}
	*out = append(b, "]}"...)
	writeJSON(w, http.StatusCreated, *out)
	return nil
}

// splitEvents returns the event documents of an ingest body: the body
// itself when it is not an array (then bounded by MaxEventBytes), else the
// array's elements.
func (s *Server) splitEvents(body []byte) ([][]byte, error) {
	i := skipSpace(body, 0)
	switch {
	case i == len(body):
		return nil, errorf(http.StatusBadRequest, typeInvalidRequest, "the body is empty: send an event object or an array of them")
	case body[i] != '[':
		if int64(len(body)) > s.cfg.MaxEventBytes {
			s.metrics.rejected.WithLabelValues(reasonTooLarge).Inc()
			return nil, errorf(http.StatusRequestEntityTooLarge, typeTooLarge,
				"event of %d bytes is over the limit of %d bytes", len(body), s.cfg.MaxEventBytes)
		}
		return [][]byte{body}, nil
	}
	raws, err := splitArray(body[i:])
	if err != nil {
		return nil, errorf(http.StatusBadRequest, typeInvalidRequest, "malformed JSON array: %v", err)
	}
	if len(raws) > maxEventsPerRequest {
		return nil, errorf(http.StatusRequestEntityTooLarge, typeTooLarge,
			"%d events is over the limit of %d per request", len(raws), maxEventsPerRequest)
	}
	return raws, nil
}

// decodeEach decodes every document, returning the events (the zero Event
// where decoding failed) and the errors, by index: an event key k (nil:
// any) may not store is an error too. keep keeps fields outside the schema.
func (s *Server) decodeEach(raws [][]byte, k *auth.Key, keep bool) ([]event.Event, []itemError) {
	events := make([]event.Event, len(raws))
	errs := make([]error, len(raws))
	s.decodeAll(raws, events, errs, keep, false)
	checkScope(k, events, errs)
	var bad []itemError
	for i, err := range errs {
		if err != nil {
			bad = append(bad, s.itemError(i, err))
		}
	}
	return events, bad
}

// rejectBatch completes the errors of a batch some of whose events did not
// decode with those the DB finds in the others, so that the answer names
// every bad event at once.
func (s *Server) rejectBatch(events []event.Event, bad []itemError) error {
	var decoded []event.Event
	var index []int
	next := 0
	for i := range events {
		if next < len(bad) && bad[next].index == i {
			next++
			continue
		}
		decoded = append(decoded, events[i])
		index = append(index, i)
	}
	var invalid *eventlog.InvalidEventsError
	if errors.As(s.db.Validate(decoded...), &invalid) {
		for _, it := range invalid.Items {
			bad = append(bad, s.itemError(index[it.Index], it.Err))
		}
		slices.SortFunc(bad, func(a, b itemError) int { return cmp.Compare(a.index, b.index) })
	}
	return batchError(bad, len(events))
}

// batchError is the answer to a rejected all-or-nothing batch.
func batchError(bad []itemError, n int) error {
	typ, status := typeUnregistered, http.StatusBadRequest
	forbidden := true
	for _, it := range bad {
		if it.typ != typeUnregistered {
			typ = typeInvalidEvent
		}
		forbidden = forbidden && it.typ == typeForbidden
	}
	if forbidden {
		typ, status = typeForbidden, http.StatusForbidden
	}
	e := errorf(status, typ, "%d of %d events invalid, nothing stored; event %d: %s",
		len(bad), n, bad[0].index, bad[0].reason)
	e.items = bad
	return e
}
