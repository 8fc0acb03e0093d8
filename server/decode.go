package server

import (
	"fmt"
	"net/http"
	"runtime"
	"sync"

	"github.com/eventlogdb/eventlog/event"
)

// minDecodeChunk is the fewest documents worth a goroutine of their own.
const minDecodeChunk = 256

// decodeAll decodes docs[i] into events[i], or its error into errs[i]
// (skipping those whose errs[i] is already set),
// spreading a large batch over the CPUs: decoding is most of an ingest
// request's own work. keep keeps fields outside the schema (Event.Extra)
// instead of failing the document; every ingest route decodes through
// here (the native routes with keepUnknown's answer). shared decodes
// without copying the documents (event.DecodeOptions.Shared): the events
// then borrow docs' memory.
func (s *Server) decodeAll(docs [][]byte, events []event.Event, errs []error, keep, shared bool) {
	opts := event.DecodeOptions{Limits: s.limits(), KeepUnknown: keep, Shared: shared}
	workers := min(runtime.GOMAXPROCS(0), len(docs)/minDecodeChunk)
	if workers <= 1 {
		s.decodeRange(docs, events, errs, opts)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := len(docs)*w/workers, len(docs)*(w+1)/workers
		wg.Go(func() { s.decodeRange(docs[lo:hi], events[lo:hi], errs[lo:hi], opts) })
	}
	wg.Wait()
}

func (s *Server) decodeRange(docs [][]byte, events []event.Event, errs []error, opts event.DecodeOptions) {
	for i, doc := range docs {
		if errs[i] != nil {
			continue // failed before decoding (an Elasticsearch update or delete)
		}
		events[i], errs[i] = s.decode(doc, opts)
	}
}

// decode decodes one event document, bounded by MaxEventBytes.
func (s *Server) decode(raw []byte, opts event.DecodeOptions) (event.Event, error) {
	if int64(len(raw)) > s.cfg.MaxEventBytes {
		return event.Event{}, fmt.Errorf("%w: %d bytes is over the limit of %d bytes", errEventTooLarge, len(raw), s.cfg.MaxEventBytes)
	}
	return event.DecodeWith(raw, opts)
}

// unknownFieldsParam says, per request on the native ingest routes,
// whether fields outside the schema are kept ("keep") or refused
// ("reject"); absent, Config.KeepUnknownFields decides.
const unknownFieldsParam = "unknown_fields"

// keepUnknown reads unknownFieldsParam of r.
func (s *Server) keepUnknown(r *http.Request) (bool, error) {
	switch v := r.URL.Query().Get(unknownFieldsParam); v {
	case "":
		return s.cfg.KeepUnknownFields, nil
	case "keep":
		return true, nil
	case "reject":
		return false, nil
	default:
		return false, errorf(http.StatusBadRequest, typeInvalidRequest, "%s=%q: want keep or reject", unknownFieldsParam, v)
	}
}

// limits are the limits of event.Decode: MaxEventBytes per document, the
// defaults otherwise (the DB's own limits apply again when appending).
func (s *Server) limits() event.Limits {
	return event.Limits{MaxDocumentBytes: int(s.cfg.MaxEventBytes)}
}

// itemError classifies and counts the error of the index-th event.
func (s *Server) itemError(index int, err error) itemError {
	s.metrics.rejected.WithLabelValues(rejectReason(err)).Inc()
	it := eventError(err)
	it.index = index
	return it
}
