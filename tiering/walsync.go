package tiering

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/eventlogdb/eventlog/client"
	"github.com/eventlogdb/eventlog/objstore"
	"github.com/eventlogdb/eventlog/wal"
)

// WALSyncConfig configures a WALSync. The zero value of every field is a
// default.
type WALSyncConfig struct {
	// ChunkMaxBytes cuts a chunk once the records waiting for it reach
	// this size (a larger record gets a chunk of its own). Zero: 4 MiB;
	// at most 256 MiB.
	ChunkMaxBytes int64
	// ChunkMaxAge is how long the first record of a chunk waits for
	// others before the chunk is cut (and the chunk being uploaded holds
	// up the next one meanwhile: appends that arrive during an upload
	// share the next chunk). Zero: 5 ms.
	ChunkMaxAge time.Duration
	// AckTimeout is how long an append waits for its chunk before it
	// fails (eventlog.ErrOutcomeUnknown: durable locally, not confirmed in
	// the bucket); the upload goes on being retried. Zero: 30 s.
	AckTimeout time.Duration
	// MaxPendingBytes bounds the records waiting for their chunk (and the
	// chunk being uploaded): past it, an append is refused before it is
	// stored, once it has waited AckTimeout for room
	// (eventlog.ErrShipBacklog), so that a failing bucket cannot fill
	// memory. Zero: 64 MiB, or twice ChunkMaxBytes if that is more.
	MaxPendingBytes int64
	// OnFenced is called once, from the WALSync's goroutine, when another
	// writer created a chunk this one needed: the caller stops the store's
	// writes. Nil: only the appends' errors and Status say so.
	OnFenced func(error)
}

func (c WALSyncConfig) withDefaults() (WALSyncConfig, error) {
	if c.ChunkMaxBytes == 0 {
		c.ChunkMaxBytes = 4 << 20
	}
	if c.ChunkMaxBytes < 0 || c.ChunkMaxBytes > maxChunkBytes {
		return c, fmt.Errorf("tiering: WAL chunk size %d is not in 1..%d bytes", c.ChunkMaxBytes, maxChunkBytes)
	}
	if c.ChunkMaxAge == 0 {
		c.ChunkMaxAge = 5 * time.Millisecond
	}
	if c.AckTimeout == 0 {
		c.AckTimeout = 30 * time.Second
	}
	if c.MaxPendingBytes == 0 {
		c.MaxPendingBytes = max(64<<20, 2*c.ChunkMaxBytes)
	}
	if c.ChunkMaxAge < 0 || c.AckTimeout < 0 || c.MaxPendingBytes < 0 {
		return c, fmt.Errorf("tiering: negative WAL chunk age, acknowledgement timeout or pending bytes")
	}
	return c, nil
}

// WALSync uploads the store's WAL records to the bucket in chunks and
// holds each append until the chunk holding it is there (serve
// --sync-to-object-store). It implements eventlog.WALShipper. Chunks go up
// one at a time, in order; the records appended meanwhile wait for the
// next one (group commit). A chunk whose records a published manifest
// covers (its sealed_seq) is retired: wal/FIRST moves past it and it is
// deleted once the uploader's delete grace has passed since that
// manifest's publication.
type WALSync struct {
	cfg    WALSyncConfig
	up     Config // the uploader's: store, backoff, timeouts, grace, clock, logs
	store  objstore.Store
	writer string
	log    *slog.Logger
	wake   chan struct{}

	mu sync.Mutex
	// pending are the records shipped and not cut into a chunk yet, back
	// to back; recs their ends and sequence numbers.
	pending  []byte
	recs     []pendingRecord
	since    time.Time // when the oldest pending record was shipped
	inflight int64     // bytes of the chunk being uploaded
	// shipped is the last sequence number of the last chunk uploaded by
	// this run; next is the number of the next chunk.
	shipped, next uint64
	chunks        []chunkRef // in the bucket and not deleted, oldest first
	covered       uint64     // the latest published manifest's sealed_seq
	coveredAt     time.Time  // and its publication time
	counters      walCounters
	lastErr       error
	fenced        error
	closed        bool
	changed       chan struct{} // closed and replaced whenever shipped, lastErr, fenced or closed change
	// retryAt delays the next retirement after a failed one (the backoff
	// of retireBackoff); only the goroutine uses them.
	retryAt       time.Time
	retireBackoff interface {
		NextBackOff() time.Duration
		Reset()
	}

	cancel context.CancelFunc
	done   chan struct{}
}

