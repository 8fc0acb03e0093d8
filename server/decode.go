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
	spread(len(docs), func(_, lo, hi int) { s.decodeRange(docs[lo:hi], events[lo:hi], errs[lo:hi], opts) })
}

// spread splits n items into decodeWorkers(n) ranges, calls fn(w, lo, hi)
// for the w-th range [lo, hi), in a goroutine of its own when there are
// several, and returns when every call has.
func spread(n int, fn func(w, lo, hi int)) { spreadOver(n, decodeWorkers(n), fn) }

// spreadOver is spread over the given number of workers (>= 1).
func spreadOver(n, workers int, fn func(w, lo, hi int)) {
	if workers == 1 {
		fn(0, 0, n)
		return
	}
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := workerRange(n, workers, w)
		wg.Go(func() { fn(w, lo, hi) })
	}
	wg.Wait()
}

// workerRange is the range [lo, hi) of n items that spreadOver gives the
// w-th of workers workers.
func workerRange(n, workers, w int) (lo, hi int) { return n * w / workers, n * (w + 1) / workers }

// decodeWorkers is how many goroutines decode n documents.
func decodeWorkers(n int) int { return max(1, min(runtime.GOMAXPROCS(0), n/minDecodeChunk)) }

func (s *Server) decodeRange(docs [][]byte, events []event.Event, errs []error, opts event.DecodeOptions) {
	for i, doc := range docs {
		if errs[i] != nil {
			continue // failed before decoding (an Elasticsearch update or delete)
		}
		events[i], errs[i] = s.decode(doc, opts)
	}
}

// decodeReusing is decodeAll for a caller that drops the events before it
// calls again (appendChunked, chunk after chunk): decoding is the same,
// with one event.Decoder per worker kept in decs (made as needed, with
// opts), each decoding into events in place and reusing its memory from
// call to call (Decoder.Reuse). An event then costs no allocation, where
// event.DecodeWith made four or five (its lists and refs, numbers and
// durations) and two copies of the Event.
func (s *Server) decodeReusing(decs *[]*event.Decoder, docs [][]byte, events []event.Event, errs []error, opts event.DecodeOptions) {
	workers := decodeWorkers(len(docs))
	reuseDecoders(decs, workers, opts)
	spreadOver(len(docs), workers, func(w, lo, hi int) {
		x := (*decs)[w]
		for i := lo; i < hi; i++ {
			if errs[i] != nil {
				continue // failed before decoding (an Elasticsearch update or delete)
			}
			if err := s.checkSize(docs[i]); err != nil {
				events[i], errs[i] = event.Event{}, err
				continue
			}
			errs[i] = x.Decode(&events[i], docs[i])
		}
	})
}

// reuseDecoders makes sure decs has a decoder with opts for each of
// workers workers, each ready to reuse its memory (Decoder.Reuse).
func reuseDecoders(decs *[]*event.Decoder, workers int, opts event.DecodeOptions) {
	for w := range workers {
		if w == len(*decs) {
			*decs = append(*decs, event.NewDecoder(opts))
		}
		if (*decs)[w].Options() != opts {
			(*decs)[w] = event.NewDecoder(opts)
		}
		(*decs)[w].Reuse()
	}
}

// decode decodes one event document, bounded by MaxEventBytes.
func (s *Server) decode(raw []byte, opts event.DecodeOptions) (event.Event, error) {
	if err := s.checkSize(raw); err != nil {
		return event.Event{}, err
	}
	return event.DecodeWith(raw, opts)
}

// checkSize fails an event document over MaxEventBytes.
func (s *Server) checkSize(raw []byte) error {
	if int64(len(raw)) > s.cfg.MaxEventBytes {
		return fmt.Errorf("%w: %d bytes is over the limit of %d bytes", errEventTooLarge, len(raw), s.cfg.MaxEventBytes)
	}
	return nil
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
