package server

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"unsafe"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/memory"
)

// A _bulk request holds its body, and beside it what the body becomes: the
// decoded events and the WAL record they are encoded into. A request of
// 10,000 events of 750 bytes would hold 14 MB of decoded Event values (an
// Event is about 1.4 KB) and 7 MB of copies of the documents if it decoded
// them all before appending. So appendChunked decodes bulkChunk documents at
// a time, without copying them (their strings borrow the body, which
// outlives the request's events), and adds each chunk to one
// eventlog.Batch, which encodes the events at once: the request holds its
// body, the record, and one chunk. On the native route each decode worker
// encodes the events it decodes itself, into a part of the Batch
// (addChunkParts), and holds one decoded event at a time. The Batch
// commits every valid event in one WAL record, as one Append would: all of
// them, or on a write error none, which keeps the per-item answer of the
// API.
//
// Events with a client id go to the DB whole (decodeWhole, appendBulk):
// deduplication needs them all at once. On the native route, decoding
// finds them: a chunk holding one ends appendChunked with errClientIDs
// before anything is stored or any item's failure recorded, and the
// request is decoded and appended whole instead. On the others, which
// complete and register events on the way, mayHoldClientIDs tells such
// bodies from the bytes, before anything is decoded; reading every body
// for "_id" took 3 % of the ingest CPU of the native route, which most
// bodies without ids take.
//
// The request's working set beyond its body (bulkWorkingSet) is charged to
// the store's memory budget (AccountIngest) before the request takes a
// write slot: under pressure the request waits, then is answered 429.

// bulkChunk is how many documents appendChunked decodes at a time: enough
// to spread over two CPUs in decodeAll's chunks of minDecodeChunk, few
// enough that a chunk's events (1.4 MB) are small beside the body.
const bulkChunk = 1024

// AccountIngest is the server's account in the store's memory budget for
// what ingest requests hold beyond their bodies (AccountBodies): their
// decoded events and the WAL record those become.
const AccountIngest = "ingest"

// decodedEventBytes estimates a decoded event's memory: the Event value
// and the slices its lists and references take.
const decodedEventBytes = int64(unsafe.Sizeof(event.Event{})) + 256

// mayHoldClientIDs reports whether any document of body may carry a client
// id: a "_id" member, which may be spelt with JSON escapes. It errs on the
// side of yes; a body it says no of cannot decode to an event with one.
func mayHoldClientIDs(body []byte) bool {
	if holdsIDKey(body) {
		return true
	}
	// \u005f is '_', \u0069 'i', \u0064 'd', in either case of hex digit.
	for rest := body; ; {
		i := bytes.Index(rest, []byte(`\u00`))
		if i < 0 || i+6 > len(rest) {
			return false
		}
		switch string(bytes.ToLower(rest[i+4 : i+6])) {
		case "5f", "69", "64":
			return true
		}
		rest = rest[i+4:]
	}
}

// holdsIDKey reports whether body holds `"_id"`, as bytes.Contains would,
// hopping from one '_' to the next: bytes.Contains searched for the '"'
// that starts the key, which is one byte in eight of JSON, and took a
// third of a microsecond an event, a few percent of a request's CPU.
func holdsIDKey(body []byte) bool {
	for i := 0; ; {
		j := bytes.IndexByte(body[i:], '_')
		if j < 0 {
			return false
		}
		i += j
		if i > 0 && body[i-1] == '"' && bytes.HasPrefix(body[i+1:], []byte(`id"`)) {
			return true
		}
		i++
	}
}

// bulkWorkingSet estimates what an ingest request with this body holds
// beyond the body itself: the WAL record (no larger than the JSON it
// encodes) and the decoded events, one chunk of them, or every one and a
// copy of every document when the request is appended whole. The events
// are counted as the body's lines, or one per 512 bytes if more (a JSON
// array on one line).
func bulkWorkingSet(body []byte, whole bool) int64 {
	events := max(int64(bytes.Count(body, []byte{'\n'}))+1, int64(len(body))/512)
	if whole {
		return 2*int64(len(body)) + events*decodedEventBytes
	}
	return int64(len(body)) + min(events, bulkChunk)*decodedEventBytes
}

