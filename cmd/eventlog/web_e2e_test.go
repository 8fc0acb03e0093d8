package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/segment"
)

// TestWebTimeline runs the timeline page's browser tests
// (web/e2e/timeline.mjs) in headless Chromium against the real binary:
// a fresh data directory, an admin key the script posts events with, and
// a reader key it types into the page. Screenshots go to
// $EVENTLOG_SCREENSHOTS (default: the test's temporary directory).
func TestWebTimeline(t *testing.T) {
	node, chromium := browserTools(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	p := startServe(t, bin, "--data", dir, "--addr", "127.0.0.1:0")
	// The first key is made without one; from then on the server needs them.
	adminKey := createKey(t, p.url, "", `{"name":"e2e-admin","role":"admin"}`)
	readerKey := createKey(t, p.url, adminKey, `{"name":"e2e-reader","role":"reader"}`)
	// The script prints "restart-server" to have the server stopped and
	// started again on the same address and data directory (following live
	// must resume across the drop); it reads "restarted" once it is back.
	restart := func(line string) string {
		if line != "restart-server" {
			return ""
		}
		addr := strings.TrimPrefix(p.url, "http://")
		p.stop(t)
		p = startServe(t, bin, "--data", dir, "--addr", addr)
		if p.url != "http://"+addr {
			t.Fatalf("restarted on %s, not %s", p.url, addr)
		}
		return "restarted"
	}
	runBrowserScriptWith(t, node, "timeline.mjs", restart, "EVENTLOG_URL="+p.url, "EVENTLOG_KEY="+readerKey,
		"EVENTLOG_ADMIN="+adminKey, "CHROMIUM="+chromium)
	p.stop(t)
}

// TestWebDamaged runs web/e2e/damaged.mjs: over a store with a damaged
// block the page says so, offers partial results, and keeps a banner
// while they are partial.
func TestWebDamaged(t *testing.T) {
	node, chromium := browserTools(t)
	dir, name := damagedDir(t)
	bin := buildBinary(t)
	p := startServe(t, bin, "--data", dir, "--addr", "127.0.0.1:0")
	runBrowserScript(t, node, "damaged.mjs", "EVENTLOG_URL="+p.url, "CHROMIUM="+chromium, "DAMAGED_SEGMENT="+name,
		fmt.Sprintf("EVENTS=%d", 2*segment.DefaultBlockRows+500), fmt.Sprintf("BLOCK_ROWS=%d", segment.DefaultBlockRows))
	p.stop(t)
}

// runBrowserScript runs web/e2e/script with node and env, screenshots
// going to $EVENTLOG_SCREENSHOTS (default: a temporary directory), and
// fails the test if it fails.
func runBrowserScript(t *testing.T, node, script string, env ...string) {
	t.Helper()
	runBrowserScriptWith(t, node, script, nil, env...)
}

// runBrowserScriptWith is runBrowserScript with a handler of the script's
// output: each line is logged and passed to onLine (when not nil), and a
// non-empty answer is written to the script's standard input, a line. The
// handler runs on the test's goroutine, so it may call t.Fatal.
func runBrowserScriptWith(t *testing.T, node, script string, onLine func(string) string, env ...string) {
	t.Helper()
	shots := os.Getenv("EVENTLOG_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	}
	// The scripts give up after 5 minutes themselves; this kills one if it
	// cannot, so that no browser outlives the test.
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("..", "..", "web", "e2e", script))
	cmd.Env = append(append(os.Environ(), "SCREENSHOTS="+shots), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	defer r.Close()
	var out strings.Builder
	defer func() { t.Logf("%s:\n%s", script, out.String()) }()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		out.WriteString(line + "\n")
		if onLine == nil {
			continue
		}
		if answer := onLine(line); answer != "" {
			if _, err := io.WriteString(stdin, answer+"\n"); err != nil {
				t.Fatalf("answer %s: %v", script, err)
			}
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%s failed: %v", script, err)
	}
}

// browserTools finds node, Chromium and web/node_modules. When one is
// missing the test fails under CI (which installs them: .ci/run) and is
// skipped elsewhere, saying what to install.
func browserTools(t *testing.T) (node, chromium string) {
	t.Helper()
	var missing []string
	node, err := exec.LookPath("node")
	if err != nil {
		missing = append(missing, "node (Node.js 20 or later)")
	}
	chromium = os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		missing = append(missing, "chromium (apt-get install chromium)")
	}
	if _, err := os.Stat(filepath.Join("..", "..", "web", "node_modules", "playwright-core")); err != nil {
		missing = append(missing, "playwright-core (npm ci in web/)")
	}
	if len(missing) == 0 {
		return node, chromium
	}
	msg := "the browser tests need " + strings.Join(missing, ", ")
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return "", ""
}

// createKey makes an API key through the HTTP API, authenticated with
// auth unless it is empty, and returns its encoded form.
func createKey(t *testing.T, url, auth, body string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/api/_security/api_key", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", "ApiKey "+auth)
	}
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var created struct {
		Encoded string `json:"encoded"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&created); err != nil || resp.StatusCode != http.StatusOK || created.Encoded == "" {
		t.Fatalf("create key %s: status %d, %v", body, resp.StatusCode, err)
	}
	return created.Encoded
}
