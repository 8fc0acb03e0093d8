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
