package tiering_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/objstore"
	"github.com/eventlogdb/eventlog/tiering"
)

// openSyncWriter opens (or reopens) the store in dir tiered to s with
// --sync-to-object-store: its appends wait for their WAL chunk.
func openSyncWriter(t *testing.T, dir string, s objstore.Store, grace time.Duration, cfg tiering.WALSyncConfig) *syncWriter {
	t.Helper()
	w := &syncWriter{writer: &writer{t: t, dir: dir}}
	up, err := tiering.New(context.Background(), w.config(s, grace))
	if err != nil {
		t.Fatal(err)
	}
	w.up = up
	if w.ws, err = up.SyncWAL(context.Background(), cfg); err != nil {
		up.Close()
		t.Fatal(err)
	}
	w.db, err = eventlog.Open(dir, eventlog.Options{AllowUnregistered: true, MaintenanceInterval: -1, ManifestObserver: up, WALShipper: w.ws})
	if err != nil {
		t.Fatal(err)
	}
	up.Start(w.db.ManifestCommit())
	w.ws.Start()
	t.Cleanup(w.close)
	return w
}

// syncWriter is a writer whose appends are acknowledged by its WALSync.
type syncWriter struct {
	*writer
	ws *tiering.WALSync
}

// close stops the store, then the uploader and the WAL sync, as serve
// does (idempotent).
func (w *syncWriter) close() {
	if w.db != nil {
		_ = w.db.Close()
		w.db = nil
	}
	if w.up != nil {
		w.up.Close()
		w.up = nil
	}
	if w.ws != nil {
		w.ws.Close()
		w.ws = nil
	}
}

// crash stops the writer's goroutines without closing its store cleanly
// (nothing sealed at close, nothing more uploaded) and forgets its data
// directory, as the loss of the writer's disk does. The store is closed
// only after the WAL sync stopped, so that its final seal goes nowhere.
func (w *syncWriter) crash() {
	w.up.Close()
	w.ws.Close()
	w.up, w.ws = nil, nil
	_ = w.db.Close()
	w.db = nil
	_ = os.RemoveAll(w.dir)
}

