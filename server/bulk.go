package server

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/event"
)

// handleBulk stores the valid lines of an NDJSON body and reports the
// invalid ones: POST /api/events/_bulk. The whole body is read (before a
// write slot is taken), then decoded and appended a chunk at a time into
// one eventlog.Batch, which stores the valid events in one WAL record
// (bulk_chunked.go). With ?items=failed the answer lists only the lines
// refused.
func (s *Server) handleBulk(w http.ResponseWriter, r *http.Request) error {
	failedOnly, err := bulkFailedOnly(r)
	if err != nil {
		return err
	}
	return s.serveBulk(w, r, bulkProtocol{
		idsDecoded: true,
		mediaTypes: []string{"application/x-ndjson", "application/json"},
		parse:      func(b *bulk, body []byte) error { return b.parse(body, keyOf(w)) },
		respond: func(b *bulk, dst []byte, took time.Duration) ([]byte, int) {
			return b.appendResponse(dst, took, failedOnly), http.StatusOK
		},
	})
}

// bulkItemsParam says which lines the native _bulk answer lists: "all"
// (the default) or "failed", for clients that do not need each stored
// event's id and sequence number: a batch of 10,000 stored events is then
// answered in a few bytes instead of about 700 KB that the client would
// have to decode.
const bulkItemsParam = "items"

// bulkFailedOnly reads bulkItemsParam of r.
func bulkFailedOnly(r *http.Request) (bool, error) {
	switch v := r.URL.Query().Get(bulkItemsParam); v {
	case "", "all":
		return false, nil
	case "failed":
		return true, nil
	default:
		return false, errorf(http.StatusBadRequest, typeInvalidRequest, "%s=%q: want all or failed", bulkItemsParam, v)
	}
}

// bulkProtocol is what differs between the _bulk routes (the native one,
// Elasticsearch's under /es): the media types accepted, how a body becomes
// the bulk's items (and how they are to be decoded: bulk.decodeAs), and
// the answer.
type bulkProtocol struct {
	// idOutsideBody: the protocol may give the events a client id that
	// is not in the body (the path's of PUT /es/{index}/_doc/{id}, the
	// one GitLab's route maps from the event), so the body is appended
	// whole (see bulk_chunked.go).
	idOutsideBody bool
	// idsDecoded: the protocol's events are its documents as decoded
	// (it completes and registers nothing), so a client id is found by
	// decoding, which turns the request whole when it meets one
	// (errClientIDs), rather than by reading the body for one first
	// (mayHoldClientIDs).
	idsDecoded bool
	mediaTypes []string
	parse      func(b *bulk, body []byte) error
	respond    func(b *bulk, dst []byte, took time.Duration) ([]byte, int)
}

