//go:build unix

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestServeBinaryCrashRetryStoresOnce kills a built `eventlog serve` with
// SIGKILL while a client sends _bulk batches of events with client ids
// (half of them without @timestamp, which the server stamps), restarts it,
// and has the client resend every event it did not see acknowledged.
// Afterwards every id is stored exactly once: a batch that was durable
// before the kill is answered "noop" on its retry, never stored again.
func TestServeBinaryCrashRetryStoresOnce(t *testing.T) {
	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	args := []string{"--data", data, "--addr", "127.0.0.1:0", "--allow-unregistered", "--maintenance-interval", "off",
		"--segment-max-bytes", "64KiB", "--log-level", "error"}
	const events, batch = 3000, 100
	lines := make([]string, events)
	for i := range lines {
		ts := ""
		if i%2 == 0 {
			ts = fmt.Sprintf(`"@timestamp":"2024-05-01T14:%02d:%02dZ",`, i/60%60, i%60)
		}
		lines[i] = fmt.Sprintf(`{"_id":"e-%d",%s"event":{"provider":"app","action":"write"},"message":"event %d"}`, i, ts, i)
	}
	acked := make([]bool, events)
	seed := uint64(time.Now().UnixNano())
	t.Logf("kill delays from seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	for round := 0; ; round++ {
		srv := startServe(t, bin, args...)
		var killer sync.WaitGroup
		if round < 4 {
			delay := time.Duration(20+rng.IntN(300)) * time.Millisecond
			killer.Add(1)
			go func() { // owned by this round: waited for below
				defer killer.Done()
				time.Sleep(delay)
				srv.cmd.Process.Kill() // SIGKILL
			}()
		}
		sendPending(t, srv.url, lines, acked, batch)
		killer.Wait()
		t.Logf("round %d: %d of %d events acknowledged", round, countTrue(acked), events)
		if round >= 4 {
			if !allTrue(acked) {
				t.Fatal("the last round, without a kill, left events unacknowledged")
			}
			srv.stop(t)
			break
		}
		<-srv.exited
	}
	code, out, errs := runCLI(t, "", "export", "--data", data)
	if code != 0 {
		t.Fatalf("export: %s", errs)
	}
	seen := map[string]int{}
	for line := range strings.Lines(out) {
		var doc struct {
			ID string `json:"_id"`
		}
		if err := json.Unmarshal([]byte(line), &doc); err != nil {
			t.Fatalf("export line %q: %v", line, err)
		}
		seen[doc.ID]++
	}
	for i := range events {
		if id := fmt.Sprintf("e-%d", i); seen[id] != 1 {
			t.Errorf("%s stored %d times, want once", id, seen[id])
		}
	}
	if len(seen) != events {
		t.Errorf("%d distinct ids stored, want %d", len(seen), events)
	}
}

// sendPending sends, in batches, every line not yet acknowledged, marking
// those the server answers 201 (created) or 200 (noop); it returns at the
// first failed request (the server was killed) or when all are sent.
func sendPending(t *testing.T, url string, lines []string, acked []bool, batch int) {
	t.Helper()
	var pending []int
	for i, ok := range acked {
		if !ok {
			pending = append(pending, i)
		}
	}
	for len(pending) > 0 {
		n := min(batch, len(pending))
		var body bytes.Buffer
		for _, i := range pending[:n] {
			body.WriteString(lines[i] + "\n")
		}
		resp, err := http.Post(url+"/api/events/_bulk", "application/x-ndjson", &body)
		if err != nil {
			return // killed: the batch's outcome is unknown, so it is resent
		}
		var res struct {
			Items []struct {
				Status int    `json:"status"`
				Result string `json:"result"`
			} `json:"items"`
		}
		err = json.NewDecoder(resp.Body).Decode(&res)
		resp.Body.Close()
		if err != nil {
			return // cut off mid-answer
		}
		if resp.StatusCode != http.StatusOK || len(res.Items) != n {
			t.Fatalf("_bulk: %d with %d items for %d lines", resp.StatusCode, len(res.Items), n)
		}
		for k, it := range res.Items {
			if it.Status != http.StatusCreated && it.Status != http.StatusOK {
				t.Fatalf("line %d answered %+v", pending[k], it)
			}
			acked[pending[k]] = true
		}
		pending = pending[n:]
	}
}

func allTrue(b []bool) bool { return countTrue(b) == len(b) }

func countTrue(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}
