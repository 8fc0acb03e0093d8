package eventlog

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/internal/head"
	"github.com/eventlogdb/eventlog/internal/match"
	"github.com/eventlogdb/eventlog/internal/nearsort"
	"github.com/eventlogdb/eventlog/segment"
)

// Sealing turns full heads into segment files:
//
//	roll:  the active head is frozen and a fresh one takes appends (under
//	       stateMu, which also orders inserts, so a frozen head never grows)
//	seal:  the sealer goroutine writes the oldest frozen head as one segment
//	       per time partition (each fsynced with its directory), then
//	       replaces the manifest, then publishes a state with the segments
//	       instead of the head, then checkpoints the WAL.
//
// A crash before the manifest replace leaves orphan segment files, deleted
// on open (their events are still in the WAL); a crash after it leaves WAL
// files the next checkpoint deletes. Either way every event is in exactly
// one of the two.

// insertCommitted puts a committed batch into the active head. The WAL
// calls it under its ordering lock, so batches arrive in sequence order.
func (db *DB) insertCommitted(first uint64, b *batch) {
	now := db.opts.Now()
	db.stateMu.Lock()
	defer db.stateMu.Unlock()
	h := db.state.Load().active
	db.headsMem.Charge(h.InsertBatch(first, &b.rows, b.eventData(), now))
	if b.tomb != nil {
		b.tomb.Seq = first + uint64(b.rows.Len()) - 1
		db.installTombstone(b.tomb)
	}
	if db.headFull(h.Stats()) {
		db.rollLocked()
	}
}

// newHead returns an empty head with room for rows rows and terms posting
// keys (head.NewSized), charging the heads' account for the postings it
// adds after replay (head.Head.OnGrow).
func (db *DB) newHead(rows, terms int) *head.Head {
	h := head.NewSized(&db.published, rows, terms)
	h.OnGrow(func(delta int64) {
		if delta > 0 {
			db.headsMem.Charge(delta)
		} else {
			db.headsMem.Release(-delta)
		}
	})
	return h
}

// setStateLocked publishes st and wakes everyone waiting for a change.
func (db *DB) setStateLocked(st *state) {
	old := db.state.Load()
	db.state.Store(st)
	close(old.changed)
}

// wakeWaiters republishes the current state so everyone waiting for a
// change (Appends held back by MaxFrozenHeads) looks again, e.g. at a new
// sealing error.
func (db *DB) wakeWaiters() {
	db.stateMu.Lock()
	defer db.stateMu.Unlock()
	st := *db.state.Load()
	st.changed = make(chan struct{})
	db.setStateLocked(&st)
}

// rollLocked freezes the active head and starts a fresh one.
func (db *DB) rollLocked() {
	st := db.state.Load()
	full := st.active.Stats()
	if full.Rows == 0 {
		return
	}
	db.setStateLocked(&state{
		active:   db.newHead(full.Rows, full.Terms),
		frozen:   append(slices.Clip(st.frozen), st.active),
		segments: st.segments,
		changed:  make(chan struct{}),
	})
	select {
	case db.sealWake <- struct{}{}:
	default:
	}
}

