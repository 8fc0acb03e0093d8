package eventlog

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"strconv"
	"sync"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/integrity"
	"github.com/eventlogdb/eventlog/internal/head"
	"github.com/eventlogdb/eventlog/wal"
)

// Appended says which sequence numbers an Append gave its events. Without
// client ids every input event is stored and the i-th got FirstSeq+i.
type Appended struct {
	// FirstSeq is the first stored event's sequence number (0 when
	// deduplication stored none); the stored events have consecutive
	// ones.
	FirstSeq uint64
	// Count is the number of input events.
	Count int
	// Items is nil when no input event carried a client id, else one per
	// input event, in input order: what Append did with it.
	Items []AppendedItem
}

// Seq returns the sequence number of the i-th input event: the one it was
// stored under, or for a Duplicate or Conflict the stored event's.
func (a Appended) Seq(i int) uint64 {
	if a.Items != nil {
		return a.Items[i].Seq
	}
	return a.FirstSeq + uint64(i)
}

// IDs returns the engine ids (IDOf) of the input events' sequence numbers
// (Seq), in order.
func (a Appended) IDs() []string {
	ids := make([]string, a.Count)
	for i := range ids {
		ids[i] = IDOf(a.Seq(i))
	}
	return ids
}

// IDOf returns the id of the event with sequence number seq: 16 hex digits.
// Ids derive from sequence numbers, so they cost no bytes on disk and sort
// in arrival order.
func IDOf(seq uint64) string {
	var b [16]byte
	return string(appendID(b[:0], seq))
}

// SeqOfID returns the sequence number an id stands for.
func SeqOfID(id string) (uint64, error) {
	if len(id) != 16 {
		return 0, fmt.Errorf("eventlog: id %q: expected 16 hex digits", id)
	}
	seq, err := strconv.ParseUint(id, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("eventlog: id %q: expected 16 hex digits", id)
	}
	return seq, nil
}

// maxBatch bounds one Append so a WAL record stays well under its limit.
const maxBatch = 100_000

// Append stores events durably (per Options.Sync) and makes them readable.
// If any event is invalid, none is stored and the error (an
// *InvalidEventsError) names each bad one by index. Events without
// @timestamp are stamped with the current time; the caller's values are not
// modified.
//
// An error that matches ErrOutcomeUnknown leaves the batch's outcome
// unknown, as in any database: the fsync after the write failed (the store
// is then poisoned for writes until reopened), so the events were written
// and may be present after a restart. A caller that retries such a batch
// should make its events recognisable (event.id). Every other error means
// nothing was stored; one that matches ErrDiskFull (a *DiskFullError) says
// the disk is full.
//
// Events with a client id (Event.ClientID) are deduplicated (dedup.go):
// when a concurrent Append is storing the same id, this one waits for that
// Append's outcome (its durability, per Options.Sync) and then answers
// Duplicate or Conflict with the stored event's Seq, or, if that Append
// stored nothing, stores its own event. An item's Seq therefore always
// names an event that is stored (deduplication does not hold a lock across
// the WAL write and fsync, so such Appends share fsyncs with each other).
func (db *DB) Append(ctx context.Context, events ...Event) (Appended, error) {
	return db.append(ctx, false, events)
}

// AppendInternal stores the store's own records (audit events of the
// server: keys made and revoked, refused credentials, deletes, backups),
// which skip the registry. Every event must have provider
// InternalProvider, else nothing is stored and the error says so.
func (db *DB) AppendInternal(ctx context.Context, events ...Event) (Appended, error) {
	for i := range events {
		if p := events[i].Event.Provider; p != InternalProvider {
			return Appended{}, fmt.Errorf("%w: internal event %d has provider %q, not %q", ErrInvalidEvent, i, p, InternalProvider)
		}
	}
	return db.append(ctx, true, events)
}

// append stores events; internal ones (the store's own records, provider
// "eventlog") skip the registry, which users' events cannot.
func (db *DB) append(ctx context.Context, internal bool, events []Event) (Appended, error) {
	return db.appendWith(ctx, internal, events, nil)
}

// appendWith is append with a tombstone recorded in the same WAL record
// as the events (a delete by query and its event): both are durable, or
// neither. The tombstone's Seq becomes the last event's.
func (db *DB) appendWith(ctx context.Context, internal bool, events []Event, tomb *tombstone) (Appended, error) {
	switch {
	case db.closed.Load():
		return Appended{}, ErrClosed
	case db.opts.ReadOnly:
		return Appended{}, ErrReadOnly
	case len(events) == 0:
		return Appended{}, nil
	case len(events) > maxBatch:
		return Appended{}, fmt.Errorf("%w: batch of %d events is over the limit of %d", ErrInvalidEvent, len(events), maxBatch)
	}
	if err := ctx.Err(); err != nil {
		return Appended{}, err
	}
	if err := db.check(events, internal); err != nil {
		return Appended{}, err
	}
	if tomb != nil || !hasClientIDs(events) {
		return db.store(ctx, events, tomb)
	}
	return db.appendDeduped(ctx, events)
}

