package main

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/objstore"
	"github.com/eventlogdb/eventlog/objstore/objstoretest"
	"github.com/eventlogdb/eventlog/tiering"
)

// TestServeObjectStoreKilledBeforePublish kills the server (SIGKILL)
// after it uploaded a seal's segments while every manifest PUT fails:
// the bucket's latest manifest still names only objects that are there,
// and after a restart the writer publishes everything it acknowledged.
func TestServeObjectStoreKilledBeforePublish(t *testing.T) {
	srv := objstoretest.Start(t)
	proxy := objstoretest.NewProxy(t, srv.Addr())
	cfg := srv.Config("killed", "", proxy.Addr())
	access, secret := srv.Credentials()
	t.Setenv("EVENTLOG_OBJECT_STORE_SECRET_KEY", secret)
	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	args := []string{"--data", data, "--addr", "127.0.0.1:0", "--allow-unregistered", "--object-store", "s3://killed/p",
		"--object-store-endpoint", cfg.Endpoint, "--object-store-path-style", "--object-store-access-key", access}
	lines := generatedLines(400)

	p := startServe(t, bin, args...)
	ingestAndSeal(t, p.url, lines[:200])
	waitObjectStore(t, p.url, func(st tiering.Status) bool { return st.Published == 1 && !st.Unpublished })

	proxy.Fail(func(r *http.Request) int {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifest/") {
			return http.StatusServiceUnavailable
		}
		return 0
	})
	ingestAndSeal(t, p.url, lines[200:])
	waitObjectStore(t, p.url, func(st tiering.Status) bool { return st.BacklogSegments == 0 && st.Unpublished && st.Errors > 0 })
	_ = p.cmd.Process.Kill() // between upload and publish
	<-p.exited

	direct, err := objstore.NewS3(srv.ConfigExisting("killed", "p"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := tiering.Verify(context.Background(), direct)
	if err != nil || len(rep.Problems) > 0 || rep.Manifest != 1 {
		t.Fatalf("after the kill: verify %+v, %v; want manifest 1, clean", rep, err)
	}

	proxy.Fail(nil)
	p = startServe(t, bin, args...)
	waitObjectStore(t, p.url, func(st tiering.Status) bool { return st.Published > 1 && !st.Unpublished })
	p.stop(t)
	restored := filepath.Join(t.TempDir(), "restored")
	if _, err := tiering.Pull(context.Background(), direct, restored); err != nil {
		t.Fatal(err)
	}
	db, err := eventlog.Open(restored, eventlog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n, err := db.Count(context.Background(), eventlog.FindRequest{}); err != nil || n != len(lines) {
		t.Fatalf("bucket holds %d events (%v), want every one acknowledged: %d", n, err, len(lines))
	}
}

// ingestAndSeal posts lines to _bulk, then has the server seal them
// (POST /api/_roll).
func ingestAndSeal(t *testing.T, url string, lines [][]byte) {
	t.Helper()
	resp, err := http.Post(url+"/api/events/_bulk", "application/x-ndjson", bytes.NewReader(append(bytes.Join(lines, []byte("\n")), '\n')))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("_bulk: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = http.Post(url+"/api/_roll", "application/json", nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("_roll: %v %v", resp, err)
	}
	resp.Body.Close()
}

// waitObjectStore polls /healthz until its object_store satisfies ok.
func waitObjectStore(t *testing.T, url string, ok func(tiering.Status) bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var h struct {
			ObjectStore tiering.Status `json:"object_store"`
		}
		getJSON(t, url+"/healthz", &h)
		if ok(h.ObjectStore) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("object store status never reached the expected state: %+v", h.ObjectStore)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
