//go:build unix

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/destination"
	"github.com/eventlogdb/eventlog/event"
)

// dedupReceiver is a loopback receiver of destination batches. It checks
// signatures and records each batch by idempotency key in arrival order;
// hold, when set, makes it keep the next request waiting until release
// is closed (the batch still counts as received, as when the answer is
// lost).
type dedupReceiver struct {
	t      *testing.T
	secret string

	mu      sync.Mutex
	batches []recvBatch // in arrival order, duplicates included
	hold    chan struct{}
	held    chan struct{} // closed once a request is being held
}

type recvBatch struct {
	key  string
	seqs []uint64
	docs [][]byte
}

func (rc *dedupReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ts := r.Header.Get(destination.HeaderTimestamp)
	if r.Header.Get(destination.HeaderSignature) != destination.Sign(rc.secret, ts, body) {
		rc.t.Errorf("bad signature on batch %s", r.Header.Get(destination.HeaderIdempotencyKey))
	}
	b := recvBatch{key: r.Header.Get(destination.HeaderIdempotencyKey)}
	for line := range bytes.Lines(body) {
		var doc struct {
			Seq uint64 `json:"_seq"`
		}
		if err := json.Unmarshal(line, &doc); err != nil {
			rc.t.Errorf("batch %s: %v", b.key, err)
		}
		b.seqs = append(b.seqs, doc.Seq)
		b.docs = append(b.docs, bytes.TrimSuffix(line, []byte("\n")))
	}
	rc.mu.Lock()
	hold := rc.hold
	rc.hold = nil
	rc.mu.Unlock()
	if hold != nil {
		close(rc.held)
		<-hold
	}
	rc.mu.Lock()
	rc.batches = append(rc.batches, b)
	rc.mu.Unlock()
}

// distinct returns the batches without repeats, checking that a repeated
// key carries the same events and that distinct batches come in order.
func (rc *dedupReceiver) distinct() (out []recvBatch, dups int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	seen := map[string]recvBatch{}
	for _, b := range rc.batches {
		if prev, ok := seen[b.key]; ok {
			if !slices.Equal(prev.seqs, b.seqs) {
				rc.t.Errorf("batch %s delivered twice with different events: %v, %v", b.key, prev.seqs, b.seqs)
			}
			dups++
			continue
		}
		if want := fmt.Sprintf("%d-%d", b.seqs[0], b.seqs[len(b.seqs)-1]); b.key != want {
			rc.t.Errorf("key %s for a batch %s", b.key, want)
		}
		seen[b.key] = b
		out = append(out, b)
	}
	return out, dups
}

