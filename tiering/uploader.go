package tiering

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/client"
	"github.com/eventlogdb/eventlog/objstore"
)

// Config configures an Uploader. The zero value of every field but Store
// and Dir is a default.
type Config struct {
	// Store is the bucket prefix the store is copied to.
	Store objstore.Store
	// Dir is the store's data directory: its OBJECTSTORE file says which
	// writer it is, and its registry.json and PSEUDONYMS ride along with
	// every manifest.
	Dir string
	// DeleteGrace is how long an object a published manifest stopped
	// naming stays in the bucket: longer than readers' manifest poll
	// interval plus their longest query. Zero: 1 hour.
	DeleteGrace time.Duration
	// UnsafeSingleWriter writes even to a store that does not honour
	// If-None-Match: * (the probe failed): nothing then stops a second
	// writer from publishing over this one's manifests.
	UnsafeSingleWriter bool
	// MinBackoff and MaxBackoff bound the wait between failed attempts.
	// Zero: 1 s and 1 min.
	MinBackoff, MaxBackoff time.Duration
	// RequestTimeout bounds each request to the store (a manifest, a
	// delete); a segment upload gets it plus a second per MiB, so that a
	// server that stops answering is retried rather than waited on for
	// ever. Zero: 1 min.
	RequestTimeout time.Duration
	// OnFenced is called once, from the uploader's goroutine, when another
	// writer published under the prefix: the caller stops the store's
	// writes. Nil: nothing but the logs and Status.
	OnFenced func(error)
	// Keys, when set, are the server's API keys: their hashes (never a
	// secret) are published to keys.json whenever they change, for
	// read-only nodes (KeysChanged wakes the uploader). Nil: none.
	Keys *auth.Store
	// Logger receives the uploader's logs. Nil: discarded.
	Logger *slog.Logger
	// Now is the clock of retirement times. Nil: time.Now.
	Now func() time.Time
}

// Uploader copies a store's segments and manifests to object storage
// (see the package comment). It implements eventlog.ManifestObserver.
type Uploader struct {
	cfg    Config
	store  objstore.Store
	writer string
	log    *slog.Logger
	wake   chan struct{}

	// mu guards everything below; the goroutine holds it only between
	// network calls.
	mu        sync.Mutex
	pending   *eventlog.ManifestCommit // the latest commit the store made
	gen       uint64                   // bumped by every commit
	doneGen   uint64                   // the gen of the last commit published (or found published)
	published *BucketManifest          // the latest manifest in the bucket
	uploaded  map[string]Object        // segment objects in the bucket, by key, named or not
	retired   []Retired                // objects awaiting deletion
	counters  counters
	lastErr   string
	fenced    error
	// descended is set once the store's manifest was found to descend
	// from the published one.
	descended bool
	// keys is what keys.json holds, as this uploader last wrote it.
	keys []byte
	// walSync, with --sync-to-object-store, is told of every publication
	// (walsync_retire.go).
	walSync *WALSync
	// cache, with a writer's --cache-max-bytes, is told of every
	// publication: what it names may leave local disk (writer_cache.go).
	cache *WriterCache

	cancel context.CancelFunc
	done   chan struct{}
}

// counters are the uploader's cumulative figures (Status).
type counters struct {
	uploads, uploadBytes, errors, deletes int64
}

// New checks that cfg.Store can fence a second writer (unless
// UnsafeSingleWriter) and that its prefix is empty or this data
// directory's own, and returns an Uploader ready to Start. Pass it as
// eventlog.Options.ManifestObserver before opening the store.
func New(ctx context.Context, cfg Config) (*Uploader, error) {
	cfg = cfg.withDefaults()
	u := &Uploader{cfg: cfg, store: cfg.Store, log: cfg.Logger, wake: make(chan struct{}, 1), uploaded: map[string]Object{}}
	if err := objstore.ProbeConditionalWrites(ctx, cfg.Store); err != nil {
		if !cfg.UnsafeSingleWriter {
			return nil, fmt.Errorf("tiering: %w (--unsafe-single-writer writes anyway, if you are sure no second writer can ever point at this prefix)", err)
		}
		u.log.Warn("tiering: the object store does not fence writers; writing anyway (unsafe single writer)", "err", err)
	}
	latest, err := ReadLatest(ctx, cfg.Store)
	if err != nil {
		return nil, fmt.Errorf("tiering: %w", err)
	}
	if u.writer, err = claim(cfg.Dir, latest, cfg.Store); err != nil {
		return nil, fmt.Errorf("tiering: %w", err)
	}
	if latest != nil {
		u.published, u.retired = latest, latest.Retired
		for _, o := range latest.Segments {
			u.uploaded[o.Key] = o
		}
	}
	return u, nil
}

