// Package eventlog is an embeddable store for events: audit trails, alerting
// histories, incident "black boxes". Events are Kibana event log documents
// (package event); Append makes them durable through a write-ahead log and
// readable at once from an in-memory head; Query answers filtered,
// time-ranged, sorted and aggregated questions with stable cursors (Find
// and Count are shortcuts onto it).
//
//	db, err := eventlog.Open(dir, eventlog.Options{})
//	db.RegisterProviderActions("actions", "execute", "execute-via-http")
//	res, err := db.Append(ctx, ev1, ev2)
//	page, err := db.Query(ctx, query.Request{Filter: "event.outcome:failure"})
//	db.Close()
//
// Appended events go to the write-ahead log and an in-memory head; a head
// that reaches Options.SegmentMaxBytes or SegmentMaxAge is sealed in the
// background into immutable segment files (one per time partition), listed
// in the manifest, after which the WAL is checkpointed. Reads take a
// reference-counted snapshot of heads and segments at one sequence
// watermark. Compact merges segments and ApplyRetention drops expired ones
// (both also run in the background); Delete removes events by query
// through a durable tombstone that reads honour at once and compaction
// purges from disk. A data directory holds (FORMAT.md describes every byte):
//
//	LOCK            flock held while a DB has the directory open
//	registry.json   the registered provider/action pairs
//	MANIFEST        the live segments and the highest sealed sequence number
//	MANIFEST.prev   the manifest MANIFEST replaced (for Repair)
//	TOMBSTONES      the pending deletes by query, kept redundantly
//	ERASED_IDS      client ids of erased events, kept for Options.DedupWindow
//	HOLDS           the incident holds in force (holds.go)
//	READONLY        written by Repair when it could not prove it kept every delete
//	PSEUDONYMS      the pseudonymised fields and a check value of the key (never the key)
//	integrity/      with Options.Integrity: keys, leaf log and signed heads of the Merkle tree
//	wal/            the write-ahead log
//	segments/       the segment files
//	quarantine/     segments found damaged, at open or while serving (see Repair)
//	repaired/       damaged originals Repair salvaged
//	superseded/     leftover segments a manifest rebuild found replaced
//
// With Options.Pseudonymizer (package privacy) the fields that identify a
// person are stored as keyed HMAC pseudonyms on every ingest path, and
// every filter the store is given is pseudonymised before it matches;
// RetentionSpaceMaxAge gives Kibana spaces their own retention; Notice
// says what is collected, pseudonymised and kept, from the options.
//
// Damaged stored events are never answered silently short: a read that
// reaches a data block whose checksum fails (found, confirmed and
// quarantined while serving) or a quarantined segment fails with a
// *CorruptionError naming the file and block (ErrCorrupt); queries that
// set query.Request.AllowPartial answer from the rest and list what they
// left out; tails stop before it.
//
// # Where each mechanism lives
//
//	db.go, options.go           Open, Close, Stats; the options and their defaults
//	replay.go                   rebuilding the heads from the WAL at Open, in
//	                            stages: decoders of each event's indexed
//	                            part on every core, one inserter
//	memory.go                   the memory budget's store side: what heads and
//	                            seals charge, rolling heads for memory
//	append.go, logger.go        durable appends; the fire-and-forget Logger
//	append_batch.go             Batch: one Append built in parts (the server's
//	                            _bulk, which decodes a chunk at a time)
//	seal.go                     rolling heads and sealing them into segments
//	segments.go                 the segment set: open at start, create, finish,
//	                            replace (the one swap compaction, retention and
//	                            purge use), drop; leftovers and quarantine
//	snapshot.go                 the state, reference-counted segments, and the
//	                            snapshot every read takes
//	query.go, find.go, tail.go  reads: Query/Aggregate/Export, Find/Count, Tail
//	compact.go                  carrying out package compaction's merges
//	retention.go, retention_*   carrying out package retention's drops; the periods
//	delete.go, delete_*         delete by query: tombstones, masks, purge
//	holds.go, holds_*           incident holds: HOLDS, create/release, and what
//	                            they change in retention and in deletes
//	manifest.go                 the manifest, its history and writing it
//	observe.go                  telling an observer (package tiering's uploader)
//	                            of every committed manifest; installing one
//	stopwrites.go, writefault.go  stopping writes when the disk state is unknown;
//	                            full disks and unknown outcomes
//	damage.go                   damage found while serving: confirm, quarantine
//	repair*.go, verify.go       offline repair (segments, WAL, manifest), checks
//	backup*.go, restore.go      online backup and restore
//	integrity.go                the Merkle tree's wiring: leaves as events become
//	                            durable, heads, proofs (package integrity)
package eventlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/eventlogdb/eventlog/compaction"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/integrity"
	"github.com/eventlogdb/eventlog/internal/bigbuf"
	"github.com/eventlogdb/eventlog/internal/head"
	"github.com/eventlogdb/eventlog/internal/match"
	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/memory"
	"github.com/eventlogdb/eventlog/segment"
	"github.com/eventlogdb/eventlog/wal"
)

