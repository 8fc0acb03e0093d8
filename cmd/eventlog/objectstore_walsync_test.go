package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/objstore/objstoretest"
)

// TestServeSyncToObjectStoreKilled: a server with --sync-to-object-store
// is killed (SIGKILL) while clients ingest and it seals, its data
// directory is deleted, and eventlog object-store pull restores a store
// that verifies clean and holds every event the server acknowledged —
// from the published segments and from the WAL chunks past them.
func TestServeSyncToObjectStoreKilled(t *testing.T) {
	srv := objstoretest.Start(t)
	cfg := srv.Config("walsync", "", "")
	access, secret := srv.Credentials()
	t.Setenv("EVENTLOG_OBJECT_STORE_SECRET_KEY", secret)
	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	s3 := []string{"--object-store", "s3://walsync/p", "--object-store-endpoint", cfg.Endpoint, "--object-store-path-style", "--object-store-access-key", access}
	p := startServe(t, bin, append([]string{"--data", data, "--addr", "127.0.0.1:0", "--allow-unregistered",
		"--segment-max-bytes", "1MiB", "--sync-to-object-store"}, s3...)...)

	acked := newMsgLog()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				msgs := postBatch(p.url, g, i, 50)
				acked.add(msgs)
			}
		}()
	}
	waitAcked(t, acked, 6000) // a few seals of 1 MiB, and WAL chunks past them
	_ = p.cmd.Process.Kill()  // mid-ingest: batches in flight are not acknowledged
	<-p.exited
	close(stop)
	wg.Wait()
	if err := os.RemoveAll(data); err != nil { // the writer's disk is lost
		t.Fatal(err)
	}

	restored := filepath.Join(t.TempDir(), "restored")
	out, err := exec.Command(bin, append([]string{"object-store", "pull", restored}, s3...)...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "verifies clean") {
		t.Fatalf("pull: %v\n%s", err, out)
	}
	got := storedMessages(t, restored)
	var lost []string
	for m := range acked.msgs {
		if !got[m] {
			lost = append(lost, m)
		}
	}
	if len(lost) > 0 {
		t.Fatalf("%d of %d acknowledged events are not in the restored store, e.g. %v\npull: %s", len(lost), len(acked.msgs), lost[:min(5, len(lost))], out)
	}
	if !strings.Contains(string(out), "pulled manifest") || strings.Contains(string(out), " 0 WAL chunks") {
		t.Fatalf("pull restored no manifest or no WAL chunk; the test needs both: %s", out)
	}
	t.Logf("%d acknowledged events restored (%d in the store); %s", len(acked.msgs), len(got), out)
}

// msgLog collects the messages of acknowledged events.
type msgLog struct {
	mu   sync.Mutex
	msgs map[string]bool
}

func newMsgLog() *msgLog { return &msgLog{msgs: map[string]bool{}} }

func (a *msgLog) add(msgs []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, m := range msgs {
		a.msgs[m] = true
	}
}

func (a *msgLog) len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.msgs)
}

