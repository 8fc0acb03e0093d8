package tiering

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/client"
	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/objstore"
)

// FollowConfig configures a Follower. The zero value of every field but
// Store and Dir is a default.
type FollowConfig struct {
	// Store is the bucket prefix a writer publishes to.
	Store objstore.Store
	// Dir is the node's cache directory: a read-only data directory the
	// follower owns (one node per directory), holding the segments the
	// manifest it serves names, that manifest and its small files.
	Dir string
	// PollInterval is how often the bucket is asked for a newer manifest.
	// Zero: 10 s.
	PollInterval time.Duration
	// Options are the store's options (Pseudonymizer, Logger, Limits...).
	// ReadOnly is forced, and the retention fields and Now are the
	// follower's: the published policy, applied at the later of Now and
	// the writer's clock.
	Options eventlog.Options
	// MinBackoff and MaxBackoff bound the wait after a failed poll.
	// Zero: 1 s and 1 min.
	MinBackoff, MaxBackoff time.Duration
	// RequestTimeout bounds a manifest read; a segment download gets it
	// plus a second per MiB. Zero: 1 min.
	RequestTimeout time.Duration
	// Keys, when set, takes the API keys the writer publishes (keys.json,
	// hashes only) at every poll: created and revoked keys reach the node
	// within a poll interval. Nil: the node's keys are its own.
	Keys *auth.Store
	// CacheMaxBytes, when positive, makes the node read segments through
	// a Cache in DIR/cache (README: Local cache and ranged reads) instead
	// of downloading each one whole into DIR/segments: whole segments up
	// to CacheMaxBytes, plus every segment's pinned part, stay on disk;
	// the rest is read by ranged GETs. Zero: every segment of the
	// manifest served is downloaded whole.
	CacheMaxBytes int64
	// BlockCacheBytes bounds the cache's in-memory block cache (with
	// CacheMaxBytes). Zero: 64 MiB.
	BlockCacheBytes int64
	// Logger receives the follower's logs. Nil: discarded.
	Logger *slog.Logger
	// Now is the node's clock, which retention reads (floored at the
	// writer's). Nil: time.Now.
	Now func() time.Time
}

func (c FollowConfig) withDefaults() FollowConfig {
	if c.PollInterval <= 0 {
		c.PollInterval = 10 * time.Second
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = time.Minute
	}
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Follower serves, read-only, the store a writer publishes to a bucket
// prefix (a stateless query node): it polls the prefix for newer
// manifests — the one after the manifest it serves, then the next, never
// a listing — downloads the segments a new manifest names into its
// directory, checking each one's size and SHA-256, installs the manifest
// and its files, and swaps the new view into its DB atomically
// (DB.Reload): reads in flight finish on the old view. A segment missing
// from the bucket (deleted after the delete grace while this node lagged)
// makes it read the latest manifest again and retry with that one.
type Follower struct {
	cfg   FollowConfig
	store objstore.Store
	log   *slog.Logger
	db    *eventlog.DB
	// floor is the writer's clock at the served manifest (Unix ns): the
	// DB's clock never reads earlier.
	floor atomic.Int64
	// pseudonyms are the PSEUDONYMS bytes the DB was opened with: a
	// writer that changes them needs the node restarted.
	pseudonyms []byte
	// pollMu makes one Poll at a time.
	pollMu sync.Mutex

	// keys is the keys.json last applied to Keys.
	keys []byte

	mu       sync.Mutex
	current  *BucketManifest // the manifest served; nil: none published yet
	counters followCounters
	lastErr  string
	lastPoll time.Time

	// cache, with CacheMaxBytes, opens the DB's segments (openSegment)
	// over the manifest being installed, opening.
	cache   *Cache
	opening atomic.Pointer[opening]
	// reopen, with the cache, reopens the DB's segments the cache evicts
	// or promotes (reopen.go).
	reopen *reopener
	// kicks wakes the run loop for a poll now (a read met a 404).
	kicks chan struct{}

	cancel context.CancelFunc
	done   chan struct{}
}

type followCounters struct {
	downloads, downloadBytes, errors, reloads, notFound int64
}

// Follow opens a follower on cfg.Dir: it installs the latest manifest
// published in cfg.Store (or serves an empty store until one is), opens
// the read-only DB over it and starts polling. Close stops it and closes
// the DB.
func Follow(ctx context.Context, cfg FollowConfig) (*Follower, error) {
	cfg = cfg.withDefaults()
	if cfg.CacheMaxBytes < 0 || cfg.BlockCacheBytes < 0 {
		return nil, fmt.Errorf("tiering: follow: negative cache size (max %d, block cache %d)", cfg.CacheMaxBytes, cfg.BlockCacheBytes)
	}
	f := &Follower{cfg: cfg, store: cfg.Store, log: cfg.Logger, kicks: make(chan struct{}, 1)}
	if err := nodeDir(cfg.Dir); err != nil {
		return nil, fmt.Errorf("tiering: follow: %w", err)
	}
	if err := f.newCache(); err != nil {
		return nil, fmt.Errorf("tiering: follow: %w", err)
	}
	m, err := f.installLatest(ctx)
	if err != nil {
		return nil, fmt.Errorf("tiering: follow %s: %w", cfg.Store, err)
	}
	if err := f.withOpening(ctx, m, func() error { return f.open(m) }); err != nil {
		return nil, fmt.Errorf("tiering: follow %s: %w", cfg.Store, err)
	}
	if f.cache != nil {
		f.cache.chargeTo(f.db.Memory()) // before the first query
	}
	if m != nil {
		f.removeUnnamed(m)
	}
	if err := f.pollKeys(ctx); err != nil {
		_ = f.db.Close()
		return nil, err
	}
	if f.reopen != nil {
		f.reopen.start(f.db)
	}
	pctx, cancel := context.WithCancel(context.Background())
	f.cancel, f.done = cancel, make(chan struct{})
	go f.run(pctx)
	return f, nil
}

// nodeDir prepares dir as a node's directory, refusing a writer's data
// directory (one with a WAL or an object-store identity): a node replaces
// its MANIFEST with the bucket's, which would lose the writer's own.
func nodeDir(dir string) error {
	for _, name := range []string{"wal", stateFile} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return fmt.Errorf("%s holds %s: it is a writer's data directory, not a query node's; give the node a directory of its own", dir, name)
		}
	}
	return os.MkdirAll(filepath.Join(dir, "segments"), 0o755)
}

