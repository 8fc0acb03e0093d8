package eventlog

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/RoaringBitmap/roaring/v2/roaring64"
	"github.com/eventlogdb/eventlog/compaction"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/match"
	"github.com/eventlogdb/eventlog/segment"
)

// CompactResult says what a compaction run did.
type CompactResult struct {
	// Merges is how many merges ran; Inputs and Outputs count segments.
	Merges  int `json:"merges"`
	Inputs  int `json:"inputs"`
	Outputs int `json:"outputs"`
	// Events is how many events were rewritten.
	Events int `json:"events"`
	// BytesBefore and BytesAfter are the inputs' and outputs' sizes.
	BytesBefore int64 `json:"bytes_before"`
	BytesAfter  int64 `json:"bytes_after"`
	// Purged counts segments brought up to date with deletes by query:
	// rewritten without deleted rows or found to hold none.
	Purged int `json:"purged"`
}

// Compact first purges the rows of deletes by query from disk (see
// Delete), then merges each partition's segments down to as few as fit
// under CompactionMaxSegmentBytes (compaction.PlanFull), whatever their
// sizes, until nothing more can merge, and returns what it did. Each merge
// writes and fsyncs the new segment, then replaces the inputs by it in the
// manifest in one atomic step, then deletes the inputs once no reader
// holds them: a crash leaves either the old segments or the new one, and
// the next Open removes whichever files the manifest does not list.
// Queries running meanwhile keep reading the segments they started with.
func (db *DB) Compact(ctx context.Context) (CompactResult, error) {
	return db.compact(ctx, false)
}

