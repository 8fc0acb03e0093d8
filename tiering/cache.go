package tiering

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/memory"
	"github.com/eventlogdb/eventlog/objstore"
	"github.com/eventlogdb/eventlog/segment"
)

// CacheConfig configures a Cache. The zero value of every field but Store
// and Dir is a default.
type CacheConfig struct {
	// Store is the bucket prefix the segments are in.
	Store objstore.Store
	// Dir is the local cache directory: whole segments as NAME.seg, the
	// pinned part of every segment read as NAME.pin (FORMAT.md, "Pinned
	// parts").
	Dir string
	// MaxBytes bounds the whole segments kept in Dir; the least recently
	// opened go first. Pinned parts are not counted: they are always
	// kept. Zero: no whole segment is kept, every block is read by ranged
	// GETs.
	MaxBytes int64
	// BlockCacheBytes bounds the in-memory cache of the ranges ranged GETs
	// fetched, charged to Budget. Zero: 64 MiB.
	BlockCacheBytes int64
	// Budget is the memory budget the block cache is charged to (account
	// "object_store_block_cache"). Nil: unlimited.
	Budget *memory.Budget
	// Decoder decompresses columns for the readers opened; nil: each
	// reader makes its own.
	Decoder *zstd.Decoder
	// RequestTimeout bounds each ranged GET; a whole segment's download
	// gets it plus a second per MiB. Zero: 1 min.
	RequestTimeout time.Duration
}

// Cache turns the segments of a bucket (those its published manifests
// name) into a local cache: it keeps the most recently opened segments
// whole in a local directory, up to MaxBytes, and the pinned part of every
// other one, and opens an evicted segment as a reader over its pinned part
// whose blocks come from ranged GETs through a bounded in-memory block
// cache. A segment whose ranged reads fetched half its blocks' bytes is
// downloaded whole at its next Open (it is hot), or at once while open
// when a store reads through the cache with a reopener (the writer's
// WriterCache, a Follower's cache), which also reopens an evicted
// segment over its pinned part so its whole file's disk is freed. Safe for concurrent use; one Cache
// per directory. The writer and read-only query nodes use it alike: Open
// takes a manifest's Object, Do runs a read over the latest manifest and
// retries it when a segment turns out to be gone (404).
type Cache struct {
	cfg    CacheConfig
	store  objstore.Store
	blocks *blockCache
	pinned *memory.Account // pinned parts held by open views

	mu      sync.Mutex
	lru     *list.List               // of *wholeEntry, most recently opened first
	whole   map[string]*list.Element // by segment name
	wholeB  int64
	pins    map[string]int64 // pinned part sizes, by segment name
	fetched map[string]int64 // bytes ranged GETs fetched, by segment name
	heat    map[string]int64 // the same since the segment's last download (onHot)
	// reopening are the segments a reopener is reopening after their
	// eviction: opened over their pinned parts, never downloaded (which
	// would evict another, to be reopened in turn, and so on).
	reopening map[string]bool
	loading   map[string]*nameLock
	st        CacheStats

	// gone, when set (a query node's cache: Follower), is called when a
	// ranged read of a segment meets a 404, and the read's error then
	// also matches ErrSegmentGone.
	gone func()
	// onEvict and onHot, when set (a reopener), are told, under mu, of
	// a whole segment evicted and of an evicted segment whose ranged
	// reads made it hot, so that the store reading it reopens it.
	onEvict func(name string)
	onHot   func(o Object)
}

type wholeEntry struct {
	name  string
	bytes int64
}

