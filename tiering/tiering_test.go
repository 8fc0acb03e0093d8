package tiering_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/objstore"
	"github.com/eventlogdb/eventlog/tiering"
)

func newDirStore(t *testing.T) *objstore.Dir {
	s, err := objstore.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestTieringLifecycle: seals are uploaded then published; compaction
// publishes the merged segment and retires the inputs, which stay in the
// bucket for the grace and are deleted after it; pull restores a store
// holding every sealed event that verifies clean.
func TestTieringLifecycle(t *testing.T) {
	s := newDirStore(t)
	const grace = 1500 * time.Millisecond
	w := openWriter(t, t.TempDir(), s, grace)
	for range 3 {
		w.appendSealed(50)
	}
	w.waitPublished()
	m := latest(t, s)
	if len(m.Segments) != 3 || m.SealedSeq != 150 {
		t.Fatalf("published manifest %d names %d segments up to seq %d, want 3 up to 150", m.Number, len(m.Segments), m.SealedSeq)
	}
	if rep := verifyClean(t, s); rep.Segments != 3 {
		t.Fatalf("verify read %d segments, want 3", rep.Segments)
	}
	before := m.Segments
	res, err := w.db.Compact(context.Background())
	if err != nil || res.Merges == 0 {
		t.Fatalf("compact: %+v, %v", res, err)
	}
	w.waitPublished()
	m = latest(t, s)
	if len(m.Segments) != 1 || len(m.Retired) != 3 {
		t.Fatalf("after compaction manifest %d names %d segments and retires %d, want 1 and 3", m.Number, len(m.Segments), len(m.Retired))
	}
	for _, o := range before { // within the grace: still readable
		if _, err := s.Head(context.Background(), o.Key); err != nil {
			t.Fatalf("retired %s deleted before its grace: %v", o.Key, err)
		}
	}
	waitDeleted(t, s, before)
	// The uploader counts a delete once the store has answered it: the
	// last object can be gone a moment before its count.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		st := w.up.Status()
		if st.Deletes == 3 && st.Uploads == 4 && st.Published == m.Number {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status %+v, want 4 uploads, 3 deletes, manifest %d", st, m.Number)
		}
	}
	checkBucket(t, s, 150)
}

