package eventlog

import (
	"context"
	"runtime/metrics"
	"slices"
	"time"

	"github.com/eventlogdb/eventlog/internal/head"
	"github.com/eventlogdb/eventlog/memory"
	"github.com/eventlogdb/eventlog/segment"
)

// This file is the store's side of its memory budget (Options.MemoryLimit,
// package memory): what the heads and seals charge, when a head rolls for
// memory, and the figures Stats reports.

// The store's accounts in its budget; the server adds its own.
const (
	// AccountHeads holds the estimate of every in-memory head, the active
	// one and those waiting to be sealed (head.Stats.Memory).
	AccountHeads = "heads"
	// AccountSeal holds the working set of the seal in progress.
	AccountSeal = "seal"
	// AccountSegments holds what the open segments keep in memory beside
	// their mapped files (segment.Reader.MemoryBytes) for as long as they
	// are open: from format version 4, the filters and page directories
	// of their client ids, about two bytes an id, and from version 5 their
	// ref key tables. Their postings dictionaries are loaded when queries
	// need them and charged to AccountPostingsDicts while kept.
	AccountSegments = "segments"
)

// AccountSegmentKeys holds the decoded keys (timestamps and sequence
// numbers) each open segment caches for the last blocks it read
// (segment.OpenOptions.KeyMemory), ~200 KB a full block: with many
// segments they add up to tens of megabytes. Keys the budget refuses are
// not cached.
const AccountSegmentKeys = "segment_keys"

// AccountPostingsDicts holds the postings dictionaries (about 20 bytes
// an event) that queries have loaded and the store keeps for the next
// ones (segment.DictCache). An open segment does not keep its
// dictionary: the first query that needs it loads it, so a store that
// only ingests holds none, and the least recently used are dropped when
// the budget refuses a new one's charge.
//
// The cache has no bound of its own below the budget: the issue
// queries read every segment, and a bound below the sum of the
// dictionaries they read (an eighth of the limit was tried: 33.5 MB
// against 42 MB at 2M events) makes least-recently-used keep none of
// them across a scan, so every query decoded every dictionary again and
// took 10 times as long (README, "Postings dictionaries on demand").
const AccountPostingsDicts = "postings_dicts"

// newDictCache makes the store's cache of postings dictionaries.
func (db *DB) newDictCache() *segment.DictCache {
	return segment.NewDictCache(db.mem.Account(AccountPostingsDicts), 0)
}

// AccountDocCache holds the documents sparse reads decoded and the store
// keeps for the next reads of the same rows (segment.DocCache): a few
// hundred bytes a document, at most docCacheBytes.
const AccountDocCache = "doc_cache"

// docCacheShare and docCacheMax bound the document cache: a sixteenth of
// the memory limit, at most 32 MiB (also without a limit). At 256 MiB it
// keeps 16 MiB, some 25,000 documents: the queries for a rare and
// a mid saved object, the newest 100 of one and of the failures in a
// space keep about 1,200 of them, 0.8 MB.
const (
	docCacheShare = 16
	docCacheMax   = 32 << 20
)

// docCacheBytes is the document cache's bound under a memory limit
// (0: none).
func docCacheBytes(limit int64) int64 {
	if limit <= 0 {
		return docCacheMax
	}
	return min(limit/docCacheShare, docCacheMax)
}

// newDocCache makes the store's cache of documents.
func (db *DB) newDocCache() *segment.DocCache {
	return segment.NewDocCache(db.mem.Account(AccountDocCache), docCacheBytes(db.mem.Limit()))
}

// segmentOptions are the options the store opens its segment files with.
func (db *DB) segmentOptions() segment.OpenOptions {
	return segment.OpenOptions{Decoder: db.zdec, KeyMemory: db.mem.Account(AccountSegmentKeys), Dicts: db.dicts, Docs: db.docs}
}

// headMemoryShare: under a memory limit, the active head rolls once its
// estimate reaches limit/headMemoryShare, so the active head and
// MaxFrozenHeads (2) frozen ones hold at most 3/8 of the limit, the seal's
// working set about another eighth, and the rest is for request bodies,
// queries and the collector's headroom.
const headMemoryShare = 8

// sealStaging estimates the seal's memory beside its head's rows and
// postings: one staged block of decoded columns, the copies of its strings
// in the columns' text buffers (segment.colStage: up to twice a block's
// string bytes, as a full buffer is replaced by one twice its size; a
// block of 8,192 realistic events holds a few MiB of them) and the
// encoders' buffers.
const sealStaging = 16 << 20

// Memory returns the store's memory budget, which every big consumer
// charges (see Options.MemoryLimit); an embedding program charges its own
// buffers and caches to it through accounts of its own names.
func (db *DB) Memory() *memory.Budget { return db.mem }