// CacheStats are a Cache's figures: gauges of what it holds and counters
// since NewCache.
type CacheStats struct {
	// WholeSegments and WholeBytes are the segments held whole on local
	// disk; PinnedSegments and PinnedBytes their pinned parts (every
	// segment opened, evicted or not); BlockCacheBytes the in-memory
	// block cache.
	WholeSegments   int   `json:"whole_segments"`
	WholeBytes      int64 `json:"whole_bytes"`
	PinnedSegments  int   `json:"pinned_segments"`
	PinnedBytes     int64 `json:"pinned_bytes"`
	BlockCacheBytes int64 `json:"block_cache_bytes"`
	// Hits count Opens served by a whole local file, Misses those served
	// by ranged reads (or a download).
	Hits   int64 `json:"hits"`
	Misses int64 `json:"misses"`
	// BlockHits and BlockMisses count ranges served from the block cache
	// and fetched.
	BlockHits   int64 `json:"block_hits"`
	BlockMisses int64 `json:"block_misses"`
	// GETs and FetchedBytes count requests to the bucket and the bytes
	// they brought (ranged reads, pinned parts, whole downloads).
	GETs         int64 `json:"gets"`
	FetchedBytes int64 `json:"fetched_bytes"`
	// Downloads count segments fetched whole, Evictions whole segments
	// removed from local disk to stay within MaxBytes.
	Downloads int64 `json:"downloads"`
	Evictions int64 `json:"evictions"`
	// Reloads count reads Do ran again on a newer manifest after a 404.
	Reloads int64 `json:"reloads"`
}

// NewCache opens the cache directory, creating it, and takes in what an
// earlier run left there (leftover temporary files are removed; whole
// segments beyond MaxBytes are evicted, oldest modification first).
func NewCache(cfg CacheConfig) (*Cache, error) {
	if cfg.Store == nil || cfg.Dir == "" {
		return nil, errors.New("tiering: cache: no store or no directory")
	}
	if cfg.MaxBytes < 0 || cfg.BlockCacheBytes < 0 {
		return nil, fmt.Errorf("tiering: cache: negative size (max %d, block cache %d)", cfg.MaxBytes, cfg.BlockCacheBytes)
	}
	if cfg.BlockCacheBytes == 0 {
		cfg.BlockCacheBytes = 64 << 20
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = time.Minute
	}
	c := &Cache{cfg: cfg, store: cfg.Store, lru: list.New(), whole: map[string]*list.Element{},
		pins: map[string]int64{}, fetched: map[string]int64{}, heat: map[string]int64{}, reopening: map[string]bool{}, loading: map[string]*nameLock{},
		blocks: newBlockCache(cfg.BlockCacheBytes, cfg.Budget.Account("object_store_block_cache")),
		pinned: cfg.Budget.Account("object_store_pinned")}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("tiering: cache: %w", err)
	}
	if err := c.scan(); err != nil {
		return nil, fmt.Errorf("tiering: cache %s: %w", cfg.Dir, err)
	}
	c.mu.Lock()
	err := c.evictLocked()
	c.mu.Unlock()
	return c, err
}

// scan takes in the directory's files.
func (c *Cache) scan() error {
	entries, err := os.ReadDir(c.cfg.Dir)
	if err != nil {
		return err
	}
	type seg struct {
		name  string
		bytes int64
		mod   time.Time
	}
	var segs []seg
	for _, e := range entries {
		name := e.Name()
		info, err := e.Info()
		if err != nil {
			return err
		}
		switch {
		case strings.HasSuffix(name, ".tmp"):
			if err := os.Remove(filepath.Join(c.cfg.Dir, name)); err != nil {
				return err
			}
		case strings.HasSuffix(name, ".pin") && segmentNameRE.MatchString(strings.TrimSuffix(name, ".pin")+".seg"):
			c.pins[strings.TrimSuffix(name, ".pin")+".seg"] = info.Size()
		case segmentNameRE.MatchString(name):
			segs = append(segs, seg{name, info.Size(), info.ModTime()})
		}
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].mod.After(segs[j].mod) })
	for _, s := range segs {
		c.whole[s.name] = c.lru.PushBack(&wholeEntry{s.name, s.bytes})
		c.wholeB += s.bytes
	}
	return nil
}

func (c *Cache) wholePath(name string) string { return filepath.Join(c.cfg.Dir, name) }
func (c *Cache) pinPath(name string) string {
	return filepath.Join(c.cfg.Dir, strings.TrimSuffix(name, ".seg")+".pin")
}