// waitAcked waits until n events were acknowledged.
func waitAcked(t *testing.T, a *msgLog, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for a.len() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d events acknowledged in a minute", a.len())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// postBatch posts n events of client g's batch i to _bulk and returns
// their messages if the server acknowledged every one (200, no error
// item), else nil.
func postBatch(url string, g, i, n int) []string {
	var body bytes.Buffer
	msgs := make([]string, n)
	for k := range n {
		msgs[k] = fmt.Sprintf("client %d batch %d event %d", g, i, k)
		fmt.Fprintf(&body, `{"event":{"provider":"crash","action":"ingest"},"message":%q,"labels":{"pad":"%s"}}`+"\n", msgs[k], strings.Repeat("x", 200))
	}
	resp, err := http.Post(url+"/api/events/_bulk", "application/x-ndjson", &body)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var r struct {
		Errors bool `json:"errors"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&r) != nil || r.Errors {
		return nil
	}
	return msgs
}

// storedMessages returns the messages of every event of the store in
// dir, opened read-only.
func storedMessages(t *testing.T, dir string) map[string]bool {
	t.Helper()
	db, err := eventlog.Open(dir, eventlog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got := map[string]bool{}
	req := eventlog.FindRequest{Limit: eventlog.MaxLimit}
	for {
		it, err := db.Find(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		for it.Next() {
			got[it.Record().Event.Message] = true
		}
		_ = it.Close()
		if it.Len() < req.Limit {
			return got
		}
		req.Cursor = it.Cursor()
	}
}

// TestServeSyncToObjectStoreBucketFailing: while the bucket answers 503
// to every WAL chunk PUT, _bulk is not acknowledged: after
// --sync-to-object-store-timeout it answers 503 storage_failed, outcome
// unknown, saying the object-store copy was not confirmed and why, and
// /healthz is degraded showing the WAL sync's last error; with the kept
// records over --sync-to-object-store-max-pending the next batch is
// refused, not stored. Once the bucket answers again, ingest is
// acknowledged and the server is healthy.
func TestServeSyncToObjectStoreBucketFailing(t *testing.T) {
	srv := objstoretest.Start(t)
	proxy := objstoretest.NewProxy(t, srv.Addr())
	cfg := srv.Config("walfail", "", proxy.Addr())
	access, secret := srv.Credentials()
	t.Setenv("EVENTLOG_OBJECT_STORE_SECRET_KEY", secret)
	bin := buildBinary(t)
	p := startServe(t, bin, "--data", filepath.Join(t.TempDir(), "data"), "--addr", "127.0.0.1:0", "--allow-unregistered",
		"--object-store", "s3://walfail/p", "--object-store-endpoint", cfg.Endpoint, "--object-store-path-style", "--object-store-access-key", access,
		"--sync-to-object-store", "--sync-to-object-store-timeout", "1s", "--sync-to-object-store-max-pending", "1KiB")
	if postBatch(p.url, 0, 0, 5) == nil {
		t.Fatal("ingest with the bucket up was not acknowledged")
	}
	proxy.Fail(func(r *http.Request) int {
		if r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, ".chunk") {
			return http.StatusServiceUnavailable
		}
		return 0
	})
	during := strings.Repeat(`{"event":{"provider":"crash","action":"ingest"},"message":"during","labels":{"pad":"`+strings.Repeat("x", 100)+`"}}`+"\n", 20) // over the 1 KiB of pending records
	resp, answer := postAnswer(t, p.url, during)
	if resp.StatusCode != http.StatusServiceUnavailable || answer.Outcome != "unknown" || answer.Error.Type != "storage_failed" ||
		!strings.Contains(answer.Error.Reason, "copy in the object store was not confirmed") || !strings.Contains(answer.Error.Reason, "is not in s3://walfail/p") {
		t.Fatalf("_bulk while chunk PUTs fail: %d %+v; want 503 storage_failed, outcome unknown, naming the bucket", resp.StatusCode, answer)
	}
	// The 20 kept records fill --sync-to-object-store-max-pending: the
	// next batch is refused, nothing of it stored.
	resp, answer = postAnswer(t, p.url, `{"event":{"provider":"crash","action":"ingest"},"message":"refused"}`+"\n")
	if resp.StatusCode != http.StatusServiceUnavailable || answer.Outcome != "not_stored" || !strings.Contains(answer.Error.Reason, "too many events wait for their copy in the object store") {
		t.Fatalf("_bulk with the pending records over the bound: %d %+v; want 503, outcome not_stored, saying why", resp.StatusCode, answer)
	}
	var h struct {
		Status      string `json:"status"`
		ObjectStore struct {
			WAL struct {
				LastError string `json:"last_error"`
			} `json:"wal"`
		} `json:"object_store"`
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) { // the S3 client retries first
		getJSON(t, p.url+"/healthz", &h)
		if h.Status == "degraded" && h.ObjectStore.WAL.LastError != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthz while chunk PUTs fail: %+v; want degraded with the WAL sync's error", h)
		}
	}
	proxy.Fail(nil)
	// A client retrying gets through once the retried chunk is in (the
	// uploader's backoff decides when: up to a minute).
	for deadline, i := time.Now().Add(90*time.Second), 0; postBatch(p.url, 1, i, 5) == nil; i++ {
		if time.Now().After(deadline) {
			t.Fatal("ingest was never acknowledged again once the bucket answered")
		}
		time.Sleep(100 * time.Millisecond)
	}
	getJSON(t, p.url+"/healthz", &h)
	if h.Status != "ok" {
		t.Fatalf("healthz once the bucket answered again: %+v", h)
	}
	p.stop(t)
}

// bulkAnswer is the error answer of _bulk.
type bulkAnswer struct {
	Outcome string `json:"outcome"`
	Error   struct{ Type, Reason string }
}

// postAnswer posts body to _bulk and decodes an error answer.
func postAnswer(t *testing.T, url, body string) (*http.Response, bulkAnswer) {
	t.Helper()
	resp, err := http.Post(url+"/api/events/_bulk", "application/x-ndjson", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a bulkAnswer
	_ = json.NewDecoder(resp.Body).Decode(&a)
	return resp, a
}