// store stores checked events (and tomb) in one WAL record and the head.
func (db *DB) store(ctx context.Context, events []Event, tomb *tombstone) (Appended, error) {
	b := batchPool.Get().(*batch)
	defer db.putBatch(b)
	db.encodeBatch(b, events)
	if tomb != nil {
		var err error
		if b.rec, err = appendTombstoneFrame(b.rec, tomb); err != nil {
			return Appended{}, fmt.Errorf("eventlog: append: %w", err)
		}
		b.payload, b.tomb = b.rec[wal.HeaderRoom:], tomb
	}
	return db.commit(ctx, b, len(events))
}

// commit writes a prepared batch of count events as one WAL record and
// inserts it into the head once the record is durable (per Options.Sync).
func (db *DB) commit(ctx context.Context, b *batch, count int) (Appended, error) {
	// Bound memory: past MaxFrozenHeads heads waiting for the disk, wait.
	if err := db.waitSealed(ctx, db.opts.MaxFrozenHeads-1); err != nil {
		return Appended{}, db.appendFailed(fmt.Errorf("waiting for sealing: %w", err), false)
	}
	if err := db.admitShip(ctx); err != nil { // walship.go: --sync-to-object-store
		return Appended{}, db.appendFailed(err, false)
	}
	poisoned := db.wal.Err() != nil
	first, err := db.wal.AppendFramed(uint32(count), b.rec, func(first uint64) {
		db.insertCommitted(first, b)
		if db.integrity != nil {
			db.integrity.Commit(first, b.digests)
		}
		db.shipRecord(b.rec) // walship.go: --sync-to-object-store
	})
	if errors.Is(err, wal.ErrClosed) {
		return Appended{}, ErrClosed // Close won the race with this Append
	}
	if err != nil {
		err = db.appendFailed(err, writtenBeforeFailing(first, err, poisoned))
	}
	db.diskFull.observe(err)
	if err != nil {
		return Appended{}, err
	}
	if err := db.waitShipped(ctx, first+uint64(count)-1); err != nil {
		return Appended{}, err
	}
	head.Publish(&db.published, first+uint64(count)-1)
	db.tailers.notify()
	return Appended{FirstSeq: first, Count: count}, nil
}

// validate checks every event against the limits, the future-skew guard
// and the registry and reports all failures at once.
func (db *DB) validate(events []Event) error { return db.check(events, false) }

func (db *DB) check(events []Event, internal bool) error {
	return db.checkWith(events, internal, false)
}

// checkWith is check; decoded skips each event's Validate, which decoding
// with limits within the DB's made already (Batch.AddDecoded).
func (db *DB) checkWith(events []Event, internal, decoded bool) error {
	var bad []ItemError
	latest := db.latestTimestamp()
	for i := range events {
		if err := db.checkEvent(&events[i], internal, decoded, latest); err != nil {
			bad = append(bad, ItemError{Index: i, Err: err})
		}
	}
	if bad != nil {
		return &InvalidEventsError{Items: bad}
	}
	return nil
}

// latestTimestamp is the latest @timestamp an event may have now
// (Options.MaxFutureSkew), in Unix nanoseconds: for checkEvent.
func (db *DB) latestTimestamp() int64 {
	if db.opts.MaxFutureSkew > 0 {
		return db.opts.Now().Add(db.opts.MaxFutureSkew).UnixNano()
	}
	return math.MaxInt64
}

// checkEvent checks one event as checkWith does, against latest
// (latestTimestamp). It is safe for concurrent use.
func (db *DB) checkEvent(ev *Event, internal, decoded bool, latest int64) error {
	var err error
	if !decoded {
		err = ev.Validate(db.opts.Limits)
	}
	if err == nil && !ev.Timestamp.IsZero() && ev.Timestamp.UnixNano() > latest {
		err = fmt.Errorf("@timestamp %s is more than %v in the future (max future skew)", ev.Timestamp, db.opts.MaxFutureSkew)
	}
	if err == nil && !internal && !db.opts.AllowUnregistered {
		err = db.reg.check(ev.Event.Provider, ev.Event.Action)
	}
	if err == nil {
		err = db.opts.Pseudonymizer.Check(ev)
	}
	return err
}