// Roll freezes the active head and seals every frozen head into segments
// before it returns, in the caller's goroutine. Sealing normally happens on
// its own (by size and age); Roll is for tests, tools and shutdown.
func (db *DB) Roll(ctx context.Context) error {
	if db.closed.Load() {
		return ErrClosed
	}
	if db.opts.ReadOnly {
		return ErrReadOnly
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	db.stateMu.Lock()
	db.rollLocked()
	db.stateMu.Unlock()
	return db.sealFrozen()
}

// waitSealed waits until at most max heads are frozen and, while the
// memory budget is over its limit, until no head is: sealing is what frees
// the store's memory.
func (db *DB) waitSealed(ctx context.Context, max int) error {
	for {
		st := db.state.Load()
		if len(st.frozen) <= max && (len(st.frozen) == 0 || !db.mem.Over()) {
			return nil
		}
		if err := db.sealErr(); err != nil {
			return fmt.Errorf("%w: %w", errSealing, err)
		}
		select {
		case <-st.changed:
		case <-ctx.Done():
			return ctx.Err()
		case <-db.quit:
			return ErrClosed
		}
	}
}

func (db *DB) sealErr() error {
	db.sealErrMu.Lock()
	defer db.sealErrMu.Unlock()
	return db.lastSealErr
}

// runSealer is the sealing goroutine: it seals frozen heads as they come and
// rolls the active head when it gets too old. Close stops it.
func (db *DB) runSealer() {
	defer close(db.sealerDone)
	every := min(db.opts.SegmentMaxAge/4, time.Second)
	if db.opts.SegmentIdle > 0 {
		every = min(every, db.opts.SegmentIdle/4)
	}
	tick := time.NewTicker(max(every, time.Millisecond))
	defer tick.Stop()
	backoff := time.Duration(0)
	for {
		select {
		case <-db.quit:
			return
		case <-db.sealWake:
		case <-tick.C:
			db.rollIfOld()
			db.releaseSealScratch()
		}
		if backoff > 0 {
			select {
			case <-db.quit:
				return
			case <-time.After(backoff):
			}
		}
		if err := db.sealFrozen(); err != nil {
			backoff = min(max(2*backoff, 100*time.Millisecond), 10*time.Second)
			db.log.Error("eventlog: sealing failed; will retry", "err", err, "retry_in", backoff)
			select { // retry even if nothing else wakes the sealer
			case db.sealWake <- struct{}{}:
			default:
			}
			continue
		}
		backoff = 0
	}
}

// sealScratchIdle is how long after the last seal the sealer keeps the
// seals' working memory (DB.sealScratch, about sealStaging): while heads
// keep coming, several seals a second reuse it; once they stop, the
// memory goes back to the collector rather than stay out of the budget.
const sealScratchIdle = time.Second

// releaseSealScratch releases the seals' kept working memory once no seal
// has ended for sealScratchIdle, unless a seal is running.
func (db *DB) releaseSealScratch() {
	if !db.sealMu.TryLock() {
		return
	}
	defer db.sealMu.Unlock()
	if time.Since(db.lastSealed) >= sealScratchIdle {
		db.sealScratch.Release()
	}
}

// idleRollShare is the part of a full head (headFull) an idle one must
// hold to be rolled (Options.SegmentIdle).
const idleRollShare = 16

// rollIfOld rolls the active head when it is too old (SegmentMaxAge), or
// idle and big enough to be worth a segment of its own (SegmentIdle).
func (db *DB) rollIfOld() {
	db.stateMu.Lock()
	defer db.stateMu.Unlock()
	hs := db.state.Load().active.Stats()
	if hs.Rows == 0 {
		return
	}
	now := db.opts.Now()
	if now.Sub(hs.Created) >= db.opts.SegmentMaxAge || db.idleFull(hs, now) {
		db.rollLocked()
	}
}

// idleFull reports whether a head with these stats has been idle for
// SegmentIdle and holds at least 1/idleRollShare of what fills it.
func (db *DB) idleFull(hs head.Stats, now time.Time) bool {
	return db.opts.SegmentIdle > 0 && now.Sub(hs.Updated) >= db.opts.SegmentIdle && db.headFilled(hs, idleRollShare)
}

// sealFrozen seals every frozen head, oldest first.
func (db *DB) sealFrozen() error {
	db.sealMu.Lock()
	defer db.sealMu.Unlock()
	if err := db.writeErr(); err != nil {
		return err
	}
	for {
		st := db.state.Load()
		if len(st.frozen) == 0 {
			return nil
		}
		err := db.seal(st.frozen[0])
		db.sealErrMu.Lock()
		db.lastSealErr = err
		db.sealErrMu.Unlock()
		if err != nil {
			db.wakeWaiters()
			return err
		}
	}
}

// seal writes h as segments, records them in the manifest, swaps them in
// for h and checkpoints the WAL.
func (db *DB) seal(h *head.Head) error {
	if db.wal != nil {
		// Postings replay deferred are added first, so that the estimate
		// released below is final: a snapshot still reading h would add
		// them later, charging memory nothing gives back. During Open
		// (db.wal is nil) no snapshot exists, and they are never needed.
		h.IndexAll()
	}
	hs := h.Stats()
	working := sealMemory(hs)
	db.sealMem.Charge(working)
	written, err := db.writeSegments(h)
	db.lastSealed = time.Now()
	db.sealMem.Release(working)
	if err != nil {
		return err
	}
	if err := db.syncLeavesForSeal(hs.LastSeq); err != nil {
		abandonSegments(written, err)
		return err
	}
	// The manifest's fsyncs happen under manifestMu only: stateMu, which
	// every Append's commit needs, is held just for the swap.
	db.manifestMu.Lock()
	m := db.manifest.clone()
	for _, s := range written {
		m.Segments = append(m.Segments, s.meta)
	}
	m.SealedSeq = max(m.SealedSeq, hs.LastSeq)
	db.withTombstones(m)
	if err := db.commitManifest(m); err != nil {
		db.manifestMu.Unlock()
		abandonSegments(written, err)
		return err
	}
	db.manifest = m
	db.stateMu.Lock()
	st := db.state.Load()
	if st.frozen[0] != h {
		panic("eventlog: sealed a head that is not the oldest frozen one")
	}
	db.retireTombstonesLocked(m)
	db.setStateLocked(&state{
		active:   st.active,
		frozen:   st.frozen[1:],
		segments: append(slices.Clip(st.segments), written...),
		changed:  make(chan struct{}),
	})
	db.stateMu.Unlock()
	db.manifestMu.Unlock()
	db.headsMem.Release(hs.Memory)
	db.log.Debug("eventlog: sealed head", "events", hs.Rows, "segments", len(written), "sealed_seq", m.SealedSeq)
	db.wakeCompactor()
	if db.wal == nil { // replaying during Open, which checkpoints afterwards
		return nil
	}
	// The seal is done whatever happens here: a failed checkpoint only
	// leaves WAL files the next seal's checkpoint deletes (replay skips
	// their sealed records), so it is logged, not reported as a seal error.
	if err := db.wal.Checkpoint(m.SealedSeq); err != nil {
		db.log.Error("eventlog: WAL checkpoint failed; the next seal retries it", "sealed_seq", m.SealedSeq, "err", err)
	}
	return nil
}

// discardSegments releases segments that never became live and removes
// their files, so a seal that keeps failing (a full disk) does not pile up
// orphans while it retries.
func discardSegments(segs []*liveSegment) {
	for _, s := range segs {
		s.obsolete.Store(true)
		s.release()
	}
}

// writeSegments writes one segment per time partition of h's rows and
// returns them opened. Rows are decoded one at a time (sharing the head's
// memory) and streamed into
// the segment writer in (@timestamp, sequence) order (the writer copies
// what it keeps into its block's columns), so sealing holds one decoded
// event and a staged block, not the whole head. Segment ids are taken from
// the manifest under manifestMu.
func (db *DB) writeSegments(h *head.Head) ([]*liveSegment, error) {
	// Rows a durable delete by query hides are left out; the segments say
	// up to which tombstone they are clean.
	applied := db.tombstonesToApply()
	tombs := applied.after(0, h.Stats().FirstSeq)
	holds := db.liveHolds()
	level := applied.newest() // lowered when a hold keeps a row a tombstone hides
	items := h.Sorted()
	var posts []*index.Builder // each segment's, when taken from the head's
	if len(tombs) == 0 {       // else rows may be left out: Add finds each row's terms
		var err error
		if posts, err = db.headPostings(h, items); err != nil {
			return nil, fmt.Errorf("seal: %w", err)
		}
	}
	var out []*liveSegment
	fail := func(err error) ([]*liveSegment, error) {
		discardSegments(out)
		return nil, err
	}
	var (
		ns   *newSegment // the segment being written, nil between partitions
		part int64
		dec  event.RowDecoder // one event, reused from row to row; Add copies what it keeps
	)
	finish := func() error {
		s, _, err := db.finishSegment(ns, level)
		ns = nil
		if err != nil {
			return err
		}
		out = append(out, s)
		return nil
	}
	for _, it := range items {
		// Shared: a head's rows never change (its arena is append-only), and
		// the writer copies what it keeps, so no copy of each event is needed.
		ev, err := dec.Decode(it.Data)
		if err != nil {
			if ns != nil {
				ns.w.Abort()
			}
			return fail(fmt.Errorf("seal: event %d: %w", it.Seq, err))
		}
		if holds.erases(tombs, it.Seq, ev) {
			continue
		}
		if tombs.hides(it.Seq, ev) { // kept for a hold: its delete stays pending
			level = purgedLevel(level, tombs, it.Seq, ev)
		}
		if p := match.FloorDiv(it.TS, int64(db.opts.Partition)); ns == nil || p != part {
			if ns != nil {
				if err := finish(); err != nil {
					return fail(err)
				}
			}
			part = p
			// The cheap encoder: merges rewrite the columns at the better
			// level (segment.MergeEncoder).
			if ns, err = db.createSegment(&db.sealScratch, db.zentr); err != nil { // under sealMu
				return fail(err)
			}
			if posts != nil {
				err = ns.w.UsePostings(posts[len(out)])
				posts[len(out)] = nil // the writer's now
			}
			if err != nil {
				ns.w.Abort()
				return fail(err)
			}
		}
		if err := ns.w.Add(segment.Row{Seq: it.Seq, Event: ev, Shape: dec.Shape()}); err != nil {
			ns.w.Abort()
			return fail(fmt.Errorf("write segment %s: %w", ns.name, err))
		}
	}
	if ns != nil {
		if err := finish(); err != nil {
			return fail(err)
		}
	}
	return out, nil
}

// headPostings returns the postings of the segments writeSegments makes
// of h's rows, items (h.Sorted), when it leaves none out: one builder per
// partition, in order, each numbering its rows as the segment does. They
// come from the head's postings, by term, so the seal does not find every
// row's terms again and look each up (index.Builder.Add was a sixth of
// sealing's CPU). Nil when h's postings are not all added (Batch.Defer,
// during Open), so that the writer finds them row by row.
func (db *DB) headPostings(h *head.Head, items []head.Item) ([]*index.Builder, error) {
	// starts[k] is the position in items of partition k's first row; pos
	// maps a head row (Item.Row) to its position in items.
	var starts []uint32
	pos := make([]uint32, len(items))
	for i, it := range items {
		if i == 0 || match.FloorDiv(it.TS, int64(db.opts.Partition)) != match.FloorDiv(items[i-1].TS, int64(db.opts.Partition)) {
			starts = append(starts, uint32(i))
		}
		pos[it.Row] = uint32(i)
	}
	posts := make([]*index.Builder, len(starts))
	terms := h.Stats().Terms
	for k := range posts {
		end := uint32(len(items))
		if k+1 < len(starts) {
			end = starts[k+1]
		}
		// Room for the partition's share of the head's terms, and a
		// quarter more: a term on rows of two partitions is in both.
		share := int64(terms) * int64(end-starts[k]) / int64(len(items))
		posts[k] = index.NewBuilderSized(index.Layout(segment.Version), int(share+share/4))
	}
	var err error
	var at []uint32 // one term's rows as positions in items
	indexed := h.EachPosting(func(t index.Term, rows []uint32) {
		if err != nil {
			return
		}
		at = at[:0]
		for _, r := range rows {
			at = append(at, pos[r])
		}
		nearsort.Sort(at) // rows arrive nearly in @timestamp order
		err = splitPostings(posts, starts, t, at)
	})
	if !indexed {
		return nil, nil
	}
	return posts, err
}

// splitPostings adds a term's rows, as ascending positions in a head's
// sorted rows, to the builders of the partitions starting at starts, each
// numbered from its partition's start.
func splitPostings(posts []*index.Builder, starts []uint32, t index.Term, at []uint32) error {
	for len(at) > 0 {
		k, found := slices.BinarySearch(starts, at[0])
		if !found {
			k--
		}
		n := len(at)
		if k+1 < len(starts) {
			n, _ = slices.BinarySearch(at, starts[k+1])
		}
		part := at[:n]
		for i := range part {
			part[i] -= starts[k]
		}
		if err := posts[k].AddRows(t, part); err != nil {
			return err
		}
		at = at[n:]
	}
	return nil
}

func metaOf(name string, info segment.Info) segmentMeta {
	return segmentMeta{Name: name, Events: info.Events, MinTS: info.MinTS, MaxTS: info.MaxTS,
		MinSeq: info.MinSeq, MaxSeq: info.MaxSeq, Bytes: info.FileBytes}
}

// errSealing marks errors of writes refused because sealing fails.
var errSealing = errors.New("sealing heads into segments is failing")