// TestServeBinaryDestinationSurvivesKill: a destination configured
// through the API delivers what _bulk acknowledged; the server is killed
// with SIGKILL while a batch is at the receiver; after a restart every
// acknowledged event has arrived, in order, and the only repeat is that
// whole batch, under the same idempotency key.
func TestServeBinaryDestinationSurvivesKill(t *testing.T) {
	bin := buildBinary(t)
	rcv := &dedupReceiver{t: t, secret: "kill-test-secret"}
	rts := httptest.NewServer(rcv)
	defer rts.Close()
	data := filepath.Join(t.TempDir(), "data")
	keyFile := filepath.Join(t.TempDir(), "secrets.key")
	if err := os.WriteFile(keyFile, []byte("0123456789abcdef0123456789abcdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	serveArgs := []string{"--data", data, "--addr", "127.0.0.1:0", "--sync", "always", "--log-level", "error", "--secrets-key-file", keyFile}
	srv := startServe(t, bin, serveArgs...)
	register(t, srv.url)
	cfg := fmt.Sprintf(`{"url":%q,"secret":%q,"batch_size":100,"max_delay":"20ms","start":"beginning"}`, rts.URL, rcv.secret)
	if r := doHTTP(t, "PUT", srv.url+"/api/destinations/receiver", cfg); r.status != http.StatusOK || strings.Contains(r.body, rcv.secret) {
		t.Fatalf("PUT destination: %d %s", r.status, r.body)
	}
	if b, err := os.ReadFile(filepath.Join(data, "destinations", "receiver.json")); err != nil || strings.Contains(string(b), rcv.secret) {
		t.Fatalf("the destination's file holds its secret in the clear (%v):\n%s", err, b)
	}

	const writers, batch = 2, 200
	lines := generatedLines(writers * 30 * batch)
	acks := &ackLog{bySeq: map[uint64][]byte{}}
	client := &http.Client{Timeout: 20 * time.Second}
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for b := w; (b+1)*batch <= len(lines); b += writers {
				if !acks.postBulk(t, client, srv.url, lines[b*batch:(b+1)*batch]) {
					return // the server is gone
				}
			}
		})
	}
	waitUntil(t, "deliveries while ingesting", func() bool {
		got, _ := rcv.distinct()
		return len(got) >= 10 && acks.batches.Load() >= 4
	})
	rcv.mu.Lock()
	release := make(chan struct{})
	rcv.hold, rcv.held = release, make(chan struct{})
	held := rcv.held
	rcv.mu.Unlock()
	select {
	case <-held:
	case <-time.After(20 * time.Second):
		t.Fatal("no batch came to be held")
	}
	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-srv.exited
	close(release) // the receiver takes the batch; its answer is lost
	wg.Wait()
	before, _ := rcv.distinct()
	t.Logf("killed after %d acknowledged events, %d batches received", len(acks.bySeq), len(before))

	srv = startServe(t, bin, serveArgs...) // the sealed secret opens only with the same key
	waitUntil(t, "every acknowledged event at the receiver", func() bool {
		got, _ := rcv.distinct()
		n := 0
		for _, b := range got {
			n += len(b.seqs)
		}
		return n >= len(acks.bySeq)
	})
	// Events stored but not acknowledged (a _bulk cut by the kill) are
	// delivered too: wait until the destination has caught up.
	var st struct {
		Cursor    uint64 `json:"cursor"`
		LagEvents uint64 `json:"lag_events"`
	}
	waitUntil(t, "the destination to catch up", func() bool {
		json.Unmarshal([]byte(doHTTP(t, "GET", srv.url+"/api/destinations/receiver", "").body), &st)
		return st.LagEvents == 0 && st.Cursor > 0
	})
	got, dups := rcv.distinct()
	var seqs []uint64
	docs := map[uint64][]byte{}
	for _, b := range got {
		seqs = append(seqs, b.seqs...)
		for i, s := range b.seqs {
			docs[s] = b.docs[i]
		}
	}
	for i, s := range seqs { // in order, none missing: no filter
		if s != uint64(i)+1 {
			t.Fatalf("event %d of the deliveries has _seq %d", i, s)
		}
	}
	for seq, line := range acks.bySeq {
		ev, err := event.Decode(line, event.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		if want := eventlog.AppendDocument(nil, seq, &ev); !bytes.Equal(docs[seq], want) {
			t.Fatalf("_seq %d: received %.200s\nacknowledged %.200s", seq, docs[seq], want)
		}
	}
	if dups < 1 {
		t.Fatal("the batch at the receiver when the server was killed was not sent again")
	}
	if st.Cursor != uint64(len(seqs)) {
		t.Fatalf("cursor %d after %d events delivered", st.Cursor, len(seqs))
	}
	t.Logf("%d events delivered (%d acknowledged) in %d batches, %d batch repeated", len(seqs), len(acks.bySeq), len(got), dups)
	srv.stop(t)
}

// TestTailBinaryInterrupt: eventlog tail --url prints events as they come
// and exits 0 on SIGINT.
func TestTailBinaryInterrupt(t *testing.T) {
	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	srv := startServe(t, bin, "--data", data, "--addr", "127.0.0.1:0", "--log-level", "warn", "--allow-unregistered")
	cmd := exec.Command(bin, "tail", "--url", srv.url, "--from", "beginning", "--format", "ndjson")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	doc := `{"event":{"provider":"p","action":"a"},"message":"hello"}`
	if r := doHTTP(t, "POST", srv.url+"/api/events", doc); r.status != http.StatusCreated {
		t.Fatalf("POST: %d %s", r.status, r.body)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, `{"_id":"0000000000000001","_seq":1,"@timestamp":`) || !strings.Contains(line, "hello") {
		t.Fatalf("tail printed %q, %v; stderr %s", line, err, stderr.String())
	}
	cmd.Process.Signal(syscall.SIGINT)
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatalf("tail exited with %v after SIGINT; stderr: %s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("tail still running 10 s after SIGINT")
	}
	srv.stop(t)
}

// httpAnswer is a finished exchange.
type httpAnswer struct {
	status int
	body   string
}

// doHTTP sends a request with a JSON body ("" for none).
func doHTTP(t *testing.T, method, url, body string) httpAnswer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return httpAnswer{resp.StatusCode, string(b)}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