// batch is an Append's (or a replayed WAL record's) events prepared outside
// the WAL's ordering lock: the WAL payload (each event's binary form
// prefixed by its length as a uvarint), and the events' @timestamps and
// posting keys grouped for the head.
type batch struct {
	// payload is rec[wal.HeaderRoom:] (or, replaying, a record's payload).
	// rec has room for the record header before it, which the WAL fills in
	// place: a batch of megabytes is not copied under its ordering lock.
	payload, rec []byte
	rows         head.Batch
	terms        []index.Term // one event's posting keys; scratch for addRow
	// frames, when replaying, are the payload's event frames as the
	// decoder found them, so the inserter (replay's one sequential stage)
	// does not walk the payload again; empty otherwise.
	frames [][]byte
	// tomb is a tombstone whose control frame follows the events.
	tomb *tombstone
	// digests are the events' integrity.Digest, with Options.Integrity:
	// computed here, outside the WAL's ordering lock.
	digests []integrity.Hash
}

var batchPool = sync.Pool{New: func() any { return new(batch) }}

// The DB keeps recBuffers record buffers of bigRecMin to bigRecMax bytes
// across garbage collections (see package bigbuf): the record of a batch
// of 10,000 events is about 4.5 MB, which batchPool alone would drop at
// every other collection. At most 64 MiB idle.
const (
	recBuffers = 4
	bigRecMin  = 1 << 20
	bigRecMax  = 16 << 20
)

// putBatch releases b into batchPool, its record buffer into db.recBufs
// when large.
func (db *DB) putBatch(b *batch) {
	b.release()
	if cap(b.rec) >= bigRecMin {
		db.recBufs.Put(b.rec)
		b.rec = nil
	}
	batchPool.Put(b)
}

func (b *batch) reset() {
	b.payload, b.rec, b.tomb, b.digests = nil, b.rec[:0], nil, b.digests[:0]
	clear(b.frames)
	b.frames = b.frames[:0]
	b.rows.Reset()
}

// release resets b and drops every reference to its events' strings, so a
// pooled batch keeps no caller's memory alive.
func (b *batch) release() {
	b.reset()
	clear(b.terms[:cap(b.terms)])
}

// reserve empties the batch for an Append of events of about frameBytes
// each: rec gets room for them all and for the record header.
func (b *batch) reserve(events int, frameBytes int64) {
	b.reset()
	b.rec = slices.Grow(b.rec, recordBytes(events, frameBytes))[:wal.HeaderRoom]
}

// recordBytes is the room reserve makes: events of about frameBytes each,
// an eighth more for those above the average, and the record header.
func recordBytes(events int, frameBytes int64) int {
	return wal.HeaderRoom + events*int(frameBytes+frameBytes/8)
}

// reserveBatch is b.reserve for events of the last batch's average size,
// taking a large record buffer from db.recBufs (a kept one, else a new one
// with room to spare) when b's own is too small.
func (db *DB) reserveBatch(b *batch, events int) {
	frameBytes := db.frameBytes.Load()
	if want := recordBytes(events, frameBytes); cap(b.rec) < want {
		if big := db.recBufs.Get(want); big != nil {
			b.rec = big
		}
	}
	b.reserve(events, frameBytes)
}

// add appends one event to the batch, and its digest if digest.
func (b *batch) add(ev *Event, digest bool) {
	b.rec, b.digests = appendFrame(b.rec, b.digests, ev, digest)
	b.addRow(ev)
}

// appendFrame appends the frame of ev to rec: its binary form prefixed by
// its length as a uvarint; with digest, it appends the binary form's
// integrity.Digest to digests.
func appendFrame(rec []byte, digests []integrity.Hash, ev *Event, digest bool) ([]byte, []integrity.Hash) {
	start := len(rec)
	rec = append(rec, 0, 0, 0) // room for a short length prefix
	rec = event.AppendBinary(rec, ev)
	if digest {
		digests = append(digests, integrity.Digest(rec[start+3:]))
	}
	return putFrameLen(rec, start, len(rec)-start-3), digests
}

// addRow adds an event's @timestamp and posting keys for the head.
func (b *batch) addRow(ev *Event) {
	b.terms = index.AppendTerms(b.terms[:0], ev)
	b.rows.Add(ev.Timestamp.UnixNano(), b.terms)
}

// eventFrames yields the event frames of a well-formed payload, in order:
// what the head stores. It stops at a tombstone's control frame, which
// comes last.
func eventFrames(payload []byte) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		_ = decodeFrames(payload, func(data []byte) error {
			if isControlFrame(data) || !yield(data) {
				return errStop
			}
			return nil
		})
	}
}

// eventData yields the batch's event frames, in order: the ones replay's
// decoder noted, or else those of its payload.
func (b *batch) eventData() iter.Seq[[]byte] {
	if len(b.frames) > 0 {
		return slices.Values(b.frames)
	}
	return eventFrames(b.payload)
}