// headFull reports whether a head with these stats should roll: at
// SegmentMaxBytes of events, or at its share of the memory limit.
func (db *DB) headFull(hs head.Stats) bool { return db.headFilled(hs, 1) }

// headFilled reports whether a head with these stats holds at least
// 1/part of what makes it full (headFull).
func (db *DB) headFilled(hs head.Stats, part int64) bool {
	limit := db.mem.Limit()
	return hs.Bytes >= db.opts.SegmentMaxBytes/part || (limit > 0 && hs.Memory >= limit/headMemoryShare/part)
}

// sealMemory is what sealing a head with these stats charges: its sorted
// copy of the rows and its postings builder mirror the head's own rows and
// postings, plus a staged block.
func sealMemory(hs head.Stats) int64 { return hs.Memory - (hs.Bytes - hs.Mapped) + sealStaging }

// MemoryStats describes the store's memory: the budget's charges, and
// beside them what the Go runtime holds and the segment files mapped.
type MemoryStats struct {
	// Limit is Options.MemoryLimit (0: none); Charged is what every
	// consumer has charged to the budget, Consumers the same by account
	// (AccountHeads, AccountSeal, AccountSegments, AccountSegmentKeys,
	// AccountPostingsDicts, AccountDocCache, AccountQueries, AccountCompaction, and the embedding program's own).
	Limit     int64            `json:"limit"`
	Charged   int64            `json:"charged"`
	Consumers map[string]int64 `json:"consumers"`
	// Waiting is how many queries and merges wait for room in the budget
	// now (memory.Budget.Waiting).
	Waiting int `json:"waiting"`
	// GoLimit is the Go runtime's soft memory limit (math.MaxInt64: none).
	GoLimit int64 `json:"go_limit"`
	// GoHeap is the bytes of live and not yet swept heap objects; GoTotal
	// all memory the Go runtime holds from the system (heap, stacks,
	// runtime structures), less what it has returned.
	GoHeap  int64 `json:"go_heap"`
	GoTotal int64 `json:"go_total"`
	// MappedSegments is the size of the segment files mapped into memory.
	// Their pages are page cache, which the kernel reclaims under
	// pressure, so they are reported here and not charged to the budget.
	MappedSegments int64 `json:"mapped_segments"`
	// MappedWAL is the part of the heads' events that replay left in the
	// WAL's files, mapped (wal.Options.MapPayloads) rather than copied:
	// page cache too, reported here and not charged (until those heads
	// are sealed).
	MappedWAL int64 `json:"mapped_wal"`
}

// goMemoryMetrics are the runtime/metrics samples MemoryStats reads.
var goMemoryMetrics = []string{
	"/gc/gomemlimit:bytes",
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/total:bytes",
	"/memory/classes/heap/released:bytes",
}

func (db *DB) memoryStats(st *state) MemoryStats {
	m := MemoryStats{Limit: db.mem.Limit(), Charged: db.mem.Used(), Consumers: db.mem.Usage(), Waiting: db.mem.Waiting()}
	samples := make([]metrics.Sample, len(goMemoryMetrics))
	for i, name := range goMemoryMetrics {
		samples[i].Name = name
	}
	metrics.Read(samples)
	v := func(i int) int64 {
		if samples[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return int64(samples[i].Value.Uint64())
	}
	m.GoLimit, m.GoHeap, m.GoTotal = v(0), v(1), v(2)-v(3)
	for _, seg := range st.segments {
		m.MappedSegments += seg.meta.Bytes
	}
	for _, h := range append(slices.Clip(st.frozen), st.active) {
		m.MappedWAL += h.Stats().Mapped
	}
	return m
}

// takeMemory charges n bytes to acct. The part that can wait for room —
// all of n, up to half of what the budget can ever free: the limit less
// what the open segments hold, which only compaction shrinks, and the
// dictionaries kept, which nothing drops for a waiter — is
// acquired, waiting at most wait; the rest is charged at once, over the
// limit if need be, so that the budget reports the whole working set and
// ingest slows while it is held, yet a working set too large to ever fit
// still runs, one at a time. It returns the function that gives all of n
// back, or memory.ErrFull or ctx's error with nothing charged.
func (db *DB) takeMemory(ctx context.Context, acct *memory.Account, n int64, wait time.Duration) (release func(), err error) {
	part := n
	if limit := db.mem.Limit(); limit > 0 {
		part = min(n, max(limit-db.segmentsMem.Used()-db.mem.Account(AccountPostingsDicts).Used(), 0)/2)
	}
	if err := acct.Acquire(ctx, part, wait); err != nil {
		return nil, err
	}
	acct.Charge(n - part)
	return func() { acct.Release(n) }, nil
}