func (c Config) withDefaults() Config {
	if c.DeleteGrace == 0 {
		c.DeleteGrace = time.Hour
	}
	if c.MinBackoff == 0 {
		c.MinBackoff = time.Second
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = time.Minute
	}
	if c.RequestTimeout == 0 {
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

// claim returns the writer identity of dir for a prefix whose latest
// manifest is latest (nil: none): an empty prefix is claimed (a new
// identity is recorded in dir if it has none); a used one must be dir's.
func claim(dir string, latest *BucketManifest, s objstore.Store) (string, error) {
	id, err := readWriterID(dir)
	if err != nil {
		return "", err
	}
	switch {
	case latest == nil && id == "":
		id = newWriterID()
		return id, writeWriterID(dir, id)
	case latest == nil:
		return id, nil
	case id == "":
		return "", fmt.Errorf("%w: %s holds manifest %d of writer %s, and data directory %s has never written there: point it at another prefix, or restore that store with eventlog object-store pull",
			ErrFenced, s, latest.Number, latest.Writer, dir)
	case id != latest.Writer:
		return "", fmt.Errorf("%w: %s holds manifest %d of writer %s, not of this data directory's writer %s",
			ErrFenced, s, latest.Number, latest.Writer, id)
	}
	return id, nil
}

// ManifestCommitted implements eventlog.ManifestObserver: it records c
// and wakes the goroutine.
func (u *Uploader) ManifestCommitted(c eventlog.ManifestCommit) {
	u.mu.Lock()
	u.pending = &c
	u.gen++
	u.mu.Unlock()
	select {
	case u.wake <- struct{}{}:
	default:
	}
}

// Start starts the goroutine that brings the bucket up to the store's
// latest commit; current is the store's commit now (DB.ManifestCommit),
// used unless a later one was observed already. Close stops it.
func (u *Uploader) Start(current eventlog.ManifestCommit) {
	u.mu.Lock()
	if u.pending == nil {
		u.pending = &current
		u.gen++
	}
	u.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	u.cancel, u.done = cancel, make(chan struct{})
	go u.run(ctx)
}

// Close stops the goroutine and waits for it. What is not uploaded yet
// stays on local disk and goes up after the next Start.
func (u *Uploader) Close() {
	if u.cancel == nil {
		return
	}
	u.cancel()
	<-u.done
}

// KeysChanged wakes the uploader to publish the keys again (pass it to
// auth.Store.OnChange).
func (u *Uploader) KeysChanged() {
	select {
	case u.wake <- struct{}{}:
	default:
	}
}

// publishKeys writes keys.json when the keys differ from what this
// uploader last wrote there (always once per Start).
func (u *Uploader) publishKeys(ctx context.Context) error {
	if u.cfg.Keys == nil {
		return nil
	}
	data := u.cfg.Keys.Published()
	if bytes.Equal(data, u.keys) {
		return nil
	}
	kctx, cancel := u.requestContext(ctx, int64(len(data)))
	defer cancel()
	if err := objstore.PutBytes(kctx, u.store, keysKey, data, objstore.PutOptions{}); err != nil {
		return fmt.Errorf("publish the API keys: %w", err)
	}
	u.keys = data
	return nil
}

// errSuperseded: a segment vanished because a newer commit replaced it.
var errSuperseded = errors.New("superseded by a newer manifest")

// run works until ctx is done or the prefix is lost: after a failure it
// waits the backoff (new commits do not cut the wait short); otherwise
// until a commit or the next retired object's deletion is due.
func (u *Uploader) run(ctx context.Context) {
	defer close(u.done)
	b := client.NewBackOff(u.cfg.MinBackoff, u.cfg.MaxBackoff)
	for {
		err := u.step(ctx)
		if errors.Is(err, errSuperseded) {
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, ErrFenced) {
			u.fence(err)
			return
		}
		var due <-chan time.Time
		wake := u.wake
		if err != nil {
			u.noteErr(err)
			due, wake = time.After(b.NextBackOff()), nil
		} else {
			b.Reset()
			u.clearErr()
			due = u.nextDeletion()
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		case <-due:
		}
	}
}

// step uploads and publishes the latest commit if it is not published
// yet, then deletes the retired objects whose grace has passed.
func (u *Uploader) step(ctx context.Context) error {
	files, err := readSmallFiles(u.cfg.Dir)
	if err != nil {
		return err
	}
	u.mu.Lock()
	c, gen := u.pending, u.gen
	done := u.published != nil && publishes(u.published, c, files)
	u.mu.Unlock()
	if !u.descended {
		if err := u.adopt(ctx, c); err != nil {
			return err
		}
	}
	if !done && (u.published != nil || len(c.Segments) > 0) {
		if err := u.uploadAll(ctx, c, gen); err != nil {
			return err
		}
		if err := u.publishCommit(ctx, c); err != nil {
			return err
		}
	}
	u.mu.Lock()
	u.doneGen = gen
	u.mu.Unlock()
	if err := u.publishKeys(ctx); err != nil {
		return err
	}
	return u.deleteDue(ctx)
}

// adopt checks, once per Start, that the store descends from the
// published manifest, and retires the orphans of an earlier run.
func (u *Uploader) adopt(ctx context.Context, c *eventlog.ManifestCommit) error {
	if err := descends(u.published, c); err != nil {
		return err
	}
	orphans, err := findOrphans(ctx, u.store, u.published, c)
	if err != nil {
		return err
	}
	now := u.cfg.Now().UTC()
	u.mu.Lock()
	for _, k := range orphans {
		u.retired = append(u.retired, Retired{Key: k, Since: now})
	}
	u.descended = true
	u.mu.Unlock()
	if len(orphans) > 0 {
		u.log.Info("tiering: segments an interrupted run uploaded and never published will be deleted after the grace", "objects", len(orphans))
	}
	return nil
}

// descends checks that the store's commit c comes after the published
// manifest p: p holds no event beyond c's and names no segment c's store
// never wrote. Otherwise another store (a restored copy carrying the same
// writer identity) published under the prefix since this one last did.
func descends(p *BucketManifest, c *eventlog.ManifestCommit) error {
	if p == nil {
		return nil
	}
	if p.SealedSeq > c.SealedSeq {
		return fmt.Errorf("%w: published manifest %d holds events up to seq %d, beyond this store's %d", ErrFenced, p.Number, p.SealedSeq, c.SealedSeq)
	}
	for _, o := range p.Segments {
		id, _ := strconv.ParseUint(strings.TrimSuffix(o.Name, ".seg"), 10, 64)
		if id >= c.NextID {
			return fmt.Errorf("%w: published manifest %d names segment %s, which this store never wrote", ErrFenced, p.Number, o.Name)
		}
	}
	return nil
}

// uploadAll uploads the segments of c not in the bucket yet.
func (u *Uploader) uploadAll(ctx context.Context, c *eventlog.ManifestCommit, gen uint64) error {
	for _, seg := range c.Segments {
		key := segmentKey(seg.Name)
		u.mu.Lock()
		_, have := u.uploaded[key]
		u.mu.Unlock()
		if have {
			continue
		}
		o, err := u.upload(ctx, seg)
		if errors.Is(err, os.ErrNotExist) && u.newer(gen) {
			return errSuperseded // compacted or dropped since: follow the newer commit
		}
		if err != nil {
			return err
		}
		u.mu.Lock()
		u.uploaded[key] = o
		u.counters.uploads++
		u.counters.uploadBytes += o.Bytes
		u.mu.Unlock()
	}
	return nil
}

// newer reports whether a commit later than gen was observed.
func (u *Uploader) newer(gen uint64) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.gen != gen
}

// publishCommit publishes c as the next manifest: every segment it names
// is uploaded; the objects the previous manifest named (or that were
// uploaded since) and c does not become retired as of now.
func (u *Uploader) publishCommit(ctx context.Context, c *eventlog.ManifestCommit) error {
	m, dropped, err := u.nextManifest(c)
	if err != nil {
		return err
	}
	pctx, cancel := u.requestContext(ctx, 0)
	defer cancel()
	ptrErr, err := publish(pctx, u.store, m)
	if errors.Is(err, ErrFenced) {
		err = u.ownAttempt(ctx, m, err)
	}
	if err != nil {
		return err
	}
	if ptrErr != nil {
		u.log.Warn("tiering: manifest published, but not the pointer to it (readers find it past the pointer)", "manifest", m.Number, "err", ptrErr)
	}
	u.mu.Lock()
	u.published, u.retired = m, m.Retired
	for _, k := range dropped {
		delete(u.uploaded, k)
	}
	ws, wc := u.walSync, u.cache
	u.mu.Unlock()
	if ws != nil {
		ws.published(m)
	}
	if wc != nil {
		wc.r.kick()
	}
	u.log.Info("tiering: manifest published", "manifest", m.Number, "segments", len(m.Segments), "sealed_seq", m.SealedSeq)
	return nil
}

// requestContext bounds one request moving size bytes (see
// Config.RequestTimeout).
func (u *Uploader) requestContext(ctx context.Context, size int64) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, u.cfg.RequestTimeout+time.Duration(size>>20)*time.Second)
}