// Event is an event document; see package event.
type Event = event.Event

// DB is an open data directory. It is safe for concurrent use.
type DB struct {
	dir  string
	opts Options
	log  *slog.Logger
	lock *dirLock
	reg  *registry
	// retention applies the retention periods to events.
	// retention is replaced only by Reload (a follower's read-only store).
	retention atomic.Pointer[retentionPeriods]
	wal       *wal.WAL
	// mem is the memory budget (memory.go); headsMem and sealMem are the
	// store's accounts in it. undoGoLimit puts back the Go runtime's
	// memory limit if Open set it.
	mem               *memory.Budget
	headsMem, sealMem *memory.Account
	// segmentsMem is AccountSegments: what open segments hold in memory.
	segmentsMem *memory.Account
	// dicts keeps the postings dictionaries that queries load, charged
	// to AccountPostingsDicts (memory.go's newDictCache).
	dicts *segment.DictCache
	// docs keeps the documents sparse reads decode, charged to
	// AccountDocCache (memory.go's newDocCache).
	docs        *segment.DocCache
	undoGoLimit func()
	// frameBytes is the bytes per event of the last encoded batch: it
	// sizes the next batch's buffer, so a batch of megabytes is made in
	// one allocation rather than grown by copying.
	frameBytes atomic.Int64
	// recBufs keeps large WAL record buffers across garbage collections
	// (append.go's putBatch).
	recBufs *bigbuf.Pool
	zenc    *zstd.Encoder // segment.MergeEncoder: merges' columns but the two below, and dictionary
	zfast   *zstd.Encoder // segment.SealFastEncoder, for segment.FastColumn's columns
	zentr   *zstd.Encoder // segment.SealEntropyEncoder: segment.EntropyColumn's columns; a seal's others
	zdec    *zstd.Decoder

	// published is the visibility watermark shared by every head: events
	// with a sequence number up to it are readable.
	published atomic.Uint64

	// dedupMu serialises the decisions of the appends that carry client
	// ids: the lookup of their ids and the reservation of the new ones in
	// pending (dedup_pending.go), so two appends of one id cannot both
	// find it absent. It is not held across the WAL write and its fsync,
	// so such appends keep group commit with each other.
	dedupMu sync.Mutex
	// pending holds the client ids reserved by appends between their
	// decision and their outcome; guarded by dedupMu.
	pending map[string]*reservation
	// erased holds the client ids of erased events (erased.go).
	erased erasedIDs
	// holds are the incident holds in force (holds.go); holdsMu
	// serialises their changes (each a rewrite of HOLDS).
	holds   atomic.Pointer[holdSet]
	holdsMu sync.Mutex
	// holdsGen counts the changes of holds: a cached delete mask (which
	// leaves held rows out) computed under an older generation is stale.
	holdsGen atomic.Uint64
	// heldSegments, heldBytes and heldOver are what the holds kept at the
	// last retention plan (HoldStats).
	heldSegments, heldBytes, heldOver atomic.Int64

	// stateMu orders every change of state (inserts into the active head,
	// rolls, seals); readers only load state.
	stateMu sync.Mutex
	state   atomic.Pointer[state]
	// manifestMu serializes manifest changes and is held across the file
	// replace; lock order: manifestMu, then stateMu.
	manifestMu sync.Mutex
	manifest   *manifest // guarded by manifestMu

	readOnly string // the READONLY marker's reason, "" when absent
	// quarantinedMetas describes every segment in quarantine/ (this open's
	// and earlier ones'): their rows may come back through repair.
	quarantinedMetas []segmentMeta
	// removing are the segments dropped from the manifest whose files are
	// not durably gone yet (a reader still holds one, or the directory is
	// not fsynced after its removal): a manifest rebuild after a crash
	// would find them, so a tombstone whose rows one of them holds stays in
	// the manifest until then (purgedIn). Guarded by removingMu, which
	// nests inside manifestMu and stateMu.
	removingMu sync.Mutex
	removing   map[string]segmentMeta
	// damage holds the segments set aside as damaged (damage.go).
	damage damageRegistry

	sealMu sync.Mutex // one seal at a time
	// sealScratch keeps the seals' segment writers' working memory from
	// one seal to the next while heads keep coming, and lastSealed is when
	// the last seal ended; the sealer releases the scratch once seals
	// have paused for sealScratchIdle (runSealer). Both guarded by sealMu.
	sealScratch segment.Scratch
	lastSealed  time.Time
	// maintaining is held (a one-slot semaphore, so waiting for it can be
	// cancelled) by whatever changes the segment set besides sealing:
	// compaction and retention.
	maintaining chan struct{}
	// compactWake asks the background compactor to look for work.
	compactWake   chan struct{}
	compactorDone chan struct{}

	// reads counts the reads running (query.go, read), lastRead holds
	// when the last one ended and readsStarve when reads first deferred a
	// merge without a quiet moment since (Unix ns, the wall clock, 0 for
	// none): background merges wait for a quiet store, but not forever
	// (compact_memory.go, readsLetMerge).
	reads       atomic.Int64
	lastRead    atomic.Int64
	readsStarve atomic.Int64

	// indexerDone is closed when the postings replay deferred are added
	// (replay.go, indexReplayed).
	indexerDone      chan struct{}
	compactionPaused atomic.Bool
	compactErr       atomic.Value // string: the last background failure
	retentionFloor   atomic.Value // func() uint64 (SetRetentionFloor)
	retentionDrops   atomic.Int64
	retentionBytes   atomic.Int64
	// compaction counters (Stats.Maintenance)
	compactions, compactedSegments, compactedEvents, compactionSaved atomic.Int64
	maintainedAt                                                     atomic.Value // time.Time of the last background run
	sealWake                                                         chan struct{}
	sealerDone                                                       chan struct{}
	sealErrMu                                                        sync.Mutex
	lastSealErr                                                      error
	diskFull                                                         diskFull // writefault.go

	loggers *loggerQueue
	// integrity is the Merkle tree over the durable events (integrity.go);
	// nil unless Options.Integrity.
	integrity *integrity.Log

	// tombs are the deletes by query not yet purged (tombstone.go),
	// replaced under stateMu; masks caches the rows they hide per source.
	tombs    atomic.Pointer[tombstones]
	masks    maskCache
	deleteMu sync.Mutex // one Delete at a time, so each counts what it hides
	// delete counters (Stats.Maintenance)
	deletes, deletedEvents, purgeRewrites atomic.Int64

	quit   chan struct{} // closed by Close: background work stops
	closed atomic.Bool
	// readers is held for reading by every Find and Count; Close takes it
	// for writing, so it releases segments and the decoder only after the
	// reads in flight are done.
	readers sync.RWMutex
	// tailers wakes Tail walks when events become visible.
	tailers   broadcast
	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if needed) the data directory dir. It opens the live