// Add takes a whole segment file the caller has locally (a writer's
// sealed segment, uploaded) into the cache as o: it is hard-linked (or
// copied) into the directory as the most recently used, and its pinned
// part is written, so that evicting it later costs no GET.
func (c *Cache) Add(o Object, path string) error {
	if !segmentNameRE.MatchString(o.Name) {
		return fmt.Errorf("tiering: cache: add %q: not a segment name", o.Name)
	}
	defer c.lockName(o.Name)()
	if err := c.writePinFromFile(o.Name, path); err != nil {
		return err
	}
	dst := c.wholePath(o.Name)
	if err := os.Link(path, dst); err != nil && !errors.Is(err, fs.ErrExist) {
		if err := copyFile(path, dst); err != nil {
			return fmt.Errorf("tiering: cache: add %s: %w", o.Name, err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.touchLocked(o.Name, o.Bytes)
	return c.evictLocked()
}

// writePinFromFile writes the pinned part of the whole segment at path,
// unless it is there already.
func (c *Cache) writePinFromFile(name, path string) error {
	c.mu.Lock()
	_, have := c.pins[name]
	c.mu.Unlock()
	if have {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("tiering: cache: %s: %w", name, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("tiering: cache: %s: %w", name, err)
	}
	pin, err := segment.PinnedPart(f, st.Size())
	if err != nil {
		return fmt.Errorf("tiering: cache: %s: %w", name, err)
	}
	return c.savePin(name, pin)
}

// savePin writes pin as name's pinned part, crash-safely.
func (c *Cache) savePin(name string, pin []byte) error {
	if err := vfs.WriteFileAtomic(vfs.OS{}, c.pinPath(name), pin); err != nil {
		return fmt.Errorf("tiering: cache: write pinned part of %s: %w", name, err)
	}
	c.mu.Lock()
	c.pins[name] = int64(len(pin))
	c.mu.Unlock()
	return nil
}

// touchLocked records name (bytes long) as held whole and most recently
// used.
func (c *Cache) touchLocked(name string, bytes int64) {
	if e, ok := c.whole[name]; ok {
		c.lru.MoveToFront(e)
		return
	}
	c.whole[name] = c.lru.PushFront(&wholeEntry{name, bytes})
	c.wholeB += bytes
}

// evictLocked removes the least recently used whole segments until the
// rest fit in MaxBytes. Readers already open on an evicted file keep
// reading it (the mapping outlives the name).
func (c *Cache) evictLocked() error {
	for c.wholeB > c.cfg.MaxBytes && c.lru.Len() > 0 {
		e := c.lru.Back()
		we := e.Value.(*wholeEntry)
		if _, ok := c.pins[we.name]; !ok {
			return fmt.Errorf("tiering: cache: evict %s: its pinned part is missing", we.name)
		}
		if err := os.Remove(c.wholePath(we.name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("tiering: cache: evict %s: %w", we.name, err)
		}
		c.lru.Remove(e)
		delete(c.whole, we.name)
		c.wholeB -= we.bytes
		c.st.Evictions++
		if c.onEvict != nil {
			c.onEvict(we.name)
		}
	}
	return nil
}

// Open returns a reader of segment o: over the whole local file when the
// cache holds it (a hit), else over its pinned part (local, or fetched
// with three ranged GETs and kept) with blocks read by ranged GETs (a
// miss). A miss on a segment whose ranged reads already fetched half its
// blocks' bytes downloads it whole (checked against its SHA-256) when MaxBytes
// allows. The caller closes the reader. An object the bucket no longer
// holds gives an error wrapping objstore.ErrNotFound.
func (c *Cache) Open(ctx context.Context, o Object) (*segment.Reader, error) {
	r, _, err := c.open(ctx, o)
	return r, err
}

// open is Open, also returning the size of the pinned part the reader
// holds in memory (0 for a reader of a whole local file).
func (c *Cache) open(ctx context.Context, o Object) (*segment.Reader, int64, error) {
	if !segmentNameRE.MatchString(o.Name) || o.Key != segmentKey(o.Name) {
		return nil, 0, fmt.Errorf("tiering: cache: open %+v: not a segment object", o)
	}
	if r, err := c.openWhole(o, true); r != nil || err != nil {
		return r, 0, err
	}
	c.mu.Lock()
	c.st.Misses++
	c.mu.Unlock()
	// One fetch per segment at a time: concurrent queries of an evicted
	// segment wait for its pinned part or download rather than repeat it.
	defer c.lockName(o.Name)()
	if r, err := c.openWhole(o, false); r != nil || err != nil {
		return r, 0, err // downloaded meanwhile
	}
	c.mu.Lock()
	hot := !c.reopening[o.Name] && c.hotLocked(o, c.fetched[o.Name])
	c.mu.Unlock()
	if hot {
		if err := c.download(ctx, o); err != nil {
			return nil, 0, err
		}
		if r, err := c.openWhole(o, false); r != nil || err != nil {
			return r, 0, err
		}
	}
	return c.openPinned(ctx, o)
}

// nameLock serialises the fetches of one segment's files.
type nameLock struct {
	mu    sync.Mutex
	users int
}

// lockName locks name's fetches and returns the unlock.
func (c *Cache) lockName(name string) func() {
	c.mu.Lock()
	l := c.loading[name]
	if l == nil {
		l = &nameLock{}
		c.loading[name] = l
	}
	l.users++
	c.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		c.mu.Lock()
		if l.users--; l.users == 0 {
			delete(c.loading, name)
		}
		c.mu.Unlock()
	}
}

// hotLocked reports whether o should be downloaded whole: it fits the
// cache, and ranged reads fetched f, at least half its blocks' bytes (the
// file less its pinned part), so that reading it again from local disk
// pays for the download.
func (c *Cache) hotLocked(o Object, f int64) bool {
	pin, ok := c.pins[o.Name]
	return ok && f > 0 && o.Bytes <= c.cfg.MaxBytes && 2*f >= o.Bytes-(pin-8)
}

// openPinned opens o over its pinned part, kept locally once it checks
// out; a local one that does not (damaged on disk) is fetched again.
func (c *Cache) openPinned(ctx context.Context, o Object) (*segment.Reader, int64, error) {
	src := &rangeSource{c: c, o: o}
	pin, err := os.ReadFile(c.pinPath(o.Name))
	if err == nil {
		r, err := segment.OpenSource(o.Key, pin, src, segment.OpenOptions{Decoder: c.cfg.Decoder})
		if err == nil {
			return r, int64(len(pin)), nil
		}
		if !errors.Is(err, segment.ErrCorrupt) {
			return nil, 0, fmt.Errorf("tiering: cache: open %s: %w", o.Name, err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, 0, fmt.Errorf("tiering: cache: %w", err)
	}
	if pin, err = c.fetchPin(ctx, o); err != nil {
		return nil, 0, err
	}
	r, err := segment.OpenSource(o.Key, pin, src, segment.OpenOptions{Decoder: c.cfg.Decoder})
	if err != nil {
		return nil, 0, fmt.Errorf("tiering: cache: open %s: %w", o.Name, err)
	}
	if err := c.savePin(o.Name, pin); err != nil {
		r.Close()
		return nil, 0, err
	}
	return r, int64(len(pin)), nil
}

// openWhole opens the whole local file of o if the cache holds it (nil,
// nil when not), counting a hit if hit.
func (c *Cache) openWhole(o Object, hit bool) (*segment.Reader, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.whole[o.Name]; !ok {
		return nil, nil
	}
	r, err := segment.Open(c.wholePath(o.Name), segment.OpenOptions{Decoder: c.cfg.Decoder})
	if err != nil {
		return nil, fmt.Errorf("tiering: cache: open %s: %w", o.Name, err)
	}
	c.touchLocked(o.Name, o.Bytes)
	if hit {
		c.st.Hits++
	}
	return r, nil
}

// fetchPin fetches o's pinned part: the footer, which places the rest,
// then the header and the rest.
func (c *Cache) fetchPin(ctx context.Context, o Object) ([]byte, error) {
	if o.Bytes < segment.FooterLen {
		return nil, fmt.Errorf("tiering: cache: %s: the manifest gives it %d bytes, fewer than a footer", o.Key, o.Bytes)
	}
	ft, err := c.get(ctx, o, o.Bytes-segment.FooterLen, segment.FooterLen)
	if err != nil {
		return nil, err
	}
	off, err := segment.PinnedOffset(ft, o.Bytes)
	if err != nil {
		return nil, fmt.Errorf("tiering: cache: %s: %w", o.Key, err)
	}
	head, err := c.get(ctx, o, 0, 8)
	if err != nil {
		return nil, err
	}
	rest, err := c.get(ctx, o, off, o.Bytes-segment.FooterLen-off)
	if err != nil {
		return nil, err
	}
	return append(append(append(make([]byte, 0, 8+o.Bytes-off), head...), rest...), ft...), nil
}

// get fetches n bytes of o at off with one ranged GET, counting it.
func (c *Cache) get(ctx context.Context, o Object, off, n int64) ([]byte, error) {
	rctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	b, err := c.store.GetRange(rctx, o.Key, off, n)
	c.mu.Lock()
	c.st.GETs++
	c.st.FetchedBytes += int64(len(b))
	c.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("tiering: cache: %w", err)
	}
	if int64(len(b)) != n {
		return nil, fmt.Errorf("tiering: cache: %s: %d bytes at %d: got %d (the object is shorter than its manifest entry)", o.Key, n, off, len(b))
	}
	return b, nil
}

// download fetches o whole, checks its size and SHA-256 against the
// manifest, and keeps it as the most recently used whole segment.
func (c *Cache) download(ctx context.Context, o Object) error {
	dctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout+time.Duration(o.Bytes>>20)*time.Second)
	defer cancel()
	rc, err := c.store.Get(dctx, o.Key)
	if err != nil {
		return fmt.Errorf("tiering: cache: download: %w", err)
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
	if err == nil {
		err = c.writePinFromFile(o.Name, tmp)
	}
	if err == nil {
		err = os.Rename(tmp, c.wholePath(o.Name))
	}
	if err != nil {
		if tmp != "" {
			os.Remove(tmp)
		}
		return fmt.Errorf("tiering: cache: download: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.st.Downloads++
	// The heat that promotes while open is spent: evicted again, the
	// segment must earn a new download with new ranged reads, or two hot
	// segments that do not fit together would evict and download each
	// other at every read.
	delete(c.heat, o.Name)
	c.touchLocked(o.Name, o.Bytes)
	return c.evictLocked()
}

// writeHashed copies r to a new temporary file beside path (a name of its
// own, PATH.*.tmp, so concurrent writers never share one), fsynced,
// returning its size, SHA-256 and name.
func writeHashed(path string, r io.Reader) (n int64, sum, tmp string, err error) {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return 0, "", "", err
	}
	h := sha256.New()
	n, err = io.Copy(io.MultiWriter(f, h), r)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, hex.EncodeToString(h.Sum(nil)), f.Name(), err
}

// copyFile copies src to dst through a temporary file, fsynced, then
// renamed.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	_, _, tmp, err := writeHashed(dst, in)
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil && tmp != "" {
		os.Remove(tmp)
	}
	return err
}

// Retain removes the local files (whole and pinned) of every segment m
// does not name: segments compaction or retention replaced. Readers
// already open on them keep working.
func (c *Cache) Retain(m *BucketManifest) error {
	named := map[string]bool{}
	for _, o := range m.Segments {
		named[o.Name] = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for name := range c.pins {
		if !named[name] {
			if err := c.forgetLocked(name); err != nil {
				return err
			}
		}
	}
	for name := range c.whole {
		if !named[name] {
			if err := c.forgetLocked(name); err != nil {
				return err
			}
		}
	}
	return nil
}

// forgetLocked removes name's local files.
func (c *Cache) forgetLocked(name string) error {
	for _, p := range []string{c.wholePath(name), c.pinPath(name)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("tiering: cache: forget %s: %w", name, err)
		}
	}
	if e, ok := c.whole[name]; ok {
		c.wholeB -= e.Value.(*wholeEntry).bytes
		c.lru.Remove(e)
		delete(c.whole, name)
	}
	delete(c.pins, name)
	delete(c.fetched, name)
	delete(c.heat, name)
	return nil
}

// Stats returns the cache's figures now.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	st := c.st
	st.WholeSegments, st.WholeBytes, st.PinnedSegments = len(c.whole), c.wholeB, len(c.pins)
	for _, n := range c.pins {
		st.PinnedBytes += n
	}
	c.mu.Unlock()
	st.BlockCacheBytes = c.blocks.size()
	return st
}

// Close empties the block cache, releasing its memory. It holds no other
// resource: readers opened keep working (what they fetch afterwards is
// cached again until the Cache is dropped).
func (c *Cache) Close() { c.blocks.clear() }

// rangeSource is the segment.BlockSource of an evicted segment: ranged
// GETs of its object through the block cache.
type rangeSource struct {
	c *Cache
	o Object

	// pending holds what the last Prefetch fetched until ReadRange takes
	// it (charged to the block cache's account meanwhile): the block cache
	// alone might evict it first.
	mu      sync.Mutex
	pending map[blockKey][]byte
}

// ReadRange implements segment.BlockSource.
func (s *rangeSource) ReadRange(off, n int64) ([]byte, error) {
	k := blockKey{key: s.o.Key, off: off, n: n}
	if b := s.takePending(k); b != nil {
		s.c.blocks.put(k, b)
		return b, nil
	}
	if b := s.c.blocks.get(k); b != nil {
		s.c.mu.Lock()
		s.c.st.BlockHits++
		s.c.mu.Unlock()
		return b, nil
	}
	// The Reader's methods take no context; the request timeout bounds
	// the wait.
	b, err := s.fetch(k)
	if err != nil {
		return nil, err
	}
	s.c.blocks.put(k, b)
	return b, nil
}

// fetch GETs the range k, counting it as a block miss.
func (s *rangeSource) fetch(k blockKey) ([]byte, error) {
	b, err := s.c.get(context.Background(), s.o, k.off, k.n)
	if err != nil {
		if s.c.gone != nil && errors.Is(err, objstore.ErrNotFound) {
			s.c.gone()
			return nil, fmt.Errorf("%w: %s: %w", ErrSegmentGone, s.o.Key, err)
		}
		return nil, err
	}
	s.c.mu.Lock()
	s.c.st.BlockMisses++
	s.c.fetched[s.o.Name] += k.n // what makes it hot (Open)
	s.c.heat[s.o.Name] += k.n    // what makes it hot while open (onHot)
	if _, whole := s.c.whole[s.o.Name]; !whole && s.c.onHot != nil && s.c.hotLocked(s.o, s.c.heat[s.o.Name]) {
		s.c.onHot(s.o) // promoted while open, not only at its next Open
	}
	s.c.mu.Unlock()
	return b, nil
}

// takePending removes and returns the prefetched bytes of k, nil if none.
func (s *rangeSource) takePending(k blockKey) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.pending[k]
	if ok {
		delete(s.pending, k)
		s.c.blocks.acct.Release(int64(len(b)))
	}
	return b
}

// prefetchWorkers bounds the concurrent GETs of one Prefetch.
const prefetchWorkers = 8

// Prefetch implements segment.Prefetcher: the ranges the block cache does
// not hold are fetched concurrently, at most 8 at a time, and held until
// ReadRange takes them; what an earlier Prefetch left (a decode that
// failed midway) is dropped. A failed fetch is left for ReadRange to
// meet and report.
func (s *rangeSource) Prefetch(ranges [][2]int64) {
	s.mu.Lock()
	for k, b := range s.pending {
		delete(s.pending, k)
		s.c.blocks.acct.Release(int64(len(b)))
	}
	s.mu.Unlock()
	var missing []blockKey
	for _, rg := range ranges {
		if k := (blockKey{key: s.o.Key, off: rg[0], n: rg[1]}); s.c.blocks.get(k) == nil {
			missing = append(missing, k)
		}
	}
	work := make(chan blockKey)
	var wg sync.WaitGroup
	for range min(prefetchWorkers, len(missing)) {
		wg.Go(func() {
			for k := range work {
				if b, err := s.fetch(k); err == nil {
					s.hold(k, b)
				}
			}
		})
	}
	for _, k := range missing {
		work <- k
	}
	close(work)
	wg.Wait()
}

// hold keeps b as k's pending bytes.
func (s *rangeSource) hold(k blockKey, b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending == nil {
		s.pending = map[blockKey][]byte{}
	}
	if _, ok := s.pending[k]; !ok {
		s.pending[k] = b
		s.c.blocks.acct.Charge(int64(len(b)))
	}
}
