//go:build unix

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/bench"
	"github.com/eventlogdb/eventlog/client"
	"github.com/eventlogdb/eventlog/event"
)

// buildBinary builds the eventlog command into a temporary directory,
// with -race when the test has it, so that on a cold build cache only
// package main is compiled again.
func buildBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is not on PATH: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "eventlog")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	out, err := exec.Command(goTool, append(args, ".")...).CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// serverProcess is a running eventlog serve, for a test.
type serverProcess struct{ *serveProcess }

// startServe starts the binary's serve command and waits for the address
// it prints; the test's cleanup kills it if the test left it running.
func startServe(t *testing.T, bin string, args ...string) *serverProcess {
	t.Helper()
	p, err := startServeProcess(bin, args, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.cmd.Process.Kill() // when a failed test left it running
		<-p.exited
	})
	return &serverProcess{p}
}

// stop sends SIGTERM and checks that the process exits with status 0 in
// time.
func (p *serverProcess) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
		if p.err != nil {
			t.Fatalf("serve exited with %v; stderr:\n%s", p.err, p.stderr)
		}
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		t.Fatalf("serve still running 20s after SIGTERM; stderr:\n%s", p.waitLogs())
	}
}

// generatedLines returns n realistic events as NDJSON lines.
func generatedLines(n int) [][]byte {
	g := bench.NewGenerator(bench.GeneratorConfig{Seed: 7, ObjectPool: 1000})
	lines := make([][]byte, n)
	for i := range lines {
		ev := g.Next()
		lines[i] = event.AppendJSON(nil, &ev)
	}
	return lines
}

// register registers the generator's providers through the API.
func register(t *testing.T, url string) {
	t.Helper()
	for provider, actions := range bench.ProviderActions() {
		body, _ := json.Marshal(map[string][]string{"actions": actions})
		req, _ := http.NewRequest(http.MethodPut, url+"/api/providers/"+provider, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("PUT /api/providers/%s: %s", provider, resp.Status)
		}
	}
}

// ackLog collects what the server acknowledged: the line stored under
// each sequence number.
type ackLog struct {
	mu      sync.Mutex
	bySeq   map[uint64][]byte
	batches atomic.Int32
}

// postBulk sends lines to _bulk and records each 201 item. It returns
// false when the server no longer answers (it is shutting down).
func (a *ackLog) postBulk(t *testing.T, hc *http.Client, url string, lines [][]byte) bool {
	body := append(bytes.Join(lines, []byte("\n")), '\n')
	resp, err := hc.Post(url+"/api/events/_bulk", "application/x-ndjson", bytes.NewReader(body))
	if err != nil {
		return false // refused or cut: nothing of it was acknowledged
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false
	}
	var answer struct {
		Items []client.BulkItem `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		if !errors.Is(err, io.ErrUnexpectedEOF) { // a kill cut the answer: nothing acknowledged
			t.Errorf("_bulk answer: %v", err)
		}
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, it := range answer.Items {
		if it.Status != http.StatusCreated {
			t.Errorf("line %d refused: %+v", i+1, it)
			continue
		}
		if prev, dup := a.bySeq[it.Seq]; dup {
			t.Errorf("_seq %d acknowledged twice: %s and %s", it.Seq, prev, lines[i])
		}
		a.bySeq[it.Seq] = lines[i]
	}
	a.batches.Add(1)
	return true
}

// TestServeBinaryShutdownKeepsAcknowledged runs the real binary at
// --sync always, sends SIGTERM while concurrent _bulk requests are in
// flight, and checks after a restart that every event a 201 acknowledged
// is there, under its sequence number.
func TestServeBinaryShutdownKeepsAcknowledged(t *testing.T) {
	const (
		writers   = 4
		batch     = 200
		perWriter = 40 // batches: more than get through before SIGTERM
	)
	bin := buildBinary(t)
	lines := generatedLines(writers * perWriter * batch)
	data := filepath.Join(t.TempDir(), "data")
	srv := startServe(t, bin, "--data", data, "--addr", "127.0.0.1:0", "--sync", "always", "--log-level", "warn")
	register(t, srv.url)

	acks := &ackLog{bySeq: map[uint64][]byte{}}
	client := &http.Client{Timeout: 20 * time.Second}
	var inFlight atomic.Int32
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for b := range perWriter {
				first := (w*perWriter + b) * batch
				inFlight.Add(1)
				ok := acks.postBulk(t, client, srv.url, lines[first:first+batch])
				inFlight.Add(-1)
				if !ok {
					return
				}
			}
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for acks.batches.Load() < 8 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	sent := inFlight.Load()
	srv.stop(t)
	wg.Wait()
	if acks.batches.Load() < 8 || sent == 0 || acks.batches.Load() == writers*perWriter {
		t.Fatalf("SIGTERM was not sent while ingesting: %d batches acknowledged, %d in flight at the signal", acks.batches.Load(), sent)
	}
	t.Logf("%d events in %d batches acknowledged; %d requests in flight at SIGTERM", len(acks.bySeq), acks.batches.Load(), sent)

	srv = startServe(t, bin, "--data", data, "--addr", "127.0.0.1:0", "--log-level", "warn")
	code, out, errs := runCLI(t, "", "export", "--url", srv.url)
	if code != 0 {
		t.Fatalf("export: %s", errs)
	}
	seqs, events := exportedEvents(t, out)
	stored := make(map[uint64]string, len(seqs))
	for i, seq := range seqs {
		stored[seq] = events[i]
	}
	lost := 0
	for seq, line := range acks.bySeq {
		ev, err := event.Decode(line, event.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		if want := string(event.AppendJSON(nil, &ev)); stored[seq] != want {
			if lost++; lost <= 3 {
				t.Errorf("_seq %d: stored %q, acknowledged %s", seq, stored[seq], want)
			}
		}
	}
	if lost > 0 || len(stored) < len(acks.bySeq) {
		t.Fatalf("%d of %d acknowledged events missing or different after the restart (%d stored)", lost, len(acks.bySeq), len(stored))
	}
	srv.stop(t)
	if logs := srv.stderr.String(); logs != "" {
		t.Errorf("warnings or errors logged: %s", logs)
	}
}