// segments (setting damaged ones aside in quarantine/) and replays the
// write-ahead log, so every acknowledged event is readable when it returns.
func Open(dir string, opts Options) (*DB, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("eventlog: %w", err)
	}
	writeP, err := resolvePseudonyms(&opts, dir)
	if err != nil {
		return nil, err
	}
	exp, err := newRetentionPeriods(opts)
	if err != nil {
		return nil, fmt.Errorf("eventlog: options: %w", err)
	}
	marker, err := readOnlyReason(opts.FS, dir)
	if err != nil {
		return nil, err
	}
	if marker != "" {
		opts.ReadOnly = true
		opts.Logger.Warn("eventlog: the store opens read-only", "dir", dir, "reason", marker, "marker", filepath.Join(dir, readOnlyFile))
	}
	db := &DB{dir: dir, opts: opts, log: opts.Logger, readOnly: marker, sealWake: make(chan struct{}, 1), compactWake: make(chan struct{}, 1), maintaining: make(chan struct{}, 1), quit: make(chan struct{})}
	db.retention.Store(exp)
	db.recBufs = bigbuf.New(recBuffers, bigRecMin, bigRecMax)
	db.mem = memory.New(opts.MemoryLimit)
	db.headsMem, db.sealMem = db.mem.Account(AccountHeads), db.mem.Account(AccountSeal)
	db.segmentsMem = db.mem.Account(AccountSegments)
	db.dicts = db.newDictCache()
	db.docs = db.newDocCache()
	_, db.undoGoLimit = memory.SetGoLimit(opts.MemoryLimit)
	db.state.Store(&state{active: db.newHead(0, 0), changed: make(chan struct{})})
	db.tombs.Store(&tombstones{})
	if err := db.open(); err != nil {
		db.releaseAll()
		return nil, err
	}
	if writeP && !opts.ReadOnly {
		if err := writePseudonyms(opts.FS, dir, opts.Pseudonymizer); err != nil {
			db.releaseAll()
			return nil, err
		}
	}
	if !opts.ReadOnly {
		db.sealerDone = make(chan struct{})
		go db.runSealer()
		db.loggers = startLoggerQueue(db)
		if opts.MaintenanceInterval > 0 {
			db.compactorDone = make(chan struct{})
			go db.runCompactor()
		}
		db.recordForks(context.Background()) // a repair's or restore's loss, as an event
	}
	db.indexReplayed()
	return db, nil
}