// ownAttempt decides a 412 on manifest m.Number: if the object there is
// this writer's manifest with the same MANIFEST, an earlier attempt whose
// answer was lost created it, and fenced is not an error; otherwise it is.
func (u *Uploader) ownAttempt(ctx context.Context, m *BucketManifest, fenced error) error {
	there, err := readManifest(ctx, u.store, m.Number)
	if err != nil || there.Writer != u.writer || !bytes.Equal(there.Manifest, m.Manifest) {
		return fenced
	}
	*m = *there
	return nil
}

// nextManifest builds the manifest that publishes c, and the keys it
// retires.
func (u *Uploader) nextManifest(c *eventlog.ManifestCommit) (*BucketManifest, []string, error) {
	files, err := readSmallFiles(u.cfg.Dir)
	if err != nil {
		return nil, nil, err
	}
	now := u.cfg.Now().UTC()
	u.mu.Lock()
	defer u.mu.Unlock()
	m := &BucketManifest{Version: bucketManifestVersion, Number: 1, Writer: u.writer, PublishedAt: now,
		SealedSeq: c.SealedSeq, Manifest: c.Data, Files: files, Retention: c.Retention, Clock: c.Clock,
		Retired: append([]Retired(nil), u.retired...)}
	if u.published != nil {
		m.Number = u.published.Number + 1
	}
	named := map[string]bool{}
	for _, seg := range c.Segments {
		o, ok := u.uploaded[segmentKey(seg.Name)]
		if !ok {
			return nil, nil, fmt.Errorf("segment %s is not uploaded", seg.Name) // uploadAll just did: a bug
		}
		named[o.Key] = true
		m.Segments = append(m.Segments, o)
	}
	var dropped []string
	for k := range u.uploaded {
		if !named[k] {
			dropped = append(dropped, k)
			m.Retired = append(m.Retired, Retired{Key: k, Since: now})
		}
	}
	return m, dropped, nil
}