// errStop ends a decodeFrames walk early.
var errStop = errors.New("stop")

// encodeBatch prepares events, stamping those without @timestamp with the
// current time and pseudonymising personal fields (Options.Pseudonymizer),
// on copies: the caller's events are not modified.
func (db *DB) encodeBatch(b *batch, events []Event) {
	db.reserveBatch(b, len(events))
	var now event.Date
	for i := range events {
		db.encodeEvent(b, &events[i], &now)
	}
	db.finishBatch(b, len(events))
}

// encodeEvent adds one checked event to b as encodeBatch does; now is the
// batch's arrival time, taken at the first event that needs it.
func (db *DB) encodeEvent(b *batch, ev *Event, now *event.Date) {
	if ev.Timestamp.IsZero() && now.IsZero() {
		*now = event.DateOf(db.opts.Now())
	}
	b.add(db.prepared(ev, *now), db.integrity != nil)
}

// prepared is ev as it is stored: stamped with now when it has no
// @timestamp, and pseudonymised (Options.Pseudonymizer), on a copy when
// either changes it.
func (db *DB) prepared(ev *Event, now event.Date) *Event {
	if ev.Timestamp.IsZero() {
		stamped := *ev
		stamped.Timestamp = now
		ev = &stamped
	}
	return db.opts.Pseudonymizer.Event(ev)
}

// finishBatch ends the encoding of a batch of count (> 0) events: its
// payload is what follows the room for the record header, and its average
// frame size sizes the next batch's buffer.
func (db *DB) finishBatch(b *batch, count int) {
	b.payload = b.rec[wal.HeaderRoom:]
	db.frameBytes.Store(int64(len(b.payload) / count))
}

// putFrameLen writes n as a uvarint at dst[start:], where 3 bytes were
// reserved, moving the frame body if the varint needs a different size.
func putFrameLen(dst []byte, start, n int) []byte {
	var lb [binary.MaxVarintLen64]byte
	l := binary.PutUvarint(lb[:], uint64(n))
	if l != 3 {
		body := start + 3
		if l > 3 {
			dst = append(dst, make([]byte, l-3)...)
		}
		copy(dst[start+l:], dst[body:body+n])
		dst = dst[:start+l+n]
	}
	copy(dst[start:], lb[:l])
	return dst
}

var errFrame = errors.New("event frame length is past the end of the record")

// decodeFrames calls fn with each length-prefixed frame of payload.
func decodeFrames(payload []byte, fn func(data []byte) error) error {
	for len(payload) > 0 {
		n, l := binary.Uvarint(payload)
		if l <= 0 || n > uint64(len(payload)-l) {
			return errFrame
		}
		if err := fn(payload[l : l+int(n)]); err != nil {
			return err
		}
		payload = payload[l+int(n):]
	}
	return nil
}

// decodeBatch decodes a WAL payload of count events, and the tombstone
// recorded with them if there is one (its Seq set to the last event's).
// The event fn gets is reused for the next one: fn copies what it keeps.
func decodeBatch(payload []byte, firstSeq uint64, count uint32, fn func(i int, ev *event.Event, data []byte)) (*tombstone, error) {
	var ev event.Event // one for the whole batch: fn takes its address
	decode := func(data []byte) (*event.Event, error) {
		var err error
		ev, err = event.DecodeBinary(data)
		return &ev, err
	}
	return decodeBatchWith(decode, payload, firstSeq, count, fn)
}

// decodeBatchWith is decodeBatch decoding each event with decode, whose
// event fn gets: what decode returns may be reused for the next event.
func decodeBatchWith(decode func([]byte) (*event.Event, error), payload []byte, firstSeq uint64, count uint32, fn func(i int, ev *event.Event, data []byte)) (*tombstone, error) {
	i := 0
	var tomb *tombstone
	err := decodeFrames(payload, func(data []byte) error {
		if tomb != nil {
			return fmt.Errorf("frame after the tombstone")
		}
		if isControlFrame(data) {
			t, err := decodeControlFrame(data)
			if err != nil {
				return fmt.Errorf("after event %d: %w", i, err)
			}
			tomb = t
			return nil
		}
		ev, err := decode(data)
		if err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
		fn(i, ev, data)
		i++
		return nil
	})
	if err == nil && i != int(count) {
		err = fmt.Errorf("record holds %d events, its header says %d", i, count)
	}
	if err == nil && tomb != nil {
		if count == 0 {
			return nil, fmt.Errorf("tombstone without its event")
		}
		tomb.Seq = firstSeq + uint64(count) - 1
	}
	return tomb, err
}

// Validate checks events as Append would (limits and registry) without
// storing anything. The error is an *InvalidEventsError.
func (db *DB) Validate(events ...Event) error { return db.validate(events) }
