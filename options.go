package eventlog

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/eventlogdb/eventlog/compaction"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/privacy"
	"github.com/eventlogdb/eventlog/segment"
	"github.com/eventlogdb/eventlog/wal"
)

// SyncPolicy says when an append is durable. See the constants.
type SyncPolicy = wal.SyncPolicy

// The sync policies.
const (
	// SyncAlways acknowledges an append only after an fsync covering it;
	// concurrent appends share one fsync (group commit). The default.
	SyncAlways = wal.SyncAlways
	// SyncInterval fsyncs at most every Options.SyncInterval; a crash may
	// lose the appends acknowledged since the last fsync.
	SyncInterval = wal.SyncInterval
	// SyncNone leaves flushing to the operating system.
	SyncNone = wal.SyncNone
)

// RetentionRule is a retention period for the events a filter matches.
type RetentionRule struct {
	// Filter is KQL (package query/filter).
	Filter string `json:"filter" yaml:"filter"`
	// MaxAge expires them; zero keeps them for ever.
	MaxAge time.Duration `json:"max_age" yaml:"max_age"`
	// KeptFields allows a filter naming fields outside the schema (kept
	// unknown fields); without it such a rule is refused, as a delete's
	// filter is (DeleteRequest.KeptFields).
	KeptFields bool `json:"kept_fields,omitempty" yaml:"kept_fields"`
}