// acquireWork takes n bytes of the store's memory budget for a request's
// working set, waiting at most WriteQueueTimeout; past it the request is
// answered 429 with Retry-After. It returns what to give releaseWork.
func (s *Server) acquireWork(w http.ResponseWriter, r *http.Request, n int64) (int64, error) {
	err := s.db.Memory().Account(AccountIngest).Acquire(r.Context(), n, s.cfg.WriteQueueTimeout)
	if errors.Is(err, memory.ErrFull) {
		return 0, s.memoryFull(w)
	}
	if err != nil {
		return 0, err
	}
	return n, nil
}

// releaseWork gives back what acquireWork took.
func (s *Server) releaseWork(n int64) { s.db.Memory().Account(AccountIngest).Release(n) }

// memoryFull is the answer when the store's memory budget had no room in
// time: 429, naming the limit and what holds it.
func (s *Server) memoryFull(w http.ResponseWriter) error {
	w.Header().Set("Retry-After", "1")
	mem := s.db.Memory()
	return errorf(http.StatusTooManyRequests, typeOverloaded,
		"the store's memory limit of %d bytes is taken (%d bytes charged: %s), and not enough freed within %s; retry later",
		mem.Limit(), mem.Used(), mem.UsageText(), s.cfg.WriteQueueTimeout)
}

// errClientIDs ends appendChunked when a document decodes to an event with
// a client id (eventlog.ErrBatchClientID): the request is to be appended
// whole. Nothing was stored nor any item's result recorded.
var errClientIDs = errors.New("a document holds a client id: the request is appended whole")

// appendChunked decodes the items' documents a chunk at a time into one
// eventlog.Batch and commits it: the items that fail are recorded, those
// stored get their sequence numbers. It returns errClientIDs, having
// recorded nothing, when a valid event has a client id.
func (s *Server) appendChunked(ctx context.Context, b *bulk) error {
	bt := s.db.NewBatch(len(b.docs))
	defer bt.Release()
	for lo := 0; lo < len(b.docs); lo += bulkChunk {
		if err := b.addChunk(s, bt, lo, min(lo+bulkChunk, len(b.docs))); err != nil {
			clear(b.later)
			b.pos, b.later = b.pos[:0], b.later[:0]
			return err
		}
	}
	b.failKept(s)
	res, err := bt.Commit(ctx)
	if err != nil {
		return err
	}
	for i, item := range b.pos {
		it := &b.items[item]
		it.seq, it.result = res.Seq(i), resultOf(res, i)
	}
	s.metrics.ingested.Add(float64(storedCount(res)))
	return nil
}

// addChunk decodes the documents of items lo..hi-1 and adds the events that
// decode, are in the key's scope and pass the DB's checks to bt, in order,
// recording their items in b.pos; the others fail (failLater).
func (b *bulk) addChunk(s *Server, bt *eventlog.Batch, lo, hi int) error {
	if b.complete == nil && !b.register {
		return b.addChunkParts(s, bt, lo, hi)
	}
	n := hi - lo
	if cap(b.chunk) < n {
		b.chunk, b.chunkErrs = make([]event.Event, n), make([]error, n)
	}
	events, errs := b.chunk[:n], b.chunkErrs[:n]
	defer clear(errs)
	defer clear(events) // the next chunk's decode overwrites them anyway; drop the strings now
	copy(errs, b.errs[lo:hi])
	opts := event.DecodeOptions{Limits: s.limits(), KeepUnknown: b.keep, Shared: true}
	s.decodeReusing(&b.decoders, b.docs[lo:hi], events, errs, opts)
	if b.complete != nil {
		for i := range events {
			if errs[i] == nil {
				b.complete(lo+i, &events[i])
			}
		}
	}
	checkScope(b.key, events, errs)
	items := b.chunkItems[:0]
	for i, err := range errs {
		if err != nil {
			b.failLater(lo+i, err)
			continue
		}
		if len(items) != i {
			events[len(items)] = events[i]
		}
		items = append(items, lo+i)
	}
	valid := events[:len(items)]
	if b.register {
		valid, items = b.registerChunk(s, valid, items)
	}
	var bad []eventlog.ItemError
	if b.complete == nil { // the events are as decodeAll decoded them
		bad = bt.AddDecoded(s.limits(), valid...)
	} else {
		bad = bt.Add(valid...)
	}
	for i, item := range items {
		if len(bad) > 0 && bad[0].Index == i {
			b.failLater(item, bad[0].Err)
			bad = bad[1:]
			continue
		}
		b.pos = append(b.pos, item)
	}
	b.chunkItems = items
	return nil
}