// DB is the read-only store the follower serves. It stays the same DB
// for the follower's life; its contents change with each manifest.
func (f *Follower) DB() *eventlog.DB { return f.db }

// Close stops polling and closes the DB (and empties the cache's block
// cache).
func (f *Follower) Close() error {
	if f.cancel != nil {
		f.cancel()
		<-f.done
	}
	if f.reopen != nil {
		f.reopen.stop()
	}
	err := f.db.Close()
	if f.cache != nil {
		f.cache.Close()
	}
	return err
}

// open opens the DB over the installed manifest m (nil: an empty store).
func (f *Follower) open(m *BucketManifest) error {
	opts := f.cfg.Options
	// A node writes nothing: no tree of its own (the writer keeps the
	// Merkle tree), no observer.
	opts.ReadOnly, opts.Integrity, opts.ManifestObserver = true, false, nil
	opts.Now = f.now
	if f.cache != nil {
		opts.OpenSegment = f.openSegment
	}
	var pol eventlog.RetentionPolicy
	if m != nil {
		pol, f.pseudonyms = m.Retention, m.Files[pseudonymsFile]
		f.floor.Store(m.Clock.UnixNano())
	}
	pol.Apply(&opts)
	db, err := eventlog.Open(f.cfg.Dir, opts)
	if err != nil {
		return err
	}
	f.db, f.current = db, m
	return nil
}

// now is the DB's clock: the node's, but never earlier than the writer's
// at the served manifest, so retention never shows what the writer hid.
func (f *Follower) now() time.Time {
	now := f.cfg.Now()
	if floor := f.floor.Load(); floor > now.UnixNano() {
		return time.Unix(0, floor)
	}
	return now
}

// run polls until ctx is done: PollInterval after the last success (Follow
// installed the latest manifest just before), or after the backoff once a
// poll failed.
func (f *Follower) run(ctx context.Context) {
	defer close(f.done)
	b := client.NewBackOff(f.cfg.MinBackoff, f.cfg.MaxBackoff)
	wait := f.cfg.PollInterval
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		case <-f.kicks:
		}
		wait = f.cfg.PollInterval
		if err := f.Poll(ctx); err != nil { // noted in the status by Poll
			if ctx.Err() != nil {
				return
			}
			wait = b.NextBackOff()
		} else {
			b.Reset()
		}
	}
}

