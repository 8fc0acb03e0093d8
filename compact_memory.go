package eventlog

import (
	"context"
	"errors"
	"time"

	"github.com/eventlogdb/eventlog/memory"
	"github.com/eventlogdb/eventlog/segment"
)

// AccountCompaction holds, in the memory budget, the working set of the
// merge in progress (mergeMemory): Compact takes it before a merge reads
// anything, waiting for room, the background compactor only when the
// budget has room (and gives way while merging, see giveWay); both give
// it back when the merge ends.
const AccountCompaction = "compaction"

// mergeEventBytes is one event a merge input holds decoded: its
// event.Event (1,456 bytes) and the strings decoded into it.
const mergeEventBytes = 1456 + 1024

// mergeMemory estimates what merging inputs holds: each input's current
// chunk of rows decoded (up to segment.MergeChunkRows events), the new
// segment's postings and sequence numbers, which grow with its rows (the
// inputs' size on disk stands for them: the postings are about a third of
// a segment file, and held as bitmaps they take more than on disk), the
// staged block and buffers (sealStaging, as for a seal), and the tables
// of the process's zstd encoder while the merge compresses with it
// (segment.CompactionEncoderBytes).
func mergeMemory(inputs []*liveSegment) int64 {
	n := int64(sealStaging + segment.CompactionEncoderBytes)
	for _, s := range inputs {
		n += int64(min(s.meta.Events, segment.MergeChunkRows))*mergeEventBytes + s.meta.Bytes
	}
	return n
}

// errMergeDeferred ends a background merge that found no room in the
// memory budget or a read running or just ended, or that gave way to
// memory others wait for or to a read: its output is dropped, its inputs
// stay, and the compactor tries again after mergeRetry.
var errMergeDeferred = errors.New("merge deferred: the memory budget or the store is wanted elsewhere")

// mergeQuiet is how long after the last read ended a background merge
// may start: a merge replaces segments whose decoded documents and
// dictionaries the reads had cached, and takes CPU from them, so it waits
// until the queries are over rather than for a gap between two of them.
const mergeQuiet = 2 * time.Second

// mergeStarve bounds how long reads defer background merges: once reads
// have kept them waiting this long without a quiet moment (a dashboard
// polling every second), merges run beside the reads, as they would
// without the rule, until the reads pause; so segments do not pile up
// under reads that never stop.
const mergeStarve = time.Minute

// endRead counts a read ended, now (db.reads counted it started).
func (db *DB) endRead() {
	db.lastRead.Store(time.Now().UnixNano())
	db.reads.Add(-1)
}

// readsQuiet reports whether no read runs and none ended within
// mergeQuiet.
func (db *DB) readsQuiet() bool {
	return db.reads.Load() == 0 && time.Since(time.Unix(0, db.lastRead.Load())) >= mergeQuiet
}

// readsLetMerge reports whether reads let a background merge start: they
// are quiet, or they have deferred merges for mergeStarve (readsStarve
// holds since when, 0 while they are quiet).
func (db *DB) readsLetMerge() bool {
	if db.readsQuiet() {
		db.readsStarve.Store(0)
		return true
	}
	db.readsStarve.CompareAndSwap(0, time.Now().UnixNano()) // the first deferral starts the clock
	return db.readsStarved()
}

// readsStarved reports whether reads have deferred merges for
// mergeStarve: a merge then does not give way to them.
func (db *DB) readsStarved() bool {
	since := db.readsStarve.Load()
	return since != 0 && time.Since(time.Unix(0, since)) >= mergeStarve
}

// mergeRetry is how soon the background compactor tries again after a
// deferred merge (at most MaintenanceInterval).
const mergeRetry = time.Second

// giveWayRows is how many rows a background merge writes between two
// looks at the memory budget's waiters.
const giveWayRows = 512

// acquireMerge takes a merge's working set of n bytes from the budget.
// A background merge (background) never waits: it takes n only if reads
// let it (readsLetMerge) and the budget has room now, and otherwise
// returns errMergeDeferred, so that merges hold no memory against ingest
// or queries while they wait. An on-demand merge waits for room
// (takeMemory) as long as it takes: until ctx is done, which Close brings
// about. Nothing the merge waits for
// waits on the merge: heads are sealed, queries and requests end and
// give their memory back on their own, and the merge holds no other
// account while it waits. It returns the function that gives the memory
// back.
func (db *DB) acquireMerge(ctx context.Context, n int64, background bool) (release func(), err error) {
	acct := db.mem.Account(AccountCompaction)
	if background {
		if !db.readsLetMerge() || !acct.TryCharge(n) {
			return nil, errMergeDeferred
		}
		return func() { acct.Release(n) }, nil
	}
	for {
		release, err := db.takeMemory(ctx, acct, n, time.Minute)
		if !errors.Is(err, memory.ErrFull) {
			return release, err
		}
	}
}

// giveWay is what a background merge calls between rows: it fails with
// errMergeDeferred when someone waits for room in the memory budget (a
// query, a request, a seal) or a read runs (unless reads have deferred
// merges for mergeStarve), so the merge lets go of its working set and
// the CPU rather than make them wait until it ends. nil for on-demand
// merges, which run to the end.
func (db *DB) giveWay(background bool) func() error {
	if !background {
		return nil
	}
	return func() error {
		if db.mem.Waiting() > 0 || (db.reads.Load() > 0 && !db.readsStarved()) {
			return errMergeDeferred
		}
		return nil
	}
}