// newEvent is event i of a test, with a message naming it.
func newEvent(t testing.TB, i int) eventlog.Event {
	ev, err := event.Decode(fmt.Appendf(nil, `{"@timestamp":"2024-05-01T14:%02d:%02d.000Z","event":{"provider":"actions","action":"execute","outcome":"success"},"message":"ack %d"}`,
		i/60%60, i%60, i), event.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// ingest appends n events from conc goroutines, one per Append, and
// returns the messages of those acknowledged and the number of failures.
func ingest(t *testing.T, db *eventlog.DB, from, n, conc int) (acked map[string]bool, failed int) {
	var mu sync.Mutex
	acked = map[string]bool{}
	var wg sync.WaitGroup
	for g := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := from + g; i < from+n; i += conc {
				_, err := db.Append(context.Background(), newEvent(t, i))
				mu.Lock()
				if err == nil {
					acked[fmt.Sprintf("ack %d", i)] = true
				} else {
					failed++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return acked, failed
}

// restoredMessages pulls s into a new directory, verifies it, and returns
// the messages of its events.
func restoredMessages(t *testing.T, s objstore.Store) (map[string]bool, tiering.PullResult) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "restored")
	res, err := tiering.Pull(context.Background(), s, dir)
	if err != nil {
		t.Fatal(err)
	}
	if problems := eventlog.Verify(dir); len(problems) > 0 {
		t.Fatalf("restored store does not verify: %v", problems)
	}
	db, err := eventlog.Open(dir, eventlog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got := map[string]bool{}
	it, err := db.Find(context.Background(), eventlog.FindRequest{Limit: eventlog.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	for it.Next() {
		msg := it.Record().Event.Message
		if got[msg] {
			t.Fatalf("restored store holds %q twice", msg)
		}
		got[msg] = true
	}
	return got, res
}

// missing lists the acknowledged messages got lacks.
func missing(acked, got map[string]bool) []string {
	var out []string
	for m := range acked {
		if !got[m] {
			out = append(out, m)
		}
	}
	return out
}

// TestWALSyncPullRestoresAcknowledged: with the writer's disk lost after
// acknowledged appends — some sealed and published, the rest only in WAL
// chunks — pull restores every acknowledged event, from the segments and
// from the chunks past the manifest's sealed_seq, and the store verifies.
func TestWALSyncPullRestoresAcknowledged(t *testing.T) {
	s := newDirStore(t)
	w := openSyncWriter(t, t.TempDir(), s, time.Hour, tiering.WALSyncConfig{})
	acked, failed := ingest(t, w.db, 0, 300, 8)
	if failed > 0 || len(acked) != 300 {
		t.Fatalf("%d acknowledged, %d failed; want 300 and 0", len(acked), failed)
	}
	if err := w.db.Roll(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.waitPublished()
	more, failed := ingest(t, w.db, 300, 200, 8)
	if failed > 0 {
		t.Fatalf("%d appends failed", failed)
	}
	for m := range more {
		acked[m] = true
	}
	st := w.ws.Status()
	if st.Chunks == 0 || st.Chunks >= 500 {
		t.Fatalf("status %+v: want between 1 and 499 chunks for 500 appends", st)
	}
	w.crash()

	got, res := restoredMessages(t, s)
	if lost := missing(acked, got); len(lost) > 0 {
		t.Fatalf("pull lost %d acknowledged events, e.g. %v (pull %+v)", len(lost), lost[:min(5, len(lost))], res)
	}
	if res.SealedSeq != 300 || res.WALChunks == 0 || res.LastSeq < 500 {
		t.Fatalf("pull %+v: want the sealed events up to 300 from the segments and the rest from WAL chunks", res)
	}
}

// TestWALSyncPullWithoutManifest: a writer that never sealed leaves only
// WAL chunks; pull restores them, with the writer's identity.
func TestWALSyncPullWithoutManifest(t *testing.T) {
	s := newDirStore(t)
	w := openSyncWriter(t, t.TempDir(), s, time.Hour, tiering.WALSyncConfig{})
	acked, _ := ingest(t, w.db, 0, 50, 4)
	w.crash()
	if m, err := tiering.ReadLatest(context.Background(), s); m != nil || err != nil {
		t.Fatalf("a manifest was published (%v, %v); the test needs none", m, err)
	}
	got, res := restoredMessages(t, s)
	if lost := missing(acked, got); len(lost) > 0 || len(got) != 50 {
		t.Fatalf("pull restored %d events (%+v), lost %v", len(got), res, lost)
	}
}

// TestWALSyncGroupCommit: appends arriving while a chunk is uploading
// share the next chunk, so a slow bucket gets far fewer PUTs than there
// are appends.
func TestWALSyncGroupCommit(t *testing.T) {
	s := &faultStore{Store: newDirStore(t)}
	s.setDelay(20 * time.Millisecond)
	w := openSyncWriter(t, t.TempDir(), s, time.Hour, tiering.WALSyncConfig{})
	acked, failed := ingest(t, w.db, 0, 400, 16)
	if failed > 0 || len(acked) != 400 {
		t.Fatalf("%d acknowledged, %d failed", len(acked), failed)
	}
	if st := w.ws.Status(); st.Chunks > 100 {
		t.Fatalf("400 appends from 16 goroutines took %d chunk uploads of 20 ms; want at most 100 (group commit)", st.Chunks)
	}
	if st := w.up.Status(); st.WAL == nil || st.WAL.Shipped != 400 || !strings.Contains(st.ErasureNotice(), "WAL chunks") {
		t.Fatalf("uploader status %+v: want the WAL sync's, shipped up to seq 400, and the privacy notice naming the chunks", st)
	}
}

// TestWALSyncChunkBounds: a chunk is cut at ChunkMaxBytes (a larger
// record alone), and a lone record waits no longer than ChunkMaxAge.
func TestWALSyncChunkBounds(t *testing.T) {
	s := newDirStore(t)
	w := openSyncWriter(t, t.TempDir(), s, time.Hour, tiering.WALSyncConfig{ChunkMaxBytes: 256, ChunkMaxAge: time.Hour})
	start := time.Now()
	if _, err := w.db.Append(context.Background(), batchOf(t, 0, 40)...); err != nil { // over 256 bytes: cut at once
		t.Fatal(err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("a record over ChunkMaxBytes waited %v, as if for the hour-long age", d)
	}
	w.close()
	w2 := openSyncWriter(t, t.TempDir(), newDirStore(t), time.Hour, tiering.WALSyncConfig{ChunkMaxAge: 50 * time.Millisecond})
	start = time.Now()
	if _, err := w2.db.Append(context.Background(), newEvent(t, 1)); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 50*time.Millisecond || d > 5*time.Second {
		t.Fatalf("a lone record was acknowledged after %v; want its chunk cut after the 50 ms age", d)
	}
}

// batchOf returns n events numbered from i.
func batchOf(t testing.TB, i, n int) []eventlog.Event {
	evs := make([]eventlog.Event, n)
	for k := range evs {
		evs[k] = newEvent(t, i+k)
	}
	return evs
}

// TestWALSyncBucketFailing: while every chunk PUT fails, appends are not
// acknowledged: they fail after the acknowledgement timeout with
// ErrOutcomeUnknown and an error naming the bucket and the failure. Once
// the bucket answers again, the retried chunk and later appends go up,
// and pull restores every acknowledged event (and the unconfirmed ones,
// whose chunk went up late).
func TestWALSyncBucketFailing(t *testing.T) {
	s := &faultStore{Store: newDirStore(t)}
	w := openSyncWriter(t, t.TempDir(), s, time.Hour, tiering.WALSyncConfig{AckTimeout: 300 * time.Millisecond})
	acked, _ := ingest(t, w.db, 0, 20, 2)
	s.setFail(errors.New("503 SlowDown (injected)"))
	_, err := w.db.Append(context.Background(), newEvent(t, 100))
	if !errors.Is(err, eventlog.ErrOutcomeUnknown) || !strings.Contains(err.Error(), "503 SlowDown (injected)") || !strings.Contains(err.Error(), s.String()) {
		t.Fatalf("append while the bucket fails: %v; want ErrOutcomeUnknown naming the bucket and the failure", err)
	}
	during, failed := ingest(t, w.db, 200, 6, 3)
	if len(during) > 0 || failed != 6 {
		t.Fatalf("%d appends acknowledged while every chunk upload failed", len(during))
	}
	if st := w.ws.Status(); st.LastError == "" || st.Errors == 0 || st.PendingBytes == 0 {
		t.Fatalf("status while failing: %+v; want the error, the count and the pending bytes", st)
	}
	s.setFail(nil)
	after, failed := ingest(t, w.db, 300, 20, 2)
	if failed > 0 {
		t.Fatalf("%d appends failed once the bucket answered again", failed)
	}
	for m := range after {
		acked[m] = true
	}
	w.crash()
	got, _ := restoredMessages(t, s)
	if lost := missing(acked, got); len(lost) > 0 {
		t.Fatalf("pull lost acknowledged events %v", lost)
	}
	if !got["ack 100"] {
		t.Errorf("the unconfirmed event's chunk was retried and should have gone up with the next ones")
	}
}

// TestWALSyncRetiresCoveredChunks: once a published manifest covers a
// chunk's events and the delete grace has passed, wal/FIRST moves past it
// and it is deleted; a restarted writer continues the numbering after the
// chunks of its earlier run, and pull still restores everything.
func TestWALSyncRetiresCoveredChunks(t *testing.T) {
	s := newDirStore(t)
	dir := t.TempDir()
	const grace = 300 * time.Millisecond
	w := openSyncWriter(t, dir, s, grace, tiering.WALSyncConfig{})
	ingest(t, w.db, 0, 30, 3)
	first := w.ws.Status().Chunks
	if err := w.db.Roll(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.waitPublished()
	waitFor(t, "covered chunks deleted", func() bool { return w.ws.Status().Deletes == first })
	for n := 1; n <= int(first); n++ {
		if _, err := s.Head(context.Background(), fmt.Sprintf("wal/%020d.chunk", n)); !errors.Is(err, objstore.ErrNotFound) {
			t.Fatalf("covered chunk %d still there after the grace: %v", n, err)
		}
	}
	if data, err := objstore.GetBytes(context.Background(), s, "wal/FIRST", 100); err != nil || string(data) != fmt.Sprintf(`{"version":1,"chunk":%d}`+"\n", first+1) {
		t.Fatalf("wal/FIRST is %q (%v), want chunk %d", data, err, first+1)
	}
	ingest(t, w.db, 100, 10, 1)
	w.close()

	w = openSyncWriter(t, dir, s, grace, tiering.WALSyncConfig{})
	ingest(t, w.db, 200, 10, 1)
	st := w.ws.Status()
	if st.NextChunk != uint64(first)+21 {
		t.Fatalf("restarted writer's next chunk is %d, want %d (after the %d chunks of 10 lone appends and 10 more)", st.NextChunk, first+21, first+10)
	}
	// The earlier run's chunks (extent unknown to this run: read by HEAD)
	// and this run's retire once a manifest covers them.
	if err := w.db.Roll(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.waitPublished()
	waitFor(t, "both runs' chunks deleted", func() bool { return w.ws.Status().InBucket == 0 })
	for n := first + 1; n <= first+20; n++ {
		if _, err := s.Head(context.Background(), fmt.Sprintf("wal/%020d.chunk", n)); !errors.Is(err, objstore.ErrNotFound) {
			t.Fatalf("covered chunk %d still there after the grace: %v", n, err)
		}
	}
	w.crash()
	got, res := restoredMessages(t, s)
	if len(got) != 50 || res.WALChunks != 0 {
		t.Fatalf("pull restored %d events and %d chunks, want 50 events, all from segments", len(got), res.WALChunks)
	}
}

// TestWALSyncFenced: a chunk number another writer took stops the WAL
// sync: appends fail with ErrFenced and the owner is told.
func TestWALSyncFenced(t *testing.T) {
	s := newDirStore(t)
	var fenced atomic.Bool
	w := openSyncWriter(t, t.TempDir(), s, time.Hour, tiering.WALSyncConfig{OnFenced: func(error) { fenced.Store(true) }})
	ingest(t, w.db, 0, 3, 1)
	next := w.ws.Status().NextChunk
	other := []byte("EVWL not ours")
	if err := objstore.PutBytes(context.Background(), s, fmt.Sprintf("wal/%020d.chunk", next), other,
		objstore.PutOptions{IfNoneMatch: true, Metadata: map[string]string{"writer": "00000000000000000000000000000001"}}); err != nil {
		t.Fatal(err)
	}
	_, err := w.db.Append(context.Background(), newEvent(t, 10))
	if !errors.Is(err, tiering.ErrFenced) || !errors.Is(err, eventlog.ErrOutcomeUnknown) || !fenced.Load() {
		t.Fatalf("append after another writer took the next chunk: %v (told: %v); want ErrFenced", err, fenced.Load())
	}
}

// TestPullRefusesDamagedChunk: a chunk whose bytes were damaged in the
// bucket fails the pull, naming the chunk and the offset, and nothing is
// replayed from it.
func TestPullRefusesDamagedChunk(t *testing.T) {
	s := newDirStore(t)
	w := openSyncWriter(t, t.TempDir(), s, time.Hour, tiering.WALSyncConfig{})
	ingest(t, w.db, 0, 5, 1)
	w.crash()
	key := "wal/00000000000000000003.chunk"
	data, err := objstore.GetBytes(context.Background(), s, key, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-3] ^= 0xff
	if err := s.Delete(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	if err := objstore.PutBytes(context.Background(), s, key, data, objstore.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = tiering.Pull(context.Background(), s, filepath.Join(t.TempDir(), "r"))
	if err == nil || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("pull of a damaged chunk: %v; want an error naming %s and the checksum", err, key)
	}
}

// waitFor polls ok for up to 10 s.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// faultStore wraps a store, failing or delaying every Put of a WAL chunk
// on demand.
type faultStore struct {
	objstore.Store
	mu    sync.Mutex
	fail  error
	delay time.Duration
}

func (f *faultStore) setFail(err error) { f.mu.Lock(); f.fail = err; f.mu.Unlock() }

func (f *faultStore) setDelay(d time.Duration) { f.mu.Lock(); f.delay = d; f.mu.Unlock() }

func (f *faultStore) Put(ctx context.Context, key string, r io.ReaderAt, size int64, opts objstore.PutOptions) error {
	f.mu.Lock()
	fail, delay := f.fail, f.delay
	f.mu.Unlock()
	if strings.HasPrefix(key, "wal/") && strings.HasSuffix(key, ".chunk") {
		time.Sleep(delay)
		if fail != nil {
			return fmt.Errorf("put %s: %w", key, fail)
		}
	}
	return f.Store.Put(ctx, key, r, size, opts)
}

// TestWALSyncBacklogBound: while the bucket fails, records whose append
// timed out wait for the retried chunk; once they fill MaxPendingBytes,
// further appends are refused before anything is stored
// (ErrShipBacklog). Once the bucket answers, the waiting records go up
// and the refused ones are nowhere.
func TestWALSyncBacklogBound(t *testing.T) {
	s := &faultStore{Store: newDirStore(t)}
	w := openSyncWriter(t, t.TempDir(), s, time.Hour, tiering.WALSyncConfig{AckTimeout: 100 * time.Millisecond, MaxPendingBytes: 2000})
	s.setFail(errors.New("503 SlowDown (injected)"))
	stored := map[string]bool{}
	var refused []string
	for i := 0; len(refused) < 3 && i < 200; i++ {
		_, err := w.db.Append(context.Background(), newEvent(t, i))
		msg := fmt.Sprintf("ack %d", i)
		switch {
		case errors.Is(err, eventlog.ErrShipBacklog) && !errors.Is(err, eventlog.ErrOutcomeUnknown):
			refused = append(refused, msg)
		case errors.Is(err, eventlog.ErrNotShipped):
			stored[msg] = true // kept locally, its chunk retried
		default:
			t.Fatalf("append %d while the bucket fails: %v; want ErrNotShipped, then ErrShipBacklog", i, err)
		}
	}
	if len(refused) < 3 || len(stored) == 0 {
		t.Fatalf("%d appends kept and %d refused: the backlog bound never refused one", len(stored), len(refused))
	}
	if st := w.ws.Status(); st.PendingBytes < 2000 || st.PendingBytes > 2000+1000 {
		t.Fatalf("pending %d bytes: want the 2000-byte bound reached and held (one record over at most)", st.PendingBytes)
	}
	s.setFail(nil)
	waitFor(t, "the backlog uploaded", func() bool { return w.ws.Status().PendingBytes == 0 })
	w.crash()
	got, _ := restoredMessages(t, s)
	if lost := missing(stored, got); len(lost) > 0 {
		t.Fatalf("records kept locally while the bucket failed are not in the bucket after it recovered: %v", lost)
	}
	for _, m := range refused {
		if got[m] {
			t.Fatalf("refused append %q was stored", m)
		}
	}
}