// Poll brings the node up to the latest published manifest now: it asks
// for the numbers after the one served until one is missing, and installs
// and swaps in the last found. The run loop calls it; tests call it to
// step the follower.
func (f *Follower) Poll(ctx context.Context) error {
	f.pollMu.Lock()
	defer f.pollMu.Unlock()
	f.mu.Lock()
	cur := f.current
	f.lastPoll = time.Now()
	f.mu.Unlock()
	// Keys that fail do not hold back the manifests, nor they the keys.
	keysErr := f.pollKeys(ctx)
	err := f.pollManifests(ctx, cur)
	switch err = errors.Join(err, keysErr); {
	case err == nil:
		f.clearErr()
	case ctx.Err() == nil:
		f.noteErr(err)
	}
	return err
}

// pollManifests installs and swaps in the latest manifest after cur, if
// any.
func (f *Follower) pollManifests(ctx context.Context, cur *BucketManifest) error {
	next, err := f.newer(ctx, cur)
	if err != nil || next == nil {
		return err
	}
	err = f.install(ctx, next)
	if err == nil {
		// With a cache, segments are opened (pinned parts fetched) here.
		if err = f.swap(ctx, next); err == nil {
			return nil
		}
	}
	if errors.Is(err, objstore.ErrNotFound) {
		// A segment went: this node lagged past the delete grace. The
		// latest manifest names only objects that are there.
		f.log.Warn("tiering: follow: a segment of manifest is gone from the bucket; reading the latest manifest again", "manifest", next.Number, "err", err)
		f.count(func(c *followCounters) { c.notFound++ })
		if next, err = f.installLatest(ctx); err != nil {
			return err
		}
		if next == nil || (cur != nil && next.Number <= cur.Number) {
			return fmt.Errorf("tiering: follow %s: a segment is missing, and no manifest newer than the one served names only objects that are there", f.store)
		}
		return f.swap(ctx, next)
	}
	return err
}

// pollKeys applies the keys the writer published, when they changed. A
// bucket without keys.json (a writer that publishes none) leaves the
// node's keys as they are; keys that do not parse are refused, and the
// node keeps the previous ones.
func (f *Follower) pollKeys(ctx context.Context) error {
	if f.cfg.Keys == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, f.cfg.RequestTimeout)
	defer cancel()
	data, err := objstore.GetBytes(ctx, f.store, keysKey, maxKeysBytes)
	if errors.Is(err, objstore.ErrNotFound) || err == nil && bytes.Equal(data, f.keys) {
		return nil
	}
	if err == nil {
		err = f.cfg.Keys.Replace(data)
	}
	if err != nil {
		return fmt.Errorf("tiering: follow %s: %s: %w", f.store, keysKey, err)
	}
	f.keys = data
	f.log.Info("tiering: follow: API keys updated from the bucket", "keys", len(f.cfg.Keys.List()))
	return nil
}

// newer returns the latest manifest after cur (from manifest 1 when cur
// is nil), nil when there is none.
func (f *Follower) newer(ctx context.Context, cur *BucketManifest) (*BucketManifest, error) {
	if cur == nil {
		ctx, cancel := context.WithTimeout(ctx, f.cfg.RequestTimeout)
		defer cancel()
		return ReadLatest(ctx, f.store)
	}
	var latest *BucketManifest
	for n := cur.Number + 1; ; n++ {
		rctx, cancel := context.WithTimeout(ctx, f.cfg.RequestTimeout)
		m, err := readManifest(rctx, f.store, n)
		cancel()
		if errors.Is(err, objstore.ErrNotFound) {
			return latest, nil
		}
		if err != nil {
			return nil, fmt.Errorf("tiering: follow: %w", err)
		}
		if m.Writer != cur.Writer {
			f.log.Warn("tiering: follow: the prefix has a new writer (a restored store)", "manifest", n, "writer", m.Writer, "was", cur.Writer)
		}
		latest = m
	}
}

// installLatest reads the latest manifest and installs it (nil: none is
// published).
func (f *Follower) installLatest(ctx context.Context) (*BucketManifest, error) {
	rctx, cancel := context.WithTimeout(ctx, f.cfg.RequestTimeout)
	m, err := ReadLatest(rctx, f.store)
	cancel()
	if err != nil || m == nil {
		return nil, err
	}
	return m, f.install(ctx, m)
}

