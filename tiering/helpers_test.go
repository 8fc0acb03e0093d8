package tiering_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/objstore"
	"github.com/eventlogdb/eventlog/tiering"
	"go.uber.org/goleak"
)

// writer is a store tiered to an object store, as eventlog serve
// --object-store runs one.
type writer struct {
	t      testing.TB
	dir    string
	db     *eventlog.DB
	up     *tiering.Uploader
	fenced atomic.Value // error
	seq    int
	// cacheMax, when positive, gives the writer a segment cache of that
	// many bytes (--cache-max-bytes with --object-store): wc.
	cacheMax int64
	// blockCache is the cache's in-memory block cache (0: the default).
	blockCache int64
	wc         *tiering.WriterCache
}

// openWriter opens (or reopens) the store in dir tiered to s.
func openWriter(t testing.TB, dir string, s objstore.Store, grace time.Duration) *writer {
	t.Helper()
	return openWriterOpts(t, dir, s, grace, eventlog.Options{})
}

// openWriterOpts is openWriter with the store's options.
func openWriterOpts(t testing.TB, dir string, s objstore.Store, grace time.Duration, opts eventlog.Options) *writer {
	t.Helper()
	w := &writer{t: t, dir: dir}
	w.start(w.config(s, grace), opts)
	return w
}

// start claims the prefix, opens the store observed and starts the
// uploader.
func (w *writer) start(cfg tiering.Config, opts eventlog.Options) {
	w.t.Helper()
	up, err := tiering.New(context.Background(), cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	w.up = up
	opts.AllowUnregistered, opts.MaintenanceInterval, opts.ManifestObserver = true, -1, up
	if w.cacheMax > 0 {
		if w.wc, err = up.NewWriterCache(tiering.WriterCacheConfig{MaxBytes: w.cacheMax, BlockCacheBytes: w.blockCache}); err != nil {
			w.t.Fatal(err)
		}
		w.wc.Apply(&opts)
	}
	w.db, err = eventlog.Open(w.dir, opts)
	if err != nil {
		w.t.Fatal(err)
	}
	if w.wc != nil {
		w.wc.Start(w.db)
	}
	up.Start(w.db.ManifestCommit())
	w.t.Cleanup(w.close)
}

func (w *writer) config(s objstore.Store, grace time.Duration) tiering.Config {
	return tiering.Config{Store: s, Dir: w.dir, DeleteGrace: grace, MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		OnFenced: func(err error) { w.fenced.Store(err); _ = w.db.StopWrites(err) }}
}

// close stops the uploader, then the store (idempotent).
func (w *writer) close() {
	if w.wc != nil {
		w.wc.Close()
		w.wc = nil
	}
	if w.up != nil {
		w.up.Close()
		w.up = nil
	}
	if w.db != nil {
		_ = w.db.Close()
		w.db = nil
	}
}

// appendSealed appends n events stamped in one day and seals them into
// segments, returning their messages.
func (w *writer) appendSealed(n int) {
	w.t.Helper()
	ctx := context.Background()
	for range n {
		w.seq++
		ev, err := event.Decode(fmt.Appendf(nil, `{"@timestamp":"2024-05-01T14:%02d:%02d.000Z","event":{"provider":"actions","action":"execute","outcome":"success"},"message":"event %d of %s"}`,
			w.seq/60%60, w.seq%60, w.seq, filepath.Base(w.dir)), event.DefaultLimits())
		if err != nil {
			w.t.Fatal(err)
		}
		if _, err := w.db.Append(ctx, ev); err != nil {
			w.t.Fatal(err)
		}
	}
	if err := w.db.Roll(ctx); err != nil {
		w.t.Fatal(err)
	}
}

// waitPublished waits for the bucket to hold the store's latest manifest.
func (w *writer) waitPublished() {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := w.up.WaitPublished(ctx); err != nil {
		w.t.Fatal(err)
	}
}

// countEvents counts the events of the store in dir, opened read-only.
func countEvents(t *testing.T, dir string) int {
	t.Helper()
	db, err := eventlog.Open(dir, eventlog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n, err := db.Count(context.Background(), eventlog.FindRequest{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// latest reads the latest published manifest, failing the test if none.
func latest(t *testing.T, s objstore.Store) *tiering.BucketManifest {
	t.Helper()
	m, err := tiering.ReadLatest(context.Background(), s)
	if err != nil || m == nil {
		t.Fatalf("latest manifest: %v, %v", m, err)
	}
	return m
}

// verifyClean checks that every object the latest manifest names is in s
// as named.
func verifyClean(t *testing.T, s objstore.Store) tiering.VerifyReport {
	t.Helper()
	rep, err := tiering.Verify(context.Background(), s)
	if err != nil || len(rep.Problems) > 0 {
		t.Fatalf("verify: %v, problems %v", err, rep.Problems)
	}
	return rep
}

// pullAndCount restores the bucket into a new directory, verifies it and
// returns its number of events.
func pullAndCount(t *testing.T, s objstore.Store) int {
	t.Helper()
	dir := t.TempDir() + "/restored"
	if _, err := tiering.Pull(context.Background(), s, dir); err != nil {
		t.Fatal(err)
	}
	if problems := eventlog.Verify(dir); len(problems) > 0 {
		t.Fatalf("restored store does not verify: %v", problems)
	}
	return countEvents(t, dir)
}

// readLatestOrNil returns the latest published manifest's number, 0 if
// none.
func readLatestOrNil(s objstore.Store) (uint64, error) {
	m, err := tiering.ReadLatest(context.Background(), s)
	if m == nil {
		return 0, err
	}
	return m.Number, err
}

// newUploader makes an uploader for data directory dir on s.
func newUploader(s objstore.Store, dir string) (*tiering.Uploader, error) {
	return tiering.New(context.Background(), tiering.Config{Store: s, Dir: dir})
}

// checkBucket checks that the bucket verifies clean and restores into a
// store holding want events.
func checkBucket(t *testing.T, s objstore.Store, want int) {
	t.Helper()
	verifyClean(t, s)
	if n := pullAndCount(t, s); n != want {
		t.Fatalf("restored store holds %d events, want %d", n, want)
	}
}

// waitDeleted waits until none of objs is in s.
func waitDeleted(t *testing.T, s objstore.Store, objs []tiering.Object) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, o := range objs {
		for _, err := s.Head(context.Background(), o.Key); !errors.Is(err, objstore.ErrNotFound); _, err = s.Head(context.Background(), o.Key) {
			if time.Now().After(deadline) {
				t.Fatalf("%s still in the bucket long after its grace (%v)", o.Key, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestMain checks that no uploader goroutine outlives its test (idle
// HTTP connections of the S3 client's transport aside: they belong to
// the transport, not to the uploader).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
}