// TestSecondWriterRefused: a data directory that is not the prefix's
// writer refuses to start; a running writer whose next manifest number
// another writer took stops, and its store stops writing.
func TestSecondWriterRefused(t *testing.T) {
	s := newDirStore(t)
	w := openWriter(t, t.TempDir(), s, time.Hour)
	w.appendSealed(10)
	w.waitPublished()

	_, err := tiering.New(context.Background(), tiering.Config{Store: s, Dir: t.TempDir()})
	if !errors.Is(err, tiering.ErrFenced) || !strings.Contains(err.Error(), "never written there") {
		t.Fatalf("second writer's New: %v, want ErrFenced", err)
	}

	// A pulled copy carries the writer's identity: it may start (it is
	// how the writer is restored), and the first to publish wins.
	copyDir := t.TempDir() + "/copy"
	if _, err := tiering.Pull(context.Background(), s, copyDir); err != nil {
		t.Fatal(err)
	}
	w.close()
	w2 := openWriter(t, copyDir, s, time.Hour)
	w2.appendSealed(10)
	w2.waitPublished()

	// The original, restarted, finds manifest 2 is not of its making: its
	// store holds less than the bucket. It stops, and so do its writes.
	w = openWriter(t, w.dir, s, time.Hour)
	deadline := time.Now().Add(10 * time.Second)
	for w.fenced.Load() == nil {
		if time.Now().After(deadline) {
			t.Fatalf("the displaced writer did not stop (status %+v)", w.up.Status())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st := w.up.Status(); !strings.Contains(st.Fenced, "beyond this store's") {
		t.Errorf("status does not say why it stopped: %+v", st)
	}
	if _, err := w.db.Append(context.Background(), w2event(t)); !errors.Is(err, tiering.ErrFenced) {
		t.Errorf("the displaced writer's store still takes appends: %v", err)
	}
	if n := pullAndCount(t, s); n != 20 {
		t.Fatalf("bucket holds %d events, want the 20 of the winning writer", n)
	}
}

// failManifests fails every put of a manifest: the writer uploads
// segments and never publishes, as one killed between the two would.
type failManifests struct{ objstore.Store }

func (f failManifests) Put(ctx context.Context, key string, r io.ReaderAt, size int64, o objstore.PutOptions) error {
	if strings.HasPrefix(key, "manifest/") {
		return errors.New("injected: killed before publishing")
	}
	return f.Store.Put(ctx, key, r, size, o)
}

// TestKilledBeforePublish: segments uploaded without their manifest are
// named by no published manifest; the restarted writer publishes them
// (finding them already there) and the bucket verifies clean.
func TestKilledBeforePublish(t *testing.T) {
	s, dir := newDirStore(t), t.TempDir()
	w := publishedThenUnpublishable(t, s, dir)
	w.appendSealed(30)
	w.waitStatus("uploads without a manifest", func(st statusView) bool { return st.backlog == 0 && st.errors > 0 })
	w.close() // killed: segments up, manifest not
	m := latest(t, s)
	if m.Number != 1 || m.SealedSeq != 20 {
		t.Fatalf("latest manifest %d up to seq %d, want 1 up to 20", m.Number, m.SealedSeq)
	}
	verifyClean(t, s) // names nothing missing
	entries, _ := os.ReadDir(filepath.Join(s.Root, "segments"))
	if len(entries) <= len(m.Segments) {
		t.Fatalf("expected unpublished uploads beside the %d published segments, found %d files", len(m.Segments), len(entries))
	}

	w = openWriter(t, dir, s, time.Hour)
	w.waitPublished()
	if m := latest(t, s); m.SealedSeq != 50 {
		t.Fatalf("after restart latest manifest is up to seq %d, want 50", m.SealedSeq)
	}
	checkBucket(t, s, 50)
}

// TestVerifyFindsDamage: a missing object and a changed one are each
// reported by key; a manifest that does not parse is an error naming it.
func TestVerifyFindsDamage(t *testing.T) {
	s := newDirStore(t)
	w := openWriter(t, t.TempDir(), s, time.Hour)
	w.appendSealed(10)
	w.appendSealed(10)
	w.waitPublished()
	m := latest(t, s)
	ctx := context.Background()
	if err := s.Delete(ctx, m.Segments[0].Key); err != nil {
		t.Fatal(err)
	}
	if err := objstore.PutBytes(ctx, s, m.Segments[1].Key, []byte("garbage"), objstore.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	rep, err := tiering.Verify(ctx, s)
	if err != nil || len(rep.Problems) != 2 ||
		!strings.Contains(rep.Problems[0].Error(), m.Segments[0].Key+": missing") ||
		!strings.Contains(rep.Problems[1].Error(), m.Segments[1].Key+": 7 bytes") {
		t.Fatalf("verify: %v, %v", rep.Problems, err)
	}
	if _, err := tiering.Pull(ctx, s, t.TempDir()+"/r"); err == nil || !strings.Contains(err.Error(), m.Segments[0].Key) {
		t.Fatalf("pull of a damaged bucket: %v, want an error naming %s", err, m.Segments[0].Key)
	}
	if err := objstore.PutBytes(ctx, s, "manifest/00000000000000000002", []byte("{not json"), objstore.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := tiering.Verify(ctx, s); err == nil || !strings.Contains(err.Error(), "manifest/00000000000000000002 does not parse") {
		t.Fatalf("verify of a garbage manifest: %v", err)
	}
}

// w2event is any valid event.
func w2event(t *testing.T) eventlog.Event {
	ev, err := event.Decode([]byte(`{"@timestamp":"2024-05-01T14:00:00Z","event":{"provider":"a","action":"b"}}`), event.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestRetentionRetiresObjects: segments retention drops are published
// as gone at once and deleted from the bucket after the grace.
func TestRetentionRetiresObjects(t *testing.T) {
	s := newDirStore(t)
	dir := t.TempDir()
	w := openWriter(t, dir, s, 300*time.Millisecond)
	w.appendSealed(20)
	w.waitPublished()
	gone := latest(t, s).Segments
	w.close()
	w = openWriterOpts(t, dir, s, 300*time.Millisecond, eventlog.Options{RetentionMaxAge: 24 * time.Hour}) // the events are from 2024
	res, err := w.db.ApplyRetention(context.Background())
	if err != nil || len(res.Dropped) != len(gone) {
		t.Fatalf("retention: %+v, %v", res, err)
	}
	w.waitPublished()
	if m := latest(t, s); len(m.Segments) != 0 || len(m.Retired) != len(gone) {
		t.Fatalf("after retention manifest %d names %d segments and retires %d, want 0 and %d", m.Number, len(m.Segments), len(m.Retired), len(gone))
	}
	waitDeleted(t, s, gone)
}

// TestOrphansOfAKilledRunAreRetired: segments a run uploaded and never
// published, and that compaction removed before the restart, are found by
// number, retired with the next manifest and deleted after the grace.
func TestOrphansOfAKilledRunAreRetired(t *testing.T) {
	s, dir := newDirStore(t), t.TempDir()
	w := publishedThenUnpublishable(t, s, dir)
	w.appendSealed(10)
	w.appendSealed(10)
	w.waitStatus("uploads without a manifest", func(st statusView) bool { return st.backlog == 0 && st.errors > 0 })
	if res, err := w.db.Compact(context.Background()); err != nil || res.Merges == 0 {
		t.Fatalf("compact: %+v, %v", res, err)
	}
	w.waitStatus("the merged segment uploaded", func(st statusView) bool { return st.backlog == 0 })
	w.close()
	orphans := []tiering.Object{{Key: "segments/000000000002.seg"}, {Key: "segments/000000000003.seg"}}
	for _, o := range orphans {
		if _, err := s.Head(context.Background(), o.Key); err != nil {
			t.Fatalf("setup: %s should be in the bucket, unpublished: %v", o.Key, err)
		}
	}

	w = openWriter(t, dir, s, 200*time.Millisecond)
	w.waitPublished()
	m := latest(t, s)
	retired := map[string]bool{}
	for _, r := range m.Retired {
		retired[r.Key] = true
	}
	if !retired[orphans[0].Key] || !retired[orphans[1].Key] || len(m.Segments) != 1 {
		t.Fatalf("manifest %d names %v and retires %v; want the merged segment, and the orphans retired", m.Number, m.Segments, m.Retired)
	}
	waitDeleted(t, s, orphans)
	checkBucket(t, s, 40)
}

// publishedThenUnpublishable publishes 20 events from the store in dir,
// then reopens it on s where every manifest put fails, as if the writer
// were killed before each publication.
func publishedThenUnpublishable(t *testing.T, s objstore.Store, dir string) *writer {
	w := openWriter(t, dir, s, time.Hour)
	w.appendSealed(20)
	w.waitPublished()
	w.close()
	return openWriter(t, dir, failManifests{s}, time.Hour)
}