// Options configure a DB. The zero value is the default for every field.
type Options struct {
	// Sync is the durability policy of Append. Zero: SyncAlways.
	Sync SyncPolicy
	// SyncInterval is the fsync period under SyncInterval. Zero: 100 ms.
	SyncInterval time.Duration
	// WALMaxFileBytes is the size at which the WAL moves to a new file.
	// Zero: 64 MiB.
	WALMaxFileBytes int64

	// SegmentMaxBytes rolls the head into a segment once it holds this many
	// bytes of events (binary form). Zero: 64 MiB.
	SegmentMaxBytes int64
	// SegmentMaxAge rolls the head once its oldest event arrived this long
	// ago. Zero: 1 hour.
	SegmentMaxAge time.Duration
	// SegmentIdle rolls a head that has received nothing for this long,
	// once it holds a sixteenth of what rolls it by size (SegmentMaxBytes,
	// or its share of MemoryLimit): after a burst its events leave memory
	// for segments in seconds rather than at SegmentMaxAge, which frees
	// the budget for queries and, with object storage, uploads them. A
	// trickle of events never fills that sixteenth, so it still makes one
	// segment per SegmentMaxAge rather than one per pause. Zero: never.
	SegmentIdle time.Duration
	// Partition splits sealed heads by @timestamp into segments of at most
	// this span (aligned to the Unix epoch, so whole UTC days by default),
	// so retention can drop whole partitions. Zero: 24 hours.
	Partition time.Duration
	// MaxFrozenHeads is how many rolled heads may wait to be sealed before
	// Append blocks, bounding memory when the disk falls behind. Zero: 2.
	MaxFrozenHeads int
	// MemoryLimit bounds the memory the store holds, in bytes: the Go heap
	// and other anonymous memory, not mapped segment files (package
	// memory). Every big consumer charges one budget of this size
	// (DB.Memory): the heads (the active one rolls once its estimate
	// reaches an eighth of the limit), the seal's working set, each
	// query's and each merge's working set (queries wait QueryMemoryWait
	// for it, merges as long as it takes), the segments' key caches, and
	// what the embedding program charges, like the server's request
	// bodies.
	// While the charges are over the limit, Append waits for frozen heads
	// to be sealed. Open also sets the Go runtime's soft memory limit to
	// it unless one is set already (GOMEMLIMIT, the program, another
	// store), and Close puts it back. Zero: no limit (the budget still
	// counts).
	MemoryLimit int64
	// QueryMemoryWait is how long Query, Aggregate and Export wait for
	// their working set (query.WorkingSet, at most half of MemoryLimit)
	// to fit in the memory budget before they fail with ErrMemoryFull;
	// background compaction waits for its own as long as it takes.
	// Zero: 1 second.
	QueryMemoryWait time.Duration

	// CompactionMaxSegmentBytes caps a segment made by merging others.
	// Zero: 1 GiB.
	CompactionMaxSegmentBytes int64
	// MaintenanceInterval is how often the background worker applies
	// retention and compacts (it also runs after seals). Zero: 1 minute;
	// negative: never (ApplyRetention and Compact still run on demand).
	MaintenanceInterval time.Duration
	// CompactionBytesPerSecond caps the compactor's reading rate (segment
	// bytes). Zero: 64 MiB/s; negative: unlimited.
	CompactionBytesPerSecond int64
	// CompactionCPUShare caps the share of one CPU the compactor works
	// (it sleeps the rest), so ingest and queries keep the machine: merging
	// is CPU-bound. Within its share the compactor also steps aside
	// whenever other goroutines wait for a processor, so it gets less on a
	// busy machine. Zero: 0.25; 1 or more: unlimited (the stepping aside
	// stays).
	CompactionCPUShare float64

	// RetentionMaxAge expires events older than this (by @timestamp):
	// queries stop returning them at once and their segments are dropped
	// (package retention). Zero: keep forever.
	RetentionMaxAge time.Duration
	// RetentionRules give the events their filters match their own max age
	// (0: keep for ever), e.g. event.provider:security for 365 days while
	// RetentionMaxAge keeps the rest 30. The first matching rule applies.
	RetentionRules []RetentionRule
	// RetentionSpaceMaxAge gives the events of each Kibana space listed
	// their own max age in place of RetentionMaxAge (0: keep for ever).
	// An event's spaces are event.Event.Spaces (its refs' namespaces and
	// kibana.space_ids; neither: the default space). An event in several
	// spaces is kept while any of them keeps it: it gets the longest of
	// its spaces' periods, a space not listed having RetentionMaxAge.
	// A matching retention rule comes before the spaces.
	RetentionSpaceMaxAge map[string]time.Duration
	// RetentionMaxBytes drops the oldest segments while the store's size on
	// disk exceeds it. Zero: no bound.
	RetentionMaxBytes int64
	// MaxFutureSkew rejects events stamped further than this in the
	// future, which would otherwise pin their segment past retention.
	// Zero: no check.
	MaxFutureSkew time.Duration

	// AllowUnregistered accepts events whose provider/action pair was not
	// registered. Zero (false): such events are rejected.
	AllowUnregistered bool
	// Limits bound each event. Zero fields take event.DefaultLimits.
	Limits event.Limits
	// Pseudonymizer, when set, stores the fields that identify a person
	// as pseudonyms (package privacy) whatever the ingest path (Append,
	// Logger, the server, the CLI), refuses events with event.original
	// (which could hold them in the clear), and pseudonymises the values
	// of equality conditions on those fields in every filter the store
	// is given: queries, tails, deletes, retention rules. Nil: values are
	// stored as given.
	Pseudonymizer *privacy.Pseudonymizer

	// Integrity keeps a Merkle tree over the durable events (package
	// integrity, in integrity/ of the data directory): leaves in the order
	// events became durable, Ed25519-signed tree heads, inclusion and
	// consistency proofs. Zero: off, unless the data directory already
	// holds a tree (integrity/signing.key) and the store is not opened
	// ReadOnly: a store that keeps one keeps it whoever writes to it, or
	// events would slip in without leaves.
	Integrity bool
	// IntegrityInterval is how often a tree head is signed when the tree
	// has grown (heads are also signed on demand, DB.SignHead). Zero: only
	// on demand.
	IntegrityInterval time.Duration

	// ReadOnly opens without writing anything: the WAL is replayed into
	// memory, nothing is truncated, sealed or checkpointed, and no lock is
	// taken. Appends fail with ErrReadOnly.
	ReadOnly bool
	// OpenSegment, when set, opens segments from elsewhere than
	// segments/NAME of the data directory. A ReadOnly store opens every
	// segment the manifest names through it: a query node (package
	// tiering) opens them through its cache of an object store, so that
	// its disk holds what the cache keeps rather than every segment. A
	// writer opens through it only the segments it offloaded
	// (DB.ReopenSegments: uploaded, published, and their file removed
	// from segments/, the writer's --cache-max-bytes); it seals and
	// compacts in segments/ as always. The store owns each reader
	// returned: it closes it once the last read holding it is done (as
	// for a file it opened), and removes no file for it. An error that
	// matches ErrCorrupt sets the segment aside as damaged; any other
	// fails the open or reload. Errors of the reader's later reads reach
	// the read that met them as they are.
	OpenSegment func(name string) (*segment.Reader, error)
	// OpenSegmentFile, with OpenSegment on a writer, opens the whole file
	// of an offloaded segment (fetched back from the object store if the
	// cache holds only its pinned part), for what copies files rather
	// than reading events: Backup. The caller closes it. Nil: such a copy
	// of an offloaded segment fails, naming it.
	OpenSegmentFile func(name string) (*os.File, error)
	// Repair makes Open truncate a WAL damaged in the middle at the damage,
	// dropping what follows (logged), instead of failing.
	Repair bool

	// Logger receives the engine's logs. Nil: discarded.
	Logger *slog.Logger
	// LoggerQueue is the capacity of the queue behind DB.Logger. Zero: 10,000.
	LoggerQueue int
	// LoggerBlock is how long Logger.Log waits for room in a full queue
	// before dropping the event. Zero: 100 ms.
	LoggerBlock time.Duration
	// LoggerBatch is the most events the Logger writes in one append.
	// Zero: 1,000.
	LoggerBatch int

	// ObserveFsync, when set, is called with the duration of every WAL fsync
	// (a metrics hook: the server feeds a histogram). It must be fast and
	// safe for concurrent use.
	ObserveFsync func(time.Duration)
	// ManifestObserver, when set, is told of every manifest the store
	// commits (package tiering uploads the segments to object storage
	// through it). Nil: none.
	ManifestObserver ManifestObserver
	// WALShipper, when set, gets a copy of every WAL record and holds each
	// Append until the copy holding its batch is safe (walship.go;
	// package tiering's WALSync uploads them to object storage). Nil:
	// an Append is acknowledged once it is durable on the local disk.
	WALShipper WALShipper
	// Now is the clock that stamps events without @timestamp. Nil: time.Now.
	Now func() time.Time

	// DedupWindow is how long, at least, Append recognises a client id
	// (event.Event.ClientID) it has seen, measured in arrival time: a
	// retry within it is answered Duplicate or Conflict, never stored
	// twice. An id whose event is still stored is recognised for as long
	// as the event is; the window bounds how long the ids of erased
	// events (deleted, purged, dropped by retention) are remembered.
	// Zero: DefaultDedupWindow.
	DedupWindow time.Duration

	// FS is the file system the DB works in. Nil: the operating system's.
	// Its type is internal to this module: tests and tools of the module
	// set it (a vfs.Faulty injects a full disk or a failing fsync).
	FS vfs.FS
}