// pendingRecord is one shipped record of WALSync.pending.
type pendingRecord struct {
	end         int
	first, last uint64
}

// chunkRef is a chunk in the bucket: its number, last sequence number (0:
// not known yet, a chunk of an earlier run) and since when a published
// manifest covers it (zero: not yet).
type chunkRef struct {
	number, last uint64
	retired      time.Time
}

type walCounters struct {
	chunks, bytes, errors, deletes int64
}

// SyncWAL makes the WALSync of u's store: it finds, in the bucket, the
// next chunk number and the chunks of earlier runs (by number from
// wal/FIRST, never by listing). Pass it as eventlog.Options.WALShipper
// before opening the store, Start it once the store is open, and Close it
// after the store.
func (u *Uploader) SyncWAL(ctx context.Context, cfg WALSyncConfig) (*WALSync, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	w := &WALSync{cfg: cfg, up: u.cfg, store: u.store, writer: u.writer, log: u.log,
		wake: make(chan struct{}, 1), changed: make(chan struct{})}
	if err := w.findChunks(ctx); err != nil {
		return nil, fmt.Errorf("tiering: WAL chunks in %s: %w", w.store, err)
	}
	u.mu.Lock()
	u.walSync = w
	published := u.published
	u.mu.Unlock()
	if published != nil {
		w.published(published)
	}
	return w, nil
}

// findChunks reads wal/FIRST, deletes the chunks below it that an
// interrupted retirement left, and finds the chunks from it on.
func (w *WALSync) findChunks(ctx context.Context) error {
	first, err := readFirstChunk(ctx, w.store)
	if err != nil {
		return err
	}
	for n := first - 1; n > 0; n-- {
		ok, err := chunkExists(ctx, w.store, n)
		if err != nil || !ok {
			break
		}
		if err := w.store.Delete(ctx, chunkKey(n)); err != nil {
			return err
		}
	}
	if w.next, err = nextChunkNumber(ctx, w.store, first); err != nil {
		return err
	}
	for n := first; n < w.next; n++ {
		w.chunks = append(w.chunks, chunkRef{number: n})
	}
	return nil
}

// Start starts the goroutine that uploads chunks and retires them. Close
// stops it.
func (w *WALSync) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel, w.done = cancel, make(chan struct{})
	w.retireBackoff = client.NewBackOff(w.up.MinBackoff, w.up.MaxBackoff)
	go w.run(ctx)
}

// Close stops the goroutine and waits for it; appends still waiting fail.
// Records not uploaded yet stay in the local WAL.
func (w *WALSync) Close() {
	if w.cancel != nil {
		w.cancel()
		<-w.done
	}
	w.mu.Lock()
	w.closed = true
	w.broadcast()
	w.mu.Unlock()
}