// publishes reports whether published manifest p publishes everything of
// commit c and files that shapes a read (the clock aside, which moves).
func publishes(p *BucketManifest, c *eventlog.ManifestCommit, files map[string][]byte) bool {
	return bytes.Equal(p.Manifest, c.Data) && reflect.DeepEqual(p.Retention, c.Retention) &&
		maps.EqualFunc(p.Files, files, bytes.Equal)
}

// readSmallFiles reads the data directory's files a restore needs.
func readSmallFiles(dir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, name := range publishedFiles {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		files[name] = data
	}
	return files, nil
}

// noteErr records a failed attempt.
func (u *Uploader) noteErr(err error) {
	u.log.Warn("tiering: upload failed; local segments kept, retrying", "err", err)
	u.mu.Lock()
	u.counters.errors++
	u.lastErr = err.Error()
	u.mu.Unlock()
}

// clearErr records a successful attempt.
func (u *Uploader) clearErr() {
	u.mu.Lock()
	u.lastErr = ""
	u.mu.Unlock()
}

// fence records that the prefix was lost and tells the owner.
func (u *Uploader) fence(err error) {
	u.log.Error("tiering: another writer owns the object-store prefix; this one stops", "err", err)
	u.mu.Lock()
	u.fenced, u.lastErr = err, err.Error()
	u.mu.Unlock()
	if u.cfg.OnFenced != nil {
		u.cfg.OnFenced(err)
	}
}