// serveBulk is a _bulk request: the media type is checked, the body read
// (before a write slot is taken) and its working set taken from the
// memory budget (429 when it does not free in time), then the body is
// parsed, decoded and appended. The valid events go to the DB in one WAL
// record: through an eventlog.Batch a chunk at a time, or, when the body
// may hold client ids (which Append deduplicates, needing them all), in
// one Append of every event.
func (s *Server) serveBulk(w http.ResponseWriter, r *http.Request, p bulkProtocol) error {
	start := time.Now()
	if err := requireMediaType(r, p.mediaTypes...); err != nil {
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
	whole := p.idOutsideBody || (!p.idsDecoded && mayHoldClientIDs(body.data()))
	work, err := s.acquireWork(w, r, bulkWorkingSet(body.data(), whole))
	if err != nil {
		return err
	}
	defer s.releaseWork(work)
	if err := s.acquireWrite(w, r); err != nil {
		return err
	}
	defer s.releaseWrite()
	keep, err := s.keepUnknown(r)
	if err != nil {
		return err
	}
	b := bulkPool.Get().(*bulk)
	defer b.release()
	b.keep = keep
	if err := p.parse(b, body.data()); err != nil {
		return err
	}
	if !whole {
		err = s.appendChunked(r.Context(), b)
		if whole = errors.Is(err, errClientIDs); whole {
			more, err := s.acquireWork(w, r, bulkWorkingSet(body.data(), true)-work)
			if err != nil {
				return err
			}
			defer s.releaseWork(more)
		}
	}
	if whole {
		b.decodeWhole(s)
		err = s.appendBulk(r.Context(), b)
	}
	if err != nil {
		return writeFailed(err)
	}
	out := getBuf()
	defer putBuf(out)
	var status int
	*out, status = p.respond(b, (*out)[:0], time.Since(start))
	writeJSON(w, status, *out)
	return nil
}

// bulk is one _bulk request's lines, decoded.
type bulk struct {
	items  []bulkItem    // one per non-blank line
	docs   [][]byte      // docs[i] is the text of items[i]
	errs   []error       // errs[i] is the decoding error of items[i]
	events []event.Event // the lines that decoded
	pos    []int         // pos[i] is the item of events[i]
	fails  []itemError
	// later are the failures appendChunked records (fail) once every
	// chunk is decoded: a request that turns whole (errClientIDs) drops
	// them and fails the same items again, each counted once.
	later []laterFail
	// es[i] is the action of items[i] on the Elasticsearch-compatible
	// _bulk (es_bulk.go); empty on the native one.
	es []esItem
	// register: register the unregistered provider/action pairs of the
	// events and store them (IngestRoute.Providers), instead of failing
	// them.
	register bool
	// keep: keep fields outside the schema (Event.Extra) instead of
	// failing the document: the native routes per request
	// (?unknown_fields=keep or the server's setting), /es always.
	keep bool
	// key may not store events out of its scope (nil: any); complete, if
	// not nil, fills in what the protocol adds to each decoded event (its
	// index, client id, defaults). Set by decodeAs.
	key      *auth.Key
	complete func(item int, ev *event.Event)
	// chunk, chunkErrs and chunkItems are appendChunked's scratch: one
	// chunk's events, their errors and their items.
	chunk      []event.Event
	chunkErrs  []error
	chunkItems []int
	// decoders decode appendChunked's chunks, one per worker
	// (decodeReusing); their memory is reused request after request.
	decoders []*event.Decoder
	// parts are addChunkParts' parts of the request's eventlog.Batch, one
	// per worker, beside decoders.
	parts []*eventlog.BatchPart
}

// bulkItem is one non-blank line: its number (from 1, blank lines
// counted), its sequence number once stored, or its error.
type bulkItem struct {
	line   int
	seq    uint64
	result eventlog.AppendResult
	id     string // the client id, "" when none
	fail   int    // 1 + index in bulk.fails; 0: none
}

var bulkPool = sync.Pool{New: func() any { return new(bulk) }}

func (b *bulk) release() {
	clear(b.events) // drop the events' strings (parse and drop cleared the rest)
	clear(b.docs)   // and the body
	clear(b.errs)
	b.items, b.docs, b.errs = b.items[:0], b.docs[:0], b.errs[:0]
	b.events, b.pos, b.fails = b.events[:0], b.pos[:0], b.fails[:0]
	clear(b.later)
	b.later = b.later[:0]
	clear(b.es)
	b.es, b.register, b.keep = b.es[:0], false, false
	b.key, b.complete = nil, nil
	clear(b.chunk) // appendChunked cleared them; in case it did not finish
	clear(b.chunkErrs)
	b.chunkItems = b.chunkItems[:0]
	for _, x := range b.decoders {
		x.Drop() // their strings share the body
	}
	for _, p := range b.parts {
		p.Drop() // so do their posting keys
	}
	bulkPool.Put(b)
}

// parse splits body into its non-blank lines, each a document to decode
// (b.keep: keeping fields outside the schema); a line key k (nil: any)
// may not store fails with 403.
func (b *bulk) parse(body []byte, k *auth.Key) error {
	if err := b.split(body); err != nil {
		return err
	}
	b.decodeAs(k, nil)
	return nil
}

// decodeAs says how the items' documents are decoded, once the protocol
// has split the body: an event key k (nil: any) may not store fails with
// 403; complete, if not nil, fills in what the protocol adds to each
// decoded event.
func (b *bulk) decodeAs(k *auth.Key, complete func(item int, ev *event.Event)) {
	b.key, b.complete = k, complete
}

// decodeWhole decodes the documents of the items that have no error yet,
// all at once (see decodeAs). The events that remain are kept in
// b.events, their items in b.pos, for appendBulk.
func (b *bulk) decodeWhole(s *Server) {
	n := len(b.docs)
	if cap(b.events) < n {
		b.events = make([]event.Event, n)
	}
	b.events = b.events[:n]
	s.decodeAll(b.docs, b.events, b.errs, b.keep, false)
	if b.complete != nil {
		for i := range b.events {
			if b.errs[i] == nil {
				b.complete(i, &b.events[i])
			}
		}
	}
	checkScope(b.key, b.events, b.errs)
	kept := 0
	for i, err := range b.errs {
		if err != nil {
			b.fail(s, i, err)
			continue
		}
		if kept != i {
			b.events[kept] = b.events[i]
		}
		b.pos = append(b.pos, i)
		kept++
	}
	clear(b.events[kept:])
	b.events = b.events[:kept]
}

// split finds the non-blank lines of body.
func (b *bulk) split(body []byte) error {
	b.reserve(min(bytes.Count(body, []byte{'\n'})+1, maxEventsPerRequest))
	lines := lineReader{body: body}
	for text, line, ok := lines.next(); ok; text, line, ok = lines.next() {
		if len(b.items) == maxEventsPerRequest {
			return errorf(http.StatusRequestEntityTooLarge, typeTooLarge,
				"more than %d events in one request; split the body", maxEventsPerRequest)
		}
		b.add(line, text, nil)
	}
	return nil
}

// reserve makes room for n items at once: growing the three lists by
// appending, request after request (bulkPool drops them at every other
// garbage collection), was 140 bytes allocated per event.
func (b *bulk) reserve(n int) {
	b.items = slices.Grow(b.items, n)
	b.docs = slices.Grow(b.docs, n)
	b.errs = slices.Grow(b.errs, n)
}

// add adds the item of a line: its document, or (doc nil) the error
// that fails it before decoding.
func (b *bulk) add(line int, doc []byte, err error) {
	b.items = append(b.items, bulkItem{line: line})
	b.docs = append(b.docs, doc)
	b.errs = append(b.errs, err)
}

// isBlank reports whether a line holds only whitespace (a "\r" before its
// "\n" included).
func isBlank(line []byte) bool {
	for _, c := range line {
		if !isSpace(c) {
			return false
		}
	}
	return true
}

// fail records the error of an item.
func (b *bulk) fail(s *Server, item int, err error) {
	b.fails = append(b.fails, s.itemError(item, err))
	b.items[item].fail = len(b.fails)
}

// laterFail is an item's error that failLater keeps for failKept.
type laterFail struct {
	item int
	err  error
}

// failLater keeps the error of an item, to be recorded by failKept.
func (b *bulk) failLater(item int, err error) {
	b.later = append(b.later, laterFail{item, err})
}

// failKept records the errors failLater kept.
func (b *bulk) failKept(s *Server) {
	for _, f := range b.later {
		b.fail(s, f.item, f.err)
	}
	clear(b.later)
	b.later = b.later[:0]
}

// appendBulk appends the decoded events in one db.Append. Events the DB
// rejects as invalid are reported and the rest retried: twice at most,
// since the registry may change between attempts.
func (s *Server) appendBulk(ctx context.Context, b *bulk) error {
	for attempt := 0; len(b.events) > 0; attempt++ {
		res, err := s.db.Append(ctx, b.events...)
		var invalid *eventlog.InvalidEventsError
		if errors.As(err, &invalid) && attempt < 2 {
			rejected := invalid.Items
			if b.register {
				rejected = s.registerRejected(b.events, rejected)
			}
			b.drop(s, rejected)
			continue
		}
		if err != nil {
			return err
		}
		for i := range b.events {
			it := &b.items[b.pos[i]]
			it.seq, it.result, it.id = res.Seq(i), resultOf(res, i), b.events[i].ClientID
			if it.result == eventlog.Conflict {
				c := conflictError(b.pos[i], &b.events[i], it.seq)
				b.fails = append(b.fails, c)
				it.fail = len(b.fails)
			}
		}
		s.metrics.ingested.Add(float64(storedCount(res)))
		return nil
	}
	return nil
}

// drop records the errors of the rejected events and removes them.
func (b *bulk) drop(s *Server, rejected []eventlog.ItemError) {
	for _, it := range rejected {
		b.fail(s, b.pos[it.Index], it.Err)
	}
	kept := 0
	for i := range b.events {
		if b.items[b.pos[i]].fail != 0 {
			continue
		}
		b.events[kept], b.pos[kept] = b.events[i], b.pos[i]
		kept++
	}
	clear(b.events[kept:])
	b.events, b.pos = b.events[:kept], b.pos[:kept]
}

// appendResponse appends the answer: {"took","errors","items"}, one item
// per non-blank line, in order, or, failedOnly, one per refused line.
func (b *bulk) appendResponse(dst []byte, took time.Duration, failedOnly bool) []byte {
	perItem := storedItemBytes
	if failedOnly {
		perItem = 0
	}
	dst = b.appendHead(dst, took, perItem)
	first := true
	for _, it := range b.items {
		if it.fail == 0 && failedOnly {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		if it.fail == 0 {
			dst = it.appendStored(dst)
			continue
		}
		f := &b.fails[it.fail-1]
		dst = append(dst, `{"status":`...)
		dst = strconv.AppendInt(dst, int64(f.status), 10)
		dst = append(dst, `,"error":`...)
		dst = appendErrorObject(dst, f.typ, f.reason)
		dst = append(dst, `,"line":`...)
		dst = strconv.AppendInt(dst, int64(it.line), 10)
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

// storedItemBytes is the most a stored item's answer takes (appendStored,
// a sequence number of 20 digits, and the comma after it): room for less
// regrew and copied the answer of every large request.
const storedItemBytes = len(`{"status":201,"_id":"0123456789abcdef","_seq":,"result":"created"},`) + 20

// appendStored appends the answer for a stored item: 201 and "created",
// or 200 and "noop" when the same event was already stored.
func (it *bulkItem) appendStored(dst []byte) []byte {
	if it.result == eventlog.Duplicate {
		dst = append(dst, `{"status":200,`...)
	} else {
		dst = append(dst, `{"status":201,`...)
	}
	ev := event.Event{ClientID: it.id}
	dst = appendItemResult(dst, &ev, it.seq, it.result)
	return append(dst, '}')
}

// appendHead appends the start of a _bulk answer, both protocols':
// {"took","errors","items":[ — with room for perItem bytes an item.
func (b *bulk) appendHead(dst []byte, took time.Duration, perItem int) []byte {
	dst = append(dst, `{"took":`...)
	dst = strconv.AppendInt(dst, took.Milliseconds(), 10)
	dst = append(dst, `,"errors":`...)
	dst = strconv.AppendBool(dst, len(b.fails) > 0)
	dst = append(dst, `,"items":[`...)
	return growBytes(dst, len(b.items)*perItem)
}

// growBytes makes room for n more bytes in dst.
func growBytes(dst []byte, n int) []byte {
	if cap(dst)-len(dst) < n {
		dst = append(make([]byte, 0, len(dst)+n), dst...)
	}
	return dst
}