// Ship implements eventlog.WALShipper: it copies rec to the records
// waiting for the next chunk.
func (w *WALSync) Ship(rec []byte) {
	first, count, err := wal.RecordFirstSeq(rec)
	if err != nil { // the WAL just wrote it: a bug
		w.log.Error("tiering: WAL record not shipped", "err", err)
		return
	}
	w.mu.Lock()
	if len(w.recs) == 0 {
		w.since = time.Now()
	}
	w.pending = append(w.pending, rec...)
	w.recs = append(w.recs, pendingRecord{end: len(w.pending), first: first, last: first + uint64(count) - 1})
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Wait implements eventlog.WALShipper: it returns once the chunk holding
// seq is in the bucket, or fails when ctx ends, after
// WALSyncConfig.AckTimeout, or once the WALSync is fenced or closed.
func (w *WALSync) Wait(ctx context.Context, seq uint64) error {
	var timeout <-chan time.Time
	for {
		w.mu.Lock()
		shipped, fenced, closed, lastErr, changed := w.shipped, w.fenced, w.closed, w.lastErr, w.changed
		w.mu.Unlock()
		switch {
		case shipped >= seq:
			return nil
		case fenced != nil:
			return fmt.Errorf("WAL sync to %s stopped: %w", w.store, fenced)
		case closed:
			return fmt.Errorf("WAL sync to %s: closed before the chunk holding seq %d was uploaded", w.store, seq)
		}
		if timeout == nil {
			t := time.NewTimer(w.cfg.AckTimeout)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("waiting for the WAL chunk holding seq %d to reach %s: %w", seq, w.store, ctx.Err())
		case <-timeout:
			why := "its upload has not answered yet"
			if lastErr != nil {
				why = "last error: " + lastErr.Error()
			}
			return fmt.Errorf("the WAL chunk holding seq %d is not in %s after %s (%s); still retrying", seq, w.store, w.cfg.AckTimeout, why)
		}
	}
}

// Admit implements eventlog.WALShipper: it returns once the records
// waiting for a chunk and the chunk being uploaded hold less than
// MaxPendingBytes, or fails after AckTimeout, when ctx ends, or once the
// WALSync is fenced or closed.
func (w *WALSync) Admit(ctx context.Context) error {
	var timeout <-chan time.Time
	for {
		w.mu.Lock()
		backlog, fenced, closed, lastErr, changed := int64(len(w.pending))+w.inflight, w.fenced, w.closed, w.lastErr, w.changed
		w.mu.Unlock()
		switch {
		case fenced != nil:
			return fmt.Errorf("WAL sync to %s stopped: %w", w.store, fenced)
		case closed:
			return fmt.Errorf("WAL sync to %s: closed", w.store)
		case backlog < w.cfg.MaxPendingBytes:
			return nil
		}
		if timeout == nil {
			t := time.NewTimer(w.cfg.AckTimeout)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("waiting for room among the WAL records bound for %s: %w", w.store, ctx.Err())
		case <-timeout:
			return fmt.Errorf("%d bytes of WAL records still wait for their upload to %s after %s (limit %d; last error: %v)",
				backlog, w.store, w.cfg.AckTimeout, w.cfg.MaxPendingBytes, lastErr)
		}
	}
}

// broadcast wakes every Wait. w.mu is held.
func (w *WALSync) broadcast() {
	close(w.changed)
	w.changed = make(chan struct{})
}

// run uploads chunks one at a time and retires covered ones, until ctx
// ends or another writer takes the prefix.
func (w *WALSync) run(ctx context.Context) {
	defer close(w.done)
	for ctx.Err() == nil {
		c := w.nextChunk(ctx)
		if c != nil && !w.uploadChunk(ctx, c) {
			return
		}
		if err := w.retire(ctx); err != nil && ctx.Err() == nil {
			w.log.Warn("tiering: retiring WAL chunks failed; retrying later", "err", err)
			w.noteErr(err, false)
			w.mu.Lock()
			w.retryAt = w.up.Now().Add(w.retireBackoff.NextBackOff())
			w.mu.Unlock()
		} else {
			w.retireBackoff.Reset()
		}
	}
}

// nextChunk waits until a chunk is due — the pending records reach
// ChunkMaxBytes or the oldest has waited ChunkMaxAge — and cuts it. It
// returns nil when ctx ended, when a chunk deletion is due first, or when
// it was woken with no record waiting (a publication).
func (w *WALSync) nextChunk(ctx context.Context) *chunk {
	for {
		w.mu.Lock()
		var due time.Duration = -1
		if len(w.recs) > 0 {
			due = w.cfg.ChunkMaxAge - time.Since(w.since)
			if int64(len(w.pending)) >= w.cfg.ChunkMaxBytes || due <= 0 {
				c := w.cut()
				w.mu.Unlock()
				return c
			}
		}
		w.mu.Unlock()
		var timer <-chan time.Time
		if due > 0 {
			timer = time.After(due)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-w.wake:
			if due < 0 {
				return nil // no record waits: a publication woke us, retire what it covers
			}
		case <-timer:
		case <-w.nextDeletion():
			return nil
		}
	}
}

// cut takes the pending records, up to ChunkMaxBytes of whole records (at
// least one), as the next chunk. w.mu is held.
func (w *WALSync) cut() *chunk {
	n := 1
	for n < len(w.recs) && int64(w.recs[n].end) <= w.cfg.ChunkMaxBytes {
		n++
	}
	end := w.recs[n-1].end
	c := newChunk(w.next, w.recs[0].first, w.recs[n-1].last, w.pending[:end])
	w.inflight = int64(len(c.data))
	w.pending = append(w.pending[:0], w.pending[end:]...)
	rest := w.recs[n:]
	for i := range rest {
		rest[i].end -= end
	}
	w.recs = append(w.recs[:0], rest...)
	if len(w.recs) > 0 {
		w.since = time.Now() // its records waited through this chunk's upload
	}
	if cap(w.pending) > 4*int(w.cfg.ChunkMaxBytes) && len(w.pending) < int(w.cfg.ChunkMaxBytes) {
		w.pending = append([]byte(nil), w.pending...) // a burst must not pin its buffer
	}
	return c
}

// uploadChunk puts c until it is in the bucket, retrying failures with
// the uploader's backoff. It returns false when the WALSync must stop
// (ctx ended, or fenced).
func (w *WALSync) uploadChunk(ctx context.Context, c *chunk) bool {
	// Appends wait on this chunk: retry at most every maxChunkBackoff, so
	// that they go on soon after the bucket comes back.
	b := client.NewBackOff(w.up.MinBackoff, min(w.up.MaxBackoff, maxChunkBackoff))
	for {
		err := w.put(ctx, c)
		switch {
		case err == nil:
			w.uploaded(c)
			return true
		case errors.Is(err, errChunkTaken):
			w.log.Warn("tiering: WAL chunk number taken by an earlier run of this writer; using the next", "chunk", c.number)
			continue
		case ctx.Err() != nil:
			return false
		case errors.Is(err, ErrFenced):
			w.fence(err)
			return false
		}
		w.noteErr(err, true)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(b.NextBackOff()):
		}
	}
}