// registerChunk registers the provider/action pairs of a chunk's events
// that are valid but for being unregistered (IngestRoute.Providers), and
// fails the events that stay invalid, returning the rest and their items.
// It checks before the events are added so that they keep their order.
func (b *bulk) registerChunk(s *Server, events []event.Event, items []int) ([]event.Event, []int) {
	var invalid *eventlog.InvalidEventsError
	if !errors.As(s.db.Validate(events...), &invalid) {
		return events, items
	}
	rest := s.registerRejected(events, invalid.Items)
	if len(rest) == 0 {
		return events, items
	}
	kept := 0
	for i := range events {
		if len(rest) > 0 && rest[0].Index == i {
			b.failLater(items[i], rest[0].Err)
			rest = rest[1:]
			continue
		}
		events[kept], items[kept] = events[i], items[i]
		kept++
	}
	return events[:kept], items[:kept]
}

// addChunkParts is addChunk for events exactly as decoded (no protocol
// completes them, none is registered on the way): each worker checks and
// encodes the events it decodes into a part of bt of its own
// (eventlog.BatchPart), while they are in its cache, so that only the
// copying of the parts into bt is left to this goroutine. Each document is
// decoded in place in its worker's Decoder (Decoder.Next). A document that
// fails (to decode, in the key's scope, the DB's checks) fails its item
// (failLater); one whose event has a client id ends the request's chunks
// with errClientIDs, before its chunk joins bt.
func (b *bulk) addChunkParts(s *Server, bt *eventlog.Batch, lo, hi int) error {
	n := hi - lo
	if cap(b.chunkErrs) < n {
		b.chunkErrs = make([]error, n)
	}
	errs := b.chunkErrs[:n]
	defer clear(errs)
	copy(errs, b.errs[lo:hi])
	opts := event.DecodeOptions{Limits: s.limits(), KeepUnknown: b.keep, Shared: true}
	workers := decodeWorkers(n)
	b.prepareWorkers(bt, workers, opts)
	docs := b.docs[lo:hi]
	spreadOver(n, workers, func(w, l, h int) {
		x, p := b.decoders[w], b.parts[w]
		for i := l; i < h; i++ {
			if errs[i] == nil {
				errs[i] = s.decodePart(x, p, b.key, docs[i])
			}
		}
	})
	if slices.ContainsFunc(errs, func(err error) bool { return errors.Is(err, eventlog.ErrBatchClientID) }) {
		return errClientIDs
	}
	for w := range workers {
		p := b.parts[w]
		l, h := workerRange(n, workers, w)
		bad := bt.AddPart(p)
		k := 0 // p's events are the items of l..h-1 without an error
		for i := l; i < h; i++ {
			if errs[i] != nil {
				b.failLater(lo+i, errs[i])
				continue
			}
			if len(bad) > 0 && bad[0].Index == k {
				b.failLater(lo+i, bad[0].Err)
				bad = bad[1:]
			} else {
				b.pos = append(b.pos, lo+i)
			}
			k++
		}
		p.Drop()
	}
	return nil
}

// prepareWorkers makes sure b has a decoder (with opts) and a started part
// of bt for each of workers workers.
func (b *bulk) prepareWorkers(bt *eventlog.Batch, workers int, opts event.DecodeOptions) {
	reuseDecoders(&b.decoders, workers, opts)
	for w := range workers {
		if w == len(b.parts) {
			b.parts = append(b.parts, new(eventlog.BatchPart))
		}
		bt.StartPart(b.parts[w], opts.Limits)
	}
}

// decodePart decodes doc with x (in place: Decoder.Next) and adds it to
// p, returning why it fails if it does: over MaxEventBytes, not an event,
// out of the scope of key k (nil: any), or refused by the DB's checks.
func (s *Server) decodePart(x *event.Decoder, p *eventlog.BatchPart, k *auth.Key, doc []byte) error {
	if err := s.checkSize(doc); err != nil {
		return err
	}
	ev, err := x.Next(doc)
	if err != nil {
		return err
	}
	if k != nil && !k.MayWrite(ev) {
		return scopeError(k, ev)
	}
	return p.Add(ev)
}
