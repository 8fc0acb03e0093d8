package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/objstore/objstoretest"
)

// nodeHealth is what the test reads of a node's /healthz.
type nodeHealth struct {
	Status string `json:"status"`
	Node   *struct {
		Manifest  uint64 `json:"manifest"`
		SealedSeq uint64 `json:"sealed_seq"`
	} `json:"object_store_node"`
}

// post sends body to url and returns the status and answer.
func post(t *testing.T, url, contentType string, body []byte) (int, string) {
	t.Helper()
	resp, err := http.Post(url, contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeQueryNode runs the binary twice on versitygw: a writer with
// --object-store, and a node with --from-object-store --read-only over
// the same prefix. The node answers searches as the writer does for
// sealed data, refuses writes naming the writer, reports the manifest it
// serves, and picks up what the writer seals next. Settings that do not
// go together are refused before anything starts.
func TestServeQueryNode(t *testing.T) {
	for _, c := range []struct{ args, want string }{
		{"--from-object-store s3://b/p", "add --read-only"},
		{"--read-only", "give --from-object-store"},
		{"--from-object-store s3://b/p --read-only --object-store s3://b/q", "exclude each other"},
		{"--keys-file k.json", "settings of a query node"},
		{"--cache-max-bytes 1MiB", "give --object-store (a writer) or --from-object-store"},
		{"--from-object-store s3://b/p --read-only --cache-block-bytes 1MiB", "give both"},
	} {
		if code, _, errs := runCLI(t, "", append([]string{"serve", "--data", t.TempDir()}, strings.Fields(c.args)...)...); code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("serve %s: exit %d, %q; want a refusal saying %q", c.args, code, errs, c.want)
		}
	}
	srv := objstoretest.Start(t)
	cfg := srv.Config("nodes", "", "")
	access, secret := srv.Credentials()
	t.Setenv("EVENTLOG_OBJECT_STORE_SECRET_KEY", secret)
	endpoint := []string{"--object-store-endpoint", cfg.Endpoint, "--object-store-path-style", "--object-store-access-key", access}
	bin := buildBinary(t)
	w := startServe(t, bin, append([]string{"--data", filepath.Join(t.TempDir(), "w"), "--addr", "127.0.0.1:0", "--allow-unregistered",
		"--object-store", "s3://nodes/prod"}, endpoint...)...)
	ingestAndRoll := func(n int) {
		lines := generatedLines(n)
		if code, body := post(t, w.url+"/api/events/_bulk", "application/x-ndjson", append(bytes.Join(lines, []byte("\n")), '\n')); code != http.StatusOK {
			t.Fatalf("_bulk: %d %s", code, body)
		}
		if code, body := post(t, w.url+"/api/_roll", "application/json", nil); code != http.StatusOK {
			t.Fatalf("_roll: %d %s", code, body)
		}
	}
	ingestAndRoll(200)
	published := func() uint64 {
		var h struct {
			ObjectStore struct {
				Published   uint64 `json:"published"`
				Unpublished bool   `json:"unpublished"`
				Backlog     int    `json:"backlog_segments"`
			} `json:"object_store"`
		}
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			getJSON(t, w.url+"/healthz", &h)
			if !h.ObjectStore.Unpublished && h.ObjectStore.Backlog == 0 && h.ObjectStore.Published > 0 {
				return h.ObjectStore.Published
			}
			if time.Now().After(deadline) {
				t.Fatalf("the writer did not publish: %+v", h)
			}
		}
	}
	first := published()
	node := startServe(t, bin, append([]string{"--data", filepath.Join(t.TempDir(), "node"), "--addr", "127.0.0.1:0",
		"--from-object-store", "s3://nodes/prod", "--read-only", "--object-store-poll-interval", "100ms", "--writer-url", w.url}, endpoint...)...)
	var h nodeHealth
	getJSON(t, node.url+"/healthz", &h)
	if h.Status != "ok" || h.Node == nil || h.Node.Manifest != first {
		t.Fatalf("node /healthz = %+v, want manifest %d", h, first)
	}
	// A second node with --cache-max-bytes too small for all but the
	// smallest whole segments: it reads the others by ranged GETs over
	// their pinned parts.
	cachedDir := filepath.Join(t.TempDir(), "cached")
	cached := startServe(t, bin, append([]string{"--data", cachedDir, "--addr", "127.0.0.1:0", "--cache-max-bytes", "1KiB", "--cache-block-bytes", "1MiB",
		"--from-object-store", "s3://nodes/prod", "--read-only", "--object-store-poll-interval", "100ms"}, endpoint...)...)
	sameAs := func(t *testing.T, wurl, nurl string) {
		t.Helper()
		for _, q := range []string{`{"per_page":500}`, `{"filter":"event.outcome:failure","sort":[{"sort_field":"@timestamp","sort_order":"desc"}],"per_page":100}`,
			`{"aggs":{"a":{"terms":{"field":"event.action","size":100}}}}`} {
			wc, wb := post(t, wurl+"/api/events/_search", "application/json", []byte(q))
			nc, nb := post(t, nurl+"/api/events/_search", "application/json", []byte(q))
			if wc != http.StatusOK || nc != wc || nb != wb {
				t.Fatalf("search %s: writer %d %.300s, node %d %.300s", q, wc, wb, nc, nb)
			}
		}
	}
	same := func() {
		t.Helper()
		sameAs(t, w.url, node.url)
		sameAs(t, w.url, cached.url)
	}
	same()
	code, body := post(t, node.url+"/api/events/_bulk", "application/x-ndjson", append(generatedLines(1)[0], '\n'))
	if code != http.StatusMethodNotAllowed || !strings.Contains(body, "read-only") || !strings.Contains(body, w.url) {
		t.Fatalf("_bulk on the node: %d %s; want 405 naming the writer", code, body)
	}
	if m := getBody(t, node.url+"/metrics"); !strings.Contains(m, "eventlog_object_store_manifest_age_seconds") {
		t.Fatal("the node's /metrics has no manifest age")
	}
	m := getBody(t, cached.url+"/metrics")
	if !strings.Contains(m, "eventlog_object_store_cache_block_misses_total") || strings.Contains(m, "eventlog_object_store_cache_block_misses_total 0\n") {
		t.Fatalf("the cached node's /metrics shows no ranged reads:\n%s", grepLines(m, "eventlog_object_store_cache_"))
	}
	// Whole segments within the limit only (a partition's segment of an
	// event or two can fit in 1 KiB); the rest read by ranged GETs above.
	segs, _ := filepath.Glob(filepath.Join(cachedDir, "*", "*.seg"))
	var whole int64
	for _, p := range segs {
		if fi, err := os.Stat(p); err == nil {
			whole += fi.Size()
		}
	}
	if whole > 1024 {
		t.Fatalf("the cached node holds whole segments %v, %d bytes, beyond its 1KiB", segs, whole)
	}
	if pins, _ := filepath.Glob(filepath.Join(cachedDir, "cache", "*.pin")); len(pins) == 0 {
		t.Fatal("the cached node keeps no pinned part")
	}

	ingestAndRoll(100)
	next := published()
	start := time.Now()
	for h.Node.Manifest < next {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("the node still serves manifest %d, want %d", h.Node.Manifest, next)
		}
		time.Sleep(10 * time.Millisecond)
		getJSON(t, node.url+"/healthz", &h)
	}
	t.Logf("the node served manifest %d %v after the writer reported it published (poll interval 100ms)", next, time.Since(start))
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var hc nodeHealth
		if getJSON(t, cached.url+"/healthz", &hc); hc.Node != nil && hc.Node.Manifest >= next {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cached node does not serve manifest %d", next)
		}
	}
	same()
	var total struct{ Total int }
	_, b := post(t, node.url+"/api/events/_search", "application/json", []byte(`{}`))
	if err := json.Unmarshal([]byte(b), &total); err != nil || total.Total != 300 {
		t.Fatalf("the node holds %d events (%v), want 300", total.Total, err)
	}

	// A key made on the writer reaches the node through the bucket
	// (hashes only): from then on the node wants it, as the writer does.
	code, body = post(t, w.url+"/api/_security/api_key", "application/json", []byte(`{"name":"grafana","role":"reader"}`))
	var key struct {
		Encoded string `json:"encoded"`
	}
	if err := json.Unmarshal([]byte(body), &key); code != http.StatusOK || err != nil || key.Encoded == "" {
		t.Fatalf("create a key on the writer: %d %s", code, body)
	}
	search := func(auth string) int {
		req, _ := http.NewRequest("POST", node.url+"/api/events/_search", strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", "ApiKey "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for deadline := time.Now().Add(20 * time.Second); search("") != http.StatusUnauthorized; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the node still serves without a key after the writer made one")
		}
	}
	if code := search(key.Encoded); code != http.StatusOK {
		t.Fatalf("the writer's key on the node: %d, want 200", code)
	}
}

// grepLines returns the lines of text that contain sub.
func grepLines(text, sub string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
