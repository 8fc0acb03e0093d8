package tiering

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/eventlogdb/eventlog/memory"
	"github.com/eventlogdb/eventlog/segment"
)

// ErrSegmentGone: a read of a query node needed a range of a segment the
// bucket no longer holds. The manifest the node served was superseded
// and, the delete grace past, the writer deleted the segment (the node
// lagged longer than the grace). The node reads the latest manifest at
// once; the read failed and may be retried (the server answers 503 with
// Retry-After). Errors matching it also match objstore.ErrNotFound.
var ErrSegmentGone = errors.New("tiering: a segment of the manifest served is gone from the bucket (deleted after the delete grace: the node lagged); the node is reading the latest manifest: retry")

// cacheDir is where a node with FollowConfig.CacheMaxBytes keeps its
// Cache, beside the store's small files.
const cacheDir = "cache"

// opening is the manifest whose segments the DB opens through the
// follower's cache (Options.OpenSegment), and the context of its poll.
type opening struct {
	ctx context.Context
	m   *BucketManifest
}

// newCache opens the node's cache in DIR/cache, when cfg asks for one.
func (f *Follower) newCache() error {
	if f.cfg.CacheMaxBytes <= 0 {
		// Every segment is downloaded whole: a cache of an earlier run
		// with --cache-max-bytes is not read any more.
		if err := os.RemoveAll(filepath.Join(f.cfg.Dir, cacheDir)); err != nil {
			return fmt.Errorf("remove the unused cache: %w", err)
		}
		return nil
	}
	c, err := NewCache(CacheConfig{Store: f.store, Dir: filepath.Join(f.cfg.Dir, cacheDir), MaxBytes: f.cfg.CacheMaxBytes,
		BlockCacheBytes: f.cfg.BlockCacheBytes, RequestTimeout: f.cfg.RequestTimeout})
	if err != nil {
		return err
	}
	c.gone = f.kick
	f.cache = c
	f.reopen = newReopener(c, f.log)
	return nil
}

// Cache is the node's segment cache, nil when every segment is
// downloaded whole (FollowConfig.CacheMaxBytes zero).
func (f *Follower) Cache() *Cache { return f.cache }

// openSegment is the DB's Options.OpenSegment with a cache: it opens the
// named segment of the manifest being opened or swapped in (or, for a
// reopen, of the one served) through the cache (whole if the cache holds
// it, else over its pinned part).
func (f *Follower) openSegment(name string) (*segment.Reader, error) {
	op := f.opening.Load()
	if op == nil {
		// A reopen (the reopener: evicted or promoted) between installs:
		// the segment is one of the manifest served.
		f.mu.Lock()
		m := f.current
		f.mu.Unlock()
		if m == nil {
			return nil, fmt.Errorf("tiering: follow: segment %s opened with no manifest served", name)
		}
		op = &opening{ctx: context.Background(), m: m}
	}
	for _, o := range op.m.Segments {
		if o.Name == name {
			return f.cache.Open(op.ctx, o)
		}
	}
	return nil, fmt.Errorf("tiering: follow: segment %s is not in manifest %d", name, op.m.Number)
}

// withOpening runs fn (which opens or reloads the DB) with m as the
// manifest openSegment reads.
func (f *Follower) withOpening(ctx context.Context, m *BucketManifest, fn func() error) error {
	if m != nil {
		f.opening.Store(&opening{ctx: ctx, m: m})
		defer f.opening.Store(nil)
	}
	return fn()
}

// kick asks the run loop to poll now: a read met a segment gone from the
// bucket, so a newer manifest is published.
func (f *Follower) kick() {
	select {
	case f.kicks <- struct{}{}:
	default: // one is pending already
	}
}

// adoptDownloaded takes the whole segments an earlier run without a cache
// left in DIR/segments into the cache (those m names, of the right size),
// then removes every file there: with a cache, the store reads none.
func (f *Follower) adoptDownloaded(m *BucketManifest) error {
	dir := filepath.Join(f.cfg.Dir, "segments")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("tiering: follow: %w", err)
	}
	named := map[string]Object{}
	if m != nil {
		for _, o := range m.Segments {
			named[o.Name] = o
		}
	}
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		if o, ok := named[e.Name()]; ok {
			if st, err := os.Stat(path); err == nil && st.Size() == o.Bytes {
				if err := f.cache.Add(o, path); err != nil {
					f.log.Warn("tiering: follow: could not take a downloaded segment into the cache; it is fetched again when read", "segment", o.Name, "err", err)
				}
			}
		}
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("tiering: follow: %w", err)
		}
	}
	return nil
}

// fill downloads whole the segments of m the cache lacks while they fit
// in the room it has left, newest first (the last in the manifest's
// order), without evicting any: the node's first reads of recent events
// then come from local disk, and the rest are opened over their pinned
// parts. A segment the cache holds already is kept.
func (c *Cache) fill(ctx context.Context, m *BucketManifest) error {
	for i := len(m.Segments) - 1; i >= 0; i-- {
		o := m.Segments[i]
		c.mu.Lock()
		_, have := c.whole[o.Name]
		fits := c.wholeB+o.Bytes <= c.cfg.MaxBytes
		c.mu.Unlock()
		if have || !fits {
			continue
		}
		unlock := c.lockName(o.Name)
		err := c.download(ctx, o)
		unlock()
		if err != nil {
			return fmt.Errorf("manifest %d: %w", m.Number, err)
		}
	}
	return nil
}

// chargeTo charges the block cache to budget b (the DB's, which opens
// after the cache), moving what it holds already (blocks the DB's open
// read: a writer's offloaded segments) from the account it had. Called
// before the first query, with no read in flight.
func (c *Cache) chargeTo(b *memory.Budget) {
	c.blocks.mu.Lock()
	defer c.blocks.mu.Unlock()
	acct := b.Account("object_store_block_cache")
	c.blocks.acct.Release(c.blocks.used)
	acct.Charge(c.blocks.used)
	c.blocks.acct = acct
}