func (db *DB) open() error {
	if !db.opts.ReadOnly {
		if err := vfs.MkdirAllDurable(db.opts.FS, db.segDir(), 0o755); err != nil {
			return fmt.Errorf("eventlog: create %s: %w", db.dir, err)
		}
		lock, err := lockDir(db.dir)
		if err != nil {
			return err
		}
		db.lock = lock
	}
	var err error
	if db.zenc, err = segment.MergeEncoder(); err != nil {
		return err
	}
	if db.zfast, err = segment.SealFastEncoder(); err != nil {
		return err
	}
	if db.zentr, err = segment.SealEntropyEncoder(); err != nil {
		return err
	}
	if db.zdec, err = segment.NewDecoder(); err != nil {
		return err
	}
	if db.reg, err = loadRegistry(db.opts.FS, db.dir, db.opts.ReadOnly); err != nil {
		return err
	}
	if err := db.loadErased(); err != nil {
		return err
	}
	if err := db.loadHolds(); err != nil {
		return err
	}
	if err := db.openSegments(); err != nil {
		return err
	}
	if err := db.openIntegrity(); err != nil {
		return err
	}
	rp := db.startReplay()
	w, err := wal.Open(wal.Options{
		FS:           db.opts.FS,
		Dir:          filepath.Join(db.dir, "wal"),
		Sync:         db.opts.Sync,
		SyncInterval: db.opts.SyncInterval,
		MaxFileBytes: db.opts.WALMaxFileBytes,
		ReadOnly:     db.opts.ReadOnly,
		Repair:       db.opts.Repair,
		Logger:       db.log,
		ObserveFsync: db.opts.ObserveFsync,
		OnDurable:    db.onDurable,
		KeepPayloads: true, // the heads adopt them (replay.go)
		MapPayloads:  true, // from the WAL's files, whose pages the heads keep
	}, db.manifest.SealedSeq, db.replayWithLeaves(rp.record))
	if ferr := rp.finish(); ferr != nil && err == nil {
		w.Close()
		err = fmt.Errorf("wal: replay: %w", ferr)
	}
	if err != nil {
		return fmt.Errorf("eventlog: open %s: %w", db.dir, err)
	}
	db.wal = w
	head.Publish(&db.published, w.NextSeq()-1)
	if err := db.startIntegrity(); err != nil {
		return err
	}
	if !db.opts.ReadOnly {
		if err := w.Checkpoint(db.manifest.SealedSeq); err != nil {
			return fmt.Errorf("eventlog: open %s: checkpoint: %w", db.dir, err)
		}
	}
	return nil
}

func (db *DB) segDir() string { return filepath.Join(db.dir, "segments") }

// Close flushes the Logger queue, syncs the WAL and releases the directory.
// It is idempotent; later calls return the first call's result.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		if db.loggers != nil {
			db.loggers.stop()
		}
		db.closed.Store(true)
		db.readers.Lock() // wait for reads in flight; later ones see closed
		defer db.readers.Unlock()
		var err error
		if !db.opts.ReadOnly {
			// Seal what the head holds, so the next open replays little.
			db.stateMu.Lock()
			db.rollLocked()
			db.stateMu.Unlock()
			err = db.sealFrozen()
		}
		close(db.quit)
		if db.sealerDone != nil {
			<-db.sealerDone
		}
		if db.compactorDone != nil {
			<-db.compactorDone
		}
		if db.indexerDone != nil {
			<-db.indexerDone
		}
		db.maintaining <- struct{}{} // an on-demand Compact sees quit and stops
		defer func() { <-db.maintaining }()
		db.closeErr = errors.Join(err, db.releaseAll())
	})
	return db.closeErr
}