// install downloads every segment m names that the directory lacks
// (with a cache, only those that fit in its room: swap opens the rest
// over their pinned parts), then writes m's files
// and its MANIFEST: the directory then holds m whole. The DB still serves
// the previous manifest until swap.
func (f *Follower) install(ctx context.Context, m *BucketManifest) error {
	if f.cache != nil {
		if err := f.adoptDownloaded(m); err != nil {
			return err
		}
		if err := f.cache.fill(ctx, m); err != nil {
			return err
		}
	}
	for _, o := range m.Segments {
		if f.cache != nil {
			break
		}
		if err := f.fetchSegment(ctx, o); err != nil {
			return fmt.Errorf("manifest %d: %w", m.Number, err)
		}
	}
	for _, name := range publishedFiles {
		if err := f.installFile(name, m.Files[name]); err != nil {
			return fmt.Errorf("manifest %d: %w", m.Number, err)
		}
	}
	if err := eventlog.InstallManifest(f.cfg.Dir, m.Manifest); err != nil {
		return fmt.Errorf("manifest %d: %w", m.Number, err)
	}
	return nil
}

// installFile writes one of the small files, or removes it when the
// manifest has none (no hold in force any more).
func (f *Follower) installFile(name string, data []byte) error {
	path := filepath.Join(f.cfg.Dir, name)
	if data == nil {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	return vfs.WriteFileAtomic(vfs.OS{}, path, data)
}

// swap makes the DB serve the installed manifest m; with a cache, the
// segments new to m are opened through it, and the local files of those m
// no longer names are removed (reads in flight keep theirs).
func (f *Follower) swap(ctx context.Context, m *BucketManifest) error {
	if !bytes.Equal(m.Files[pseudonymsFile], f.pseudonyms) {
		return fmt.Errorf("tiering: follow %s: manifest %d changes the store's pseudonymisation (PSEUDONYMS): restart the node (with the store's key, if it pseudonymises)", f.store, m.Number)
	}
	// The floor first: a read after the swap must not see the writer's
	// newer retention at an older clock.
	f.floor.Store(max(f.floor.Load(), m.Clock.UnixNano()))
	if err := f.withOpening(ctx, m, func() error { return f.db.Reload(m.Retention) }); err != nil {
		return fmt.Errorf("tiering: follow %s: manifest %d: %w", f.store, m.Number, err)
	}
	if f.cache != nil {
		if err := f.cache.Retain(m); err != nil {
			f.log.Warn("tiering: follow: could not remove cached segments the manifest dropped", "manifest", m.Number, "err", err)
		}
	}
	f.mu.Lock()
	f.current = m
	f.counters.reloads++
	f.mu.Unlock()
	f.log.Info("tiering: follow: serving a new manifest", "manifest", m.Number, "segments", len(m.Segments), "sealed_seq", m.SealedSeq)
	return nil
}

// removeUnnamed removes segment files of an earlier run that m does not
// name (the DB has not opened them), from the cache when there is one.
func (f *Follower) removeUnnamed(m *BucketManifest) {
	if f.cache != nil { // DIR/segments is empty (adoptDownloaded)
		if err := f.cache.Retain(m); err != nil {
			f.log.Warn("tiering: follow: could not remove cached segments the manifest does not name", "manifest", m.Number, "err", err)
		}
		return
	}
	named := map[string]bool{}
	for _, o := range m.Segments {
		named[o.Name] = true
	}
	entries, _ := os.ReadDir(filepath.Join(f.cfg.Dir, "segments"))
	for _, e := range entries {
		if !named[e.Name()] {
			_ = os.Remove(filepath.Join(f.cfg.Dir, "segments", e.Name()))
		}
	}
}

func (f *Follower) count(fn func(*followCounters)) {
	f.mu.Lock()
	fn(&f.counters)
	f.mu.Unlock()
}

func (f *Follower) noteErr(err error) {
	f.log.Warn("tiering: follow: poll failed; serving the previous manifest, retrying", "err", err)
	f.mu.Lock()
	f.counters.errors++
	f.lastErr = err.Error()
	f.mu.Unlock()
}

func (f *Follower) clearErr() {
	f.mu.Lock()
	f.lastErr = ""
	f.mu.Unlock()
}
