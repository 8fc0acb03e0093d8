package tiering_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/objstore"
	"github.com/eventlogdb/eventlog/objstore/objstoretest"
	"github.com/eventlogdb/eventlog/tiering"
)

// TestWALSyncS3Faults runs --sync-to-object-store against versitygw
// through the fault proxy: while chunk PUTs get 503 SlowDown an append
// waits, and is acknowledged once they succeed; while they get 500 for
// longer than the acknowledgement timeout it fails with
// ErrOutcomeUnknown naming the server's answer; a slow server delays the
// acknowledgement by at least its delay. After all that, with the
// writer's disk gone, pull restores every acknowledged event.
func TestWALSyncS3Faults(t *testing.T) {
	srv := objstoretest.Start(t)
	proxy := objstoretest.NewProxy(t, srv.Addr())
	s, err := objstore.NewS3(srv.Config("walfaults", "p", proxy.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	w := openSyncWriter(t, t.TempDir(), s, time.Hour, tiering.WALSyncConfig{AckTimeout: 3 * time.Second})
	acked, _ := ingest(t, w.db, 0, 20, 4)
	chunkPUT := func(r *http.Request) bool {
		return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/wal/") && strings.HasSuffix(r.URL.Path, ".chunk")
	}

	proxy.Fail(func(r *http.Request) int {
		if chunkPUT(r) {
			return http.StatusServiceUnavailable
		}
		return 0
	})
	done := make(chan error, 1)
	go func() { _, err := w.db.Append(context.Background(), newEvent(t, 100)); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("append answered (%v) while every chunk PUT got 503", err)
	case <-time.After(time.Second):
	}
	if proxy.Faults() == 0 {
		t.Fatal("no chunk PUT reached the proxy")
	}
	proxy.Fail(nil)
	if err := <-done; err != nil {
		t.Fatalf("append once the server answered again: %v", err)
	}
	acked["ack 100"] = true

	proxy.Fail(func(r *http.Request) int {
		if chunkPUT(r) {
			return http.StatusInternalServerError
		}
		return 0
	})
	_, err = w.db.Append(context.Background(), newEvent(t, 200))
	if !errors.Is(err, eventlog.ErrOutcomeUnknown) || !errors.Is(err, eventlog.ErrNotShipped) || !strings.Contains(err.Error(), "after 3s") || !strings.Contains(err.Error(), "upload WAL chunk") {
		t.Fatalf("append while chunk PUTs get 500: %v; want ErrOutcomeUnknown after the 3 s timeout naming the failed upload", err)
	}
	proxy.Fail(nil)

	const delay = 400 * time.Millisecond
	proxy.Delay(func(r *http.Request) time.Duration {
		if chunkPUT(r) {
			return delay
		}
		return 0
	})
	start := time.Now()
	if _, err := w.db.Append(context.Background(), newEvent(t, 300)); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < delay {
		t.Fatalf("append acknowledged after %v, before the %v its chunk PUT takes", d, delay)
	}
	acked["ack 300"] = true
	proxy.Delay(nil)

	w.crash()
	direct, err := objstore.NewS3(srv.ConfigExisting("walfaults", "p"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := restoredMessages(t, direct)
	if lost := missing(acked, got); len(lost) > 0 {
		t.Fatalf("pull lost acknowledged events %v", lost)
	}
}
