package tiering

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/segment"
)

// WriterCacheConfig sizes a writer's segment cache. Zero fields take the
// CacheConfig defaults, except MaxBytes: zero keeps no whole segment.
type WriterCacheConfig struct {
	// MaxBytes bounds the whole segment files kept locally among those
	// published (CacheConfig.MaxBytes); segments not published yet are
	// always local and not counted.
	MaxBytes int64
	// BlockCacheBytes bounds the in-memory cache of ranged reads,
	// charged to the store's memory budget.
	BlockCacheBytes int64
	// RequestTimeout bounds each ranged GET.
	RequestTimeout time.Duration
}

// WriterCache makes a writer's local segment files a cache of the
// bucket (--object-store with --cache-max-bytes). A segment stays whole
// in segments/ until a published manifest names it; then it is taken
// into a Cache in DATA/cache (hard-linked, its pinned part written) and
// the store reopens it through the cache (eventlog.DB.ReopenSegments),
// which removes it from segments/: from then on it is held whole only
// while the cache keeps it (the most recently used, within MaxBytes),
// and otherwise read by ranged GETs over its pinned part, which is
// always kept. A segment never uploaded is never evicted. Everything
// reading the store's segments (queries, compaction, deletes and
// retention rewrites, deduplication, integrity, destinations) reads them
// through their readers; Backup copies an offloaded segment's whole file
// (OpenSegmentFile fetches it). Create it with Uploader.NewWriterCache
// before opening the store, pass it to the options with Apply, Start it
// with the open store, and Close it before the store.
type WriterCache struct {
	u   *Uploader
	c   *Cache
	r   *reopener
	dir string // the store's data directory
}

// NewWriterCache opens the writer's cache in DIR/cache (eventlog.SegmentCacheDir).
func (u *Uploader) NewWriterCache(cfg WriterCacheConfig) (*WriterCache, error) {
	c, err := NewCache(CacheConfig{Store: u.store, Dir: filepath.Join(u.cfg.Dir, eventlog.SegmentCacheDir),
		MaxBytes: cfg.MaxBytes, BlockCacheBytes: cfg.BlockCacheBytes, RequestTimeout: cfg.RequestTimeout})
	if err != nil {
		return nil, fmt.Errorf("tiering: writer cache: %w", err)
	}
	w := &WriterCache{u: u, c: c, r: newReopener(c, u.log), dir: u.cfg.Dir}
	w.r.offload = w.offload
	u.mu.Lock()
	u.cache = w
	u.mu.Unlock()
	return w, nil
}

// Apply sets the store options that read offloaded segments through the
// cache: Options.OpenSegment and Options.OpenSegmentFile.
func (w *WriterCache) Apply(opts *eventlog.Options) {
	opts.OpenSegment, opts.OpenSegmentFile = w.openSegment, w.openSegmentFile
}

// Start charges the block cache to db's memory budget and starts the
// goroutine that offloads published segments and reopens those the
// cache evicts or promotes. Close stops it.
func (w *WriterCache) Start(db *eventlog.DB) {
	w.c.chargeTo(db.Memory())
	w.r.start(db)
}

// Close stops the goroutine and empties the block cache. Call it before
// closing the store.
func (w *WriterCache) Close() {
	w.r.stop()
	w.c.Close()
}

// Cache is the cache itself, for its figures (Cache.Stats).
func (w *WriterCache) Cache() *Cache { return w.c }

// object returns the published object of segment name.
func (w *WriterCache) object(name string) (Object, error) {
	w.u.mu.Lock()
	defer w.u.mu.Unlock()
	if w.u.published != nil {
		for _, o := range w.u.published.Segments {
			if o.Name == name {
				return o, nil
			}
		}
	}
	return Object{}, fmt.Errorf("tiering: writer cache: segment %s is not in the bucket's published manifest", name)
}

// openSegment is the store's Options.OpenSegment: an offloaded segment,
// whole if the cache holds it, else over its pinned part.
func (w *WriterCache) openSegment(name string) (*segment.Reader, error) {
	o, err := w.object(name)
	if err != nil {
		return nil, err
	}
	return w.c.Open(context.Background(), o) // each GET bounded by RequestTimeout
}

// openSegmentFile is the store's Options.OpenSegmentFile: the whole file
// of an offloaded segment, the cache's if it holds one, else fetched into
// a temporary file (checked against its SHA-256) that is removed at once
// (the open file stays readable) and never counted in the cache.
func (w *WriterCache) openSegmentFile(name string) (*os.File, error) {
	o, err := w.object(name)
	if err != nil {
		return nil, err
	}
	w.c.mu.Lock()
	if _, ok := w.c.whole[name]; ok {
		f, err := os.Open(w.c.wholePath(name))
		w.c.mu.Unlock()
		return f, err
	}
	w.c.mu.Unlock()
	return w.c.fetchFile(o)
}

// fetchFile GETs o whole into an unlinked temporary file of the cache
// directory, checked against the manifest's size and SHA-256.
func (c *Cache) fetchFile(o Object) (*os.File, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.RequestTimeout+time.Duration(o.Bytes>>20)*time.Second)
	defer cancel()
	rc, err := c.store.Get(ctx, o.Key)
	if err != nil {
		return nil, fmt.Errorf("tiering: cache: fetch %s: %w", o.Key, err)
	}
	defer rc.Close()
	n, sum, tmp, err := writeHashed(c.wholePath(o.Name), io.LimitReader(rc, o.Bytes+1))
	c.mu.Lock()
	c.st.GETs++
	c.st.FetchedBytes += n
	c.mu.Unlock()
	if err == nil && (n != o.Bytes || sum != o.SHA256) {
		err = fmt.Errorf("%s: %d bytes with sha256 %s, the manifest says %d and %s", o.Key, n, sum, o.Bytes, o.SHA256)
	}
	var f *os.File
	if err == nil {
		f, err = os.Open(tmp)
	}
	if tmp != "" {
		os.Remove(tmp)
	}
	if err != nil {
		return nil, fmt.Errorf("tiering: cache: fetch: %w", err)
	}
	return f, nil
}

// offload takes into the cache every segment the latest published
// manifest names that db still holds in segments/, and removes the
// cache's files of segments it no longer names; it returns the names
// taken, for the reopener to reopen (which removes them from segments/).
func (w *WriterCache) offload(_ context.Context, db *eventlog.DB) []string {
	w.u.mu.Lock()
	m := w.u.published
	w.u.mu.Unlock()
	if m == nil {
		return nil
	}
	if err := w.c.Retain(m); err != nil {
		w.u.log.Warn("tiering: writer cache: could not remove the files of segments no longer published", "err", err)
	}
	off := map[string]bool{}
	for _, name := range db.Offloaded() {
		off[name] = true
	}
	var names []string
	for _, o := range m.Segments {
		path := filepath.Join(w.dir, "segments", o.Name)
		if off[o.Name] {
			continue
		}
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			continue // dropped since; the next publication says so
		}
		if err := w.c.Add(o, path); err != nil {
			w.u.log.Warn("tiering: writer cache: could not take a published segment into the cache; it stays in segments/", "segment", o.Name, "err", err)
			continue
		}
		names = append(names, o.Name)
	}
	return names
}