// maxChunkBackoff caps the wait between attempts at a chunk upload.
const maxChunkBackoff = 5 * time.Second

// errChunkTaken: the chunk number holds a chunk an earlier run of this
// writer uploaded (it landed after this run looked); c was renumbered.
var errChunkTaken = errors.New("chunk number taken by an earlier run")

// put creates chunk object c.number (If-None-Match: *). A taken number
// holding the same bytes is an earlier attempt of this run whose answer
// was lost; one holding another chunk of this writer is an earlier run's
// (c is renumbered and errChunkTaken returned); anything else is another
// writer's, and the error wraps ErrFenced.
func (w *WALSync) put(ctx context.Context, c *chunk) error {
	rctx, cancel := context.WithTimeout(ctx, w.up.RequestTimeout+time.Duration(len(c.data)>>20)*time.Second)
	defer cancel()
	key := chunkKey(c.number)
	err := objstore.PutBytes(rctx, w.store, key, c.data, objstore.PutOptions{IfNoneMatch: true, Metadata: c.metadata(w.writer)})
	if !errors.Is(err, objstore.ErrPrecondition) {
		if err != nil {
			return fmt.Errorf("upload WAL chunk %d (seq %d..%d): %w", c.number, c.first, c.last, err)
		}
		return nil
	}
	info, err := w.store.Head(rctx, key)
	if err != nil {
		return fmt.Errorf("upload WAL chunk %d: the key is taken, and reading it failed: %w", c.number, err)
	}
	switch {
	case info.Metadata[metaWriter] == w.writer && info.Metadata[metaSHA256] == c.sha256:
		return nil
	case info.Metadata[metaWriter] == w.writer:
		w.mu.Lock()
		w.chunks = append(w.chunks, chunkRef{number: c.number})
		w.next++
		w.mu.Unlock()
		c.number++
		return errChunkTaken
	}
	return fmt.Errorf("%w: WAL chunk %s was created by writer %q, not this one (%s)", ErrFenced, key, info.Metadata[metaWriter], w.writer)
}

// uploaded records that c is in the bucket and wakes its appends.
func (w *WALSync) uploaded(c *chunk) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.shipped, w.next, w.inflight = c.last, c.number+1, 0
	ref := chunkRef{number: c.number, last: c.last}
	if c.last <= w.covered {
		ref.retired = w.coveredAt
	}
	w.chunks = append(w.chunks, ref)
	w.counters.chunks++
	w.counters.bytes += int64(len(c.data))
	w.lastErr = nil
	w.broadcast()
}

// noteErr records a failed attempt; one of an upload is told to the
// appends waiting for it.
func (w *WALSync) noteErr(err error, upload bool) {
	if upload {
		w.log.Warn("tiering: WAL chunk upload failed; appends wait, retrying", "err", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.counters.errors++
	if upload {
		w.lastErr = err
		w.broadcast()
	}
}

// fence tells the owner that another writer took the prefix, then records
// it and fails every waiting append: in that order, so that an append
// failed as fenced finds its owner already told (its health already says
// why).
func (w *WALSync) fence(err error) {
	w.log.Error("tiering: another writer owns the object-store prefix; WAL sync stops", "err", err)
	if w.cfg.OnFenced != nil {
		w.cfg.OnFenced(err)
	}
	w.mu.Lock()
	w.fenced = err
	w.broadcast()
	w.mu.Unlock()
}