// releaseAll closes everything Open acquired; it tolerates a partial open.
func (db *DB) releaseAll() error {
	var errs []error
	if db.wal != nil {
		errs = append(errs, db.wal.Close())
	}
	if db.integrity != nil { // after the WAL: its last fsync's leaves are written
		errs = append(errs, db.integrity.Close())
	}
	if st := db.state.Load(); st != nil {
		for _, s := range st.segments {
			errs = append(errs, s.release())
		}
	}
	errs = append(errs, db.damage.release())
	if db.zdec != nil {
		db.zdec.Close()
	}
	db.undoGoLimit()
	return errors.Join(append(errs, db.lock.release())...)
}

// RegisterProviderActions allows events with the provider and each of the
// actions. The registry is saved in the data directory, so a reopened DB
// remembers it.
func (db *DB) RegisterProviderActions(provider string, actions ...string) error {
	if db.closed.Load() {
		return ErrClosed
	}
	return db.reg.register(provider, actions)
}

// IsRegistered reports whether the provider/action pair is registered.
func (db *DB) IsRegistered(provider, action string) bool {
	return db.reg.isRegistered(provider, action)
}

// ProviderActions returns every registered provider with its actions, sorted.
func (db *DB) ProviderActions() map[string][]string { return db.reg.list() }

// Stats are counters and sizes of an open DB.
type Stats struct {
	// HeadEvents and HeadBytes describe the in-memory heads, the active one
	// and FrozenHeads waiting to be sealed (bytes of the events' binary
	// form).
	HeadEvents  int   `json:"head_events"`
	HeadBytes   int64 `json:"head_bytes"`
	FrozenHeads int   `json:"frozen_heads"`
	// Segments, SegmentEvents and SegmentBytes describe the live segment
	// files.
	Segments      int   `json:"segments"`
	SegmentEvents int   `json:"segment_events"`
	SegmentBytes  int64 `json:"segment_bytes"`
	// Quarantined lists the segment files set aside as damaged and not
	// yet repaired: those in quarantine/ (at this open or an earlier one)
	// and those found damaged while serving. Reads that reach their events
	// fail with ErrCorrupt (or answer partially).
	Quarantined []string `json:"quarantined"`
	// SealError is the last sealing failure, "" once sealing succeeds.
	SealError string `json:"seal_error"`
	// DiskFull says why writes find the disk full (ENOSPC): set by an
	// append or seal that failed so, "" once a later append (for a seal's,
	// a later seal) succeeds.
	DiskFull string `json:"disk_full"`
	// ReadOnly: the DB was opened with Options.ReadOnly, or because of its
	// READONLY marker (written by Repair), whose reason ReadOnlyReason
	// then holds ("" otherwise).
	ReadOnly       bool   `json:"read_only"`
	ReadOnlyReason string `json:"read_only_reason,omitempty"`
	// LastSeq is the highest sequence number readable; DurableSeq the
	// highest known to be fsynced.
	LastSeq    uint64 `json:"last_seq"`
	DurableSeq uint64 `json:"durable_seq"`
	// LoggerDropped counts events DB.Logger dropped because its queue
	// stayed full; LoggerErrors the events it failed to append.
	LoggerDropped uint64    `json:"logger_dropped"`
	LoggerErrors  uint64    `json:"logger_errors"`
	WAL           wal.Stats `json:"wal"`
	// Maintenance describes compaction, retention and deletes by query.
	Maintenance MaintenanceStats `json:"maintenance"`
	// Memory describes the memory budget and the memory beside it.
	Memory MemoryStats `json:"memory"`
	// Holds is the disk cost of the incident holds.
	Holds HoldStats `json:"holds"`
	// Integrity is what the Merkle tree costs on disk (nil when it is off):
	// its leaves, the positions erased or lost, and the bytes of the leaf
	// log, the heads and the erasure records, beside SegmentBytes, which
	// does not count them.
	Integrity *integrity.Cost `json:"integrity,omitempty"`
}