// withDefaults returns a copy of o with every zero field filled, or an error
// naming the first invalid field.
func (o Options) withDefaults() (Options, error) {
	switch o.Sync {
	case SyncAlways, SyncInterval, SyncNone:
	default:
		return o, fmt.Errorf("options: Sync: unknown policy %d", o.Sync)
	}
	if o.SyncInterval < 0 || o.WALMaxFileBytes < 0 || o.LoggerQueue < 0 || o.LoggerBlock < 0 || o.LoggerBatch < 0 {
		return o, fmt.Errorf("options: sizes and durations must not be negative")
	}
	if o.SegmentMaxBytes < 0 || o.SegmentMaxAge < 0 || o.SegmentIdle < 0 || o.Partition < 0 || o.MaxFrozenHeads < 0 {
		return o, fmt.Errorf("options: segment sizes and durations must not be negative")
	}
	if o.MemoryLimit < 0 || o.QueryMemoryWait < 0 {
		return o, fmt.Errorf("options: MemoryLimit and QueryMemoryWait must not be negative")
	}
	if o.RetentionMaxAge < 0 || o.RetentionMaxBytes < 0 || o.MaxFutureSkew < 0 {
		return o, fmt.Errorf("options: retention bounds and the future skew must not be negative")
	}
	if o.DedupWindow < 0 {
		return o, fmt.Errorf("options: DedupWindow must not be negative")
	}
	if o.OpenSegmentFile != nil && (o.OpenSegment == nil || o.ReadOnly) {
		return o, fmt.Errorf("options: OpenSegmentFile goes with OpenSegment, on a writer")
	}
	if o.DedupWindow == 0 {
		o.DedupWindow = DefaultDedupWindow
	}
	if o.SegmentMaxBytes == 0 {
		o.SegmentMaxBytes = 64 << 20
	}
	if o.SegmentMaxAge == 0 {
		o.SegmentMaxAge = time.Hour
	}
	if o.Partition == 0 {
		o.Partition = compaction.DefaultPartition
	}
	if o.CompactionMaxSegmentBytes <= 0 {
		o.CompactionMaxSegmentBytes = 1 << 30
	}
	if o.QueryMemoryWait == 0 {
		o.QueryMemoryWait = time.Second
	}
	if o.MaintenanceInterval == 0 {
		o.MaintenanceInterval = time.Minute
	}
	if o.CompactionBytesPerSecond == 0 {
		o.CompactionBytesPerSecond = 64 << 20
	}
	if o.CompactionCPUShare == 0 {
		o.CompactionCPUShare = 0.25
	}
	if o.CompactionCPUShare < 0 {
		return o, fmt.Errorf("options: CompactionCPUShare must not be negative")
	}
	if o.MaxFrozenHeads == 0 {
		o.MaxFrozenHeads = 2
	}
	if o.SyncInterval == 0 {
		o.SyncInterval = 100 * time.Millisecond
	}
	if o.WALMaxFileBytes == 0 {
		o.WALMaxFileBytes = 64 << 20
	}
	o.Limits = withDefaultLimits(o.Limits)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.LoggerQueue == 0 {
		o.LoggerQueue = 10_000
	}
	if o.LoggerBlock == 0 {
		o.LoggerBlock = 100 * time.Millisecond
	}
	if o.LoggerBatch == 0 {
		o.LoggerBatch = 1000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.FS == nil {
		o.FS = vfs.OS{}
	}
	return o, nil
}

func withDefaultLimits(l event.Limits) event.Limits {
	d := event.DefaultLimits()
	if l.MaxDocumentBytes == 0 {
		l.MaxDocumentBytes = d.MaxDocumentBytes
	}
	if l.MaxStringBytes == 0 {
		l.MaxStringBytes = d.MaxStringBytes
	}
	if l.MaxRefs == 0 {
		l.MaxRefs = d.MaxRefs
	}
	if l.MaxTags == 0 {
		l.MaxTags = d.MaxTags
	}
	if l.MaxLabels == 0 {
		l.MaxLabels = d.MaxLabels
	}
	return l
}

// ParseSyncPolicy parses "always", "interval" or "none".
func ParseSyncPolicy(s string) (SyncPolicy, error) { return wal.ParseSyncPolicy(s) }
