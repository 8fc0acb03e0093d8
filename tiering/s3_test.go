package tiering_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/objstore"
	"github.com/eventlogdb/eventlog/objstore/objstoretest"
)

// waitStatus polls the writer's uploader until ok holds.
func (w *writer) waitStatus(what string, ok func(st statusView) bool) {
	w.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st := w.up.Status()
		if ok(statusView{st.BacklogSegments, st.Errors}) {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("waiting for %s: status %+v", what, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type statusView struct {
	backlog int
	errors  int64
}

// TestS3ServerStoppedMidUpload: with the server down, seals stay local,
// the backlog and errors show; once it is back the backlog goes up, the
// bucket verifies clean and a pull holds every sealed event.
func TestS3ServerStoppedMidUpload(t *testing.T) {
	srv := objstoretest.Start(t)
	s := srv.Store("tier", "prod/eventlog")
	w := openWriter(t, t.TempDir(), s, time.Hour)
	w.appendSealed(40)
	w.waitPublished()

	srv.Stop()
	w.appendSealed(40)
	w.appendSealed(40)
	w.waitStatus("a backlog and failed attempts", func(st statusView) bool { return st.backlog == 2 && st.errors >= 2 })
	srv.Restart()
	w.waitPublished()
	if st := w.up.Status(); st.LastError != "" {
		t.Errorf("after catching up the status still shows an error: %q", st.LastError)
	}
	if m := latest(t, s); m.SealedSeq != 120 || len(m.Segments) != 3 {
		t.Fatalf("latest manifest up to seq %d with %d segments, want 120 and 3", m.SealedSeq, len(m.Segments))
	}
	checkBucket(t, s, 120)
}

// TestS3Answering5xx: every segment PUT answered 503 SlowDown or 500 for
// a while (past the client's own retries) leaves the manifest
// unpublished; once the server answers again the uploader catches up.
func TestS3Answering5xx(t *testing.T) {
	srv := objstoretest.Start(t)
	proxy := objstoretest.NewProxy(t, srv.Addr())
	s, err := objstore.NewS3(srv.Config("faulty", "p", proxy.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	var flip atomic.Int64
	proxy.Fail(func(r *http.Request) int {
		if r.Method != http.MethodPut || !strings.Contains(r.URL.Path, "/segments/") {
			return 0
		}
		if flip.Add(1)%2 == 0 {
			return http.StatusServiceUnavailable
		}
		return http.StatusInternalServerError
	})
	w := openWriter(t, t.TempDir(), s, time.Hour)
	w.appendSealed(30)
	w.waitStatus("failed attempts", func(st statusView) bool { return st.backlog == 1 && st.errors >= 2 })
	if m, err := readLatestOrNil(s); err != nil || m != 0 {
		t.Fatalf("a manifest was published while its segment could not be uploaded: %d, %v", m, err)
	}
	proxy.Fail(nil)
	w.waitPublished()
	checkBucket(t, s, 30)
}

// TestS3SecondWriterRefused: against a real server, a second data
// directory pointed at a used prefix refuses to start.
func TestS3SecondWriterRefused(t *testing.T) {
	srv := objstoretest.Start(t)
	s := srv.Store("shared", "one/prefix")
	w := openWriter(t, t.TempDir(), s, time.Hour)
	w.appendSealed(5)
	w.waitPublished()
	s2, err := objstore.NewS3(srv.ConfigExisting("shared", "one/prefix"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newUploader(s2, t.TempDir()); err == nil || !strings.Contains(err.Error(), "another writer owns") {
		t.Fatalf("second writer: %v, want a refusal", err)
	}
}

// TestS3Slow: a server that holds manifest PUTs past the request
// timeout is given up on and retried; the manifest is published once it
// answers in time, and only once (a PUT that landed after its timeout is
// recognised as this writer's own).
func TestS3Slow(t *testing.T) {
	srv := objstoretest.Start(t)
	proxy := objstoretest.NewProxy(t, srv.Addr())
	s, err := objstore.NewS3(srv.Config("slow", "p", proxy.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	var slow atomic.Int64
	proxy.Delay(func(r *http.Request) time.Duration {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifest/0") && slow.Add(1) <= 2 {
			return 2 * time.Second
		}
		return 0
	})
	w := &writer{t: t, dir: t.TempDir()}
	cfg := w.config(s, time.Hour)
	cfg.RequestTimeout = 300 * time.Millisecond
	w.start(cfg, eventlog.Options{})
	w.appendSealed(25)
	w.waitPublished()
	st := w.up.Status()
	if st.Errors == 0 || st.Published != 1 {
		t.Fatalf("status %+v: want timed-out attempts, then manifest 1", st)
	}
	checkBucket(t, s, 25)
}