// MaintenanceStats are the counters of compaction, retention and deletes
// by query since Open.
type MaintenanceStats struct {
	// SegmentsPerPartition counts live segments by time partition (its
	// start, RFC 3339).
	SegmentsPerPartition map[string]int `json:"segments_per_partition"`
	Compactions          int64          `json:"compactions"`
	CompactedSegments    int64          `json:"compacted_segments"`
	CompactedEvents      int64          `json:"compacted_events"`
	// CompactionBytesSaved is input bytes minus output bytes.
	CompactionBytesSaved    int64     `json:"compaction_bytes_saved"`
	RetentionDrops          int64     `json:"retention_drops"`
	RetentionBytesReclaimed int64     `json:"retention_bytes_reclaimed"`
	LastRun                 time.Time `json:"last_run"`
	// LastError is the last background failure, "" once a run succeeds.
	LastError        string `json:"last_error"`
	CompactionPaused bool   `json:"compaction_paused"`
	// PendingMerges counts the merges the background policy would run now
	// (compaction.Plan over the live segments, including one under way):
	// 0 once compaction has brought the store to rest.
	PendingMerges int `json:"pending_merges"`
	// Deletes and DeletedEvents count deletes by query since Open and the
	// events they hid. PendingDeletes counts those whose rows may still be
	// on disk (or in the WAL), PendingPurgeSegments the segments to check
	// or rewrite for them; PurgeRewrites counts segments rewritten without
	// deleted rows.
	Deletes              int64 `json:"deletes"`
	DeletedEvents        int64 `json:"deleted_events"`
	PendingDeletes       int   `json:"pending_deletes"`
	PendingPurgeSegments int   `json:"pending_purge_segments"`
	PurgeRewrites        int64 `json:"purge_rewrites"`
}

// Stats returns the DB's current counters.
func (db *DB) Stats() Stats {
	st := db.state.Load()
	s := Stats{
		LastSeq:    db.published.Load(),
		DurableSeq: db.wal.DurableSeq(),
		WAL:        db.wal.Stats(),
	}
	for _, h := range append(slices.Clip(st.frozen), st.active) {
		hs := h.Stats()
		s.HeadEvents += hs.Rows
		s.HeadBytes += hs.Bytes
	}
	s.FrozenHeads = len(st.frozen)
	for _, seg := range st.segments {
		s.Segments++
		s.SegmentEvents += seg.meta.Events
		s.SegmentBytes += seg.meta.Bytes
	}
	s.Quarantined = db.damage.names()
	s.DiskFull, s.ReadOnly, s.ReadOnlyReason = db.diskFullReason(), db.opts.ReadOnly, db.readOnly
	if err := db.sealErr(); err != nil {
		s.SealError = err.Error()
	}
	if db.loggers != nil {
		s.LoggerDropped = db.loggers.dropped.Load()
		s.LoggerErrors = db.loggers.failed.Load()
	}
	s.Maintenance = db.maintenanceStats(st)
	s.Memory = db.memoryStats(st)
	s.Holds = db.holdStats()
	if db.integrity != nil {
		c := db.integrity.Cost()
		s.Integrity = &c
	}
	return s
}

func (db *DB) maintenanceStats(st *state) MaintenanceStats {
	m := MaintenanceStats{
		SegmentsPerPartition: map[string]int{},
		Compactions:          db.compactions.Load(), CompactedSegments: db.compactedSegments.Load(),
		CompactedEvents: db.compactedEvents.Load(), CompactionBytesSaved: db.compactionSaved.Load(),
		RetentionDrops: db.retentionDrops.Load(), RetentionBytesReclaimed: db.retentionBytes.Load(),
		CompactionPaused: db.compactionPaused.Load(),
		Deletes:          db.deletes.Load(), DeletedEvents: db.deletedEvents.Load(), PurgeRewrites: db.purgeRewrites.Load(),
	}
	m.PendingDeletes, m.PendingPurgeSegments = db.pendingPurges(st)
	m.PendingMerges = len(compaction.Plan(compactionInput(st), db.compactionConfig()))
	p := int64(db.opts.Partition)
	for _, seg := range st.segments {
		start := match.FloorDiv(seg.meta.MinTS, p) * p
		m.SegmentsPerPartition[time.Unix(0, start).UTC().Format(time.RFC3339)]++
	}
	if t, ok := db.maintainedAt.Load().(time.Time); ok {
		m.LastRun = t
	}
	if e, ok := db.compactErr.Load().(string); ok {
		m.LastError = e
	}
	return m
}