// compact is Compact; once (the background compactor) plans with the
// background policy instead (compaction.Plan: overlapping segments first,
// then size tiers) and runs one merge only (the plan's first job) and, if
// it had work, wakes the background loop for the next: so that under
// ingest that outpaces merging, retention still runs between merges.
func (db *DB) compact(ctx context.Context, once bool) (res CompactResult, err error) {
	if db.opts.ReadOnly {
		return res, ErrReadOnly
	}
	unlock, err := db.lockMaintenance(ctx)
	if err != nil {
		return res, err
	}
	defer unlock()
	if err := db.writeErr(); err != nil {
		return res, fmt.Errorf("eventlog: compact: %w", err)
	}
	defer db.retireRemoved() // after the merges have released their inputs
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { // Close stops a merge in progress
		select {
		case <-db.quit:
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := db.purge(ctx, &res); err != nil {
		return res, fmt.Errorf("eventlog: compact: %w", err)
	}
	for {
		if db.closed.Load() {
			return res, ErrClosed
		}
		jobs := db.planCompaction(once)
		if len(jobs) == 0 {
			return res, nil
		}
		if once { // one merge per run: retention, the disk bound, runs between merges
			jobs = jobs[:1]
		}
		for _, j := range jobs {
			if err := ctx.Err(); err != nil {
				return res, err
			}
			if err := db.merge(ctx, j, &res, once); err != nil {
				if errors.Is(err, errMergeDeferred) {
					return res, err // runCompactor tries again soon
				}
				return res, fmt.Errorf("eventlog: compact: %w", db.checkDamage(err)) // damage found: set aside
			}
		}
		if once {
			db.wakeCompactor() // more may be due: come back after retention
			return res, nil
		}
	}
}

// planCompaction plans a round over the live segments: the background
// policy when once, else the on-demand one. Every job has two inputs or
// more, so rounds of either end.
func (db *DB) planCompaction(once bool) []compaction.Job {
	plan := compaction.PlanFull
	if once {
		plan = compaction.Plan
	}
	return plan(compactionInput(db.state.Load()), db.compactionConfig())
}

// compactionConfig is the compaction policy's configuration.
func (db *DB) compactionConfig() compaction.Config {
	return compaction.Config{MaxSegmentBytes: db.opts.CompactionMaxSegmentBytes, Partition: db.opts.Partition}
}

// compactionInput is st's live segments, as the compaction policy sees
// them.
func compactionInput(st *state) []compaction.Segment {
	out := make([]compaction.Segment, len(st.segments))
	for i, s := range st.segments {
		out[i] = compaction.Segment{Name: s.meta.Name, Bytes: s.meta.Bytes, Events: s.meta.Events, MinTS: s.meta.MinTS, MaxTS: s.meta.MaxTS}
	}
	return out
}

// merge runs one job: the inputs' rows, merged in (@timestamp, sequence)
// order, become one new segment that replaces them, written at the better
// level (segment.MergeEncoder) that seals leave to merges. Its working
// set is charged to the memory budget (AccountCompaction) first: waiting
// for room, or, for a background merge, only if reads let it and there is
// room now; a background merge also gives way to reads and to those who
// wait for memory (errMergeDeferred, compact_memory.go).
func (db *DB) merge(ctx context.Context, j compaction.Job, res *CompactResult, background bool) error {
	inputs, err := db.acquireSegments(j.Inputs)
	if err != nil {
		return err
	}
	defer func() {
		for _, s := range inputs {
			s.release()
		}
	}()
	release, err := db.acquireMerge(ctx, mergeMemory(inputs), background) // compact_memory.go
	if err != nil {
		return err
	}
	defer release()
	ns, err := db.createSegment(nil, db.zenc) // its encoder's tables are charged in mergeMemory
	if err != nil {
		return err
	}
	applied := db.tombstonesToApply()
	erased, expired := erasures{}, db.expiredSet()
	level := applied.newest() // lowered when a hold keeps a row a tombstone hides
	n, err := db.mergeInto(ctx, ns.w, inputs, applied, erased, expired, &level, db.giveWay(background))
	if err == nil {
		err = db.recordErased(erased) // before the rows leave for good
	}
	if err == nil {
		err = db.unpackLeaves(expired) // their leaves, while the inputs hold them
	}
	if err != nil {
		ns.w.Abort()
		return err
	}
	if n == 0 { // every event had expired: the inputs just go
		ns.w.Abort()
		if _, err := db.replaceSegments(j.Inputs, nil); err != nil {
			return err
		}
		db.recordExpired(expired)
		res.Merges++
		res.Inputs += len(inputs)
		res.BytesBefore += j.Bytes
		return nil
	}
	out, info, err := db.finishSegment(ns, level)
	if err != nil {
		return err
	}
	swapped, err := db.replaceSegments(j.Inputs, []*liveSegment{out})
	if !swapped {
		abandonSegments([]*liveSegment{out}, err)
		return err
	}
	if err != nil { // the merge is done; an input file stays until the next open
		db.log.Error("eventlog: compaction could not remove an input; the next open will", "err", err)
	}
	db.recordExpired(expired)
	db.compactions.Add(1)
	db.compactedSegments.Add(int64(len(inputs)))
	db.compactedEvents.Add(int64(n))
	db.compactionSaved.Add(j.Bytes - info.FileBytes)
	res.Merges++
	res.Inputs += len(inputs)
	res.Outputs++
	res.Events += n
	res.BytesBefore += j.Bytes
	res.BytesAfter += info.FileBytes
	db.log.Info("eventlog: compacted segments", "inputs", j.Inputs, "output", ns.name, "events", n, "bytes_before", j.Bytes, "bytes_after", info.FileBytes)
	return nil
}

// acquireSegments takes a reference on each named live segment.
func (db *DB) acquireSegments(names []string) ([]*liveSegment, error) {
	st := db.state.Load()
	var out []*liveSegment
	for _, name := range names {
		i := slices.IndexFunc(st.segments, func(s *liveSegment) bool { return s.meta.Name == name })
		if i < 0 || !st.segments[i].acquire() {
			for _, s := range out {
				s.release()
			}
			return nil, fmt.Errorf("segment %s is no longer live", name)
		}
		out = append(out, st.segments[i])
	}
	return out, nil
}

// mergeInto adds the rows of inputs to w in (@timestamp, sequence) order,
// leaving out expired events and those a tombstone of tombs hides, and
// pacing reads to CompactionBytesPerSecond. It returns how many rows it
// added.
// It notes the client ids of the events it leaves out in erased and, with
// the tree kept (expired not nil), the sequence numbers of the expired
// ones in expired.
func (db *DB) mergeInto(ctx context.Context, w *segment.Writer, inputs []*liveSegment, tombs tombstones, erased erasures, expired *roaring64.Bitmap, level *uint64, giveWay func() error) (int, error) {
	holds := db.liveHolds()
	h := &mergeHeap{}
	deletes := map[*mergeCursor]tombstones{} // what each input is not yet clean of
	for _, s := range inputs {
		c := &mergeCursor{name: s.meta.Name, bytesPerRow: float64(s.meta.Bytes) / float64(max(s.meta.Events, 1))}
		next, stop := iter.Pull2(c.rowsOf(s.r))
		defer stop()
		c.next = next
		deletes[c] = tombs.after(s.purged.Load(), s.meta.MinSeq)
		if err := c.advance(); err != nil {
			return 0, err
		}
		if c.ev != nil {
			heap.Push(h, c)
		}
	}
	pace := newPacer(db.opts.CompactionBytesPerSecond, db.opts.CompactionCPUShare)
	now, until := db.opts.Now(), db.erasedUntil()
	n := 0
	for rows := 1; h.Len() > 0; rows++ {
		if giveWay != nil && rows%giveWayRows == 0 {
			if err := giveWay(); err != nil {
				return n, err
			}
		}
		c := (*h)[0]
		gone := db.expired(c.ev, now)
		if gone && expired != nil {
			expired.Add(c.seq)
		}
		deleted := holds.erases(deletes[c], c.seq, c.ev)
		if !deleted && deletes[c].hides(c.seq, c.ev) { // a hold wins: kept, and the delete's purge stays pending
			*level = purgedLevel(*level, deletes[c], c.seq, c.ev)
		}
		if gone || deleted { // expired and deleted events are not carried over
			erased.add(c.seq, c.ev, until)
		} else {
			if err := w.Add(segment.Row{Seq: c.seq, Event: c.ev}); err != nil {
				return n, err
			}
			n++
		}
		if err := pace.wait(ctx, c.bytesPerRow); err != nil {
			return n, err
		}
		if err := c.advance(); err != nil {
			return n, err
		}
		if c.ev == nil {
			heap.Pop(h)
		} else {
			heap.Fix(h, 0)
		}
	}
	return n, nil
}

// rowsOf iterates a segment's rows in storage order; a read error ends the
// iteration and is kept in c.err, so a damaged input fails the merge
// instead of shortening it. It decodes lazily and steps aside for waiting
// goroutines between the columns it decodes (see segment's EachForMerge
// and yielder): decoding a block is one step of the merge, which the
// pacer cannot split.
func (c *mergeCursor) rowsOf(r *segment.Reader) iter.Seq2[uint64, *event.Event] {
	return func(yield func(uint64, *event.Event) bool) {
		y := yielder{last: time.Now()}
		err := r.EachForMerge(y.pause, func(seq uint64, ev *event.Event) error {
			if !yield(seq, ev) {
				return errStopScan
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStopScan) {
			c.err = fmt.Errorf("segment %s: %w", c.name, err)
		}
	}
}

// mergeCursor is one input of a merge: its current row.
type mergeCursor struct {
	name        string
	next        func() (uint64, *event.Event, bool)
	err         error
	seq         uint64
	ev          *event.Event
	pos         match.Position
	bytesPerRow float64
}

func (c *mergeCursor) advance() error {
	seq, ev, ok := c.next()
	if !ok {
		c.ev = nil
		return c.err
	}
	c.seq, c.ev, c.pos = seq, ev, match.Position{TS: ev.Timestamp.UnixNano(), Seq: seq}
	return nil
}

type mergeHeap []*mergeCursor

func (h mergeHeap) Len() int           { return len(h) }
func (h mergeHeap) Less(i, j int) bool { return match.Compare(h[i].pos, h[j].pos) < 0 }
func (h mergeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)        { *h = append(*h, x.(*mergeCursor)) }
func (h *mergeHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// runCompactor applies retention and compacts in the background every
// MaintenanceInterval and after each seal, until Close. Each run makes one
// merge and wakes itself for the next, so retention (the disk bound) is
// never stuck behind more than one merge, however many ingest feeds. A
// merge deferred for memory (errMergeDeferred) is tried again after
// mergeRetry.
func (db *DB) runCompactor() {
	defer close(db.compactorDone)
	tick := time.NewTicker(db.opts.MaintenanceInterval)
	defer tick.Stop()
	var retry <-chan time.Time // after a deferred merge
	for {
		select {
		case <-db.quit:
			return
		case <-tick.C:
		case <-db.compactWake:
		case <-retry:
		}
		retry = nil
		_, err := db.ApplyRetention(context.Background())
		if err == nil && !db.compactionPaused.Load() {
			_, err = db.compact(context.Background(), true)
		}
		db.maintainedAt.Store(db.opts.Now())
		switch {
		case errors.Is(err, errMergeDeferred):
			retry = time.After(min(mergeRetry, db.opts.MaintenanceInterval))
			db.compactErr.Store("")
		case err == nil:
			db.compactErr.Store("")
		case !errors.Is(err, ErrClosed) && !errors.Is(err, context.Canceled):
			db.log.Error("eventlog: background maintenance failed; will retry", "err", err)
			db.compactErr.Store(err.Error())
		}
	}
}

// PauseCompaction stops the background compactor from starting merges
// (one in progress finishes) until ResumeCompaction; Compact still runs on
// demand.
func (db *DB) PauseCompaction() { db.compactionPaused.Store(true) }

// ResumeCompaction lets the background compactor run again.
func (db *DB) ResumeCompaction() {
	db.compactionPaused.Store(false)
	db.wakeCompactor()
}

func (db *DB) wakeCompactor() {
	select {
	case db.compactWake <- struct{}{}:
	default:
	}
}

// lockMaintenance takes the maintenance slot, waiting at most until ctx is
// done.
func (db *DB) lockMaintenance(ctx context.Context) (unlock func(), err error) {
	select {
	case db.maintaining <- struct{}{}:
		return func() { <-db.maintaining }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-db.quit:
		return nil, ErrClosed
	}
}
