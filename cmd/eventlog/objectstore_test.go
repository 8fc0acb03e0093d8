package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/objstore/objstoretest"
)

// TestServeObjectStore runs the binary tiered to versitygw: /healthz and
// /metrics report the uploader; at shutdown the store seals and the
// manifest is published; object-store verify passes, and pull restores a
// store holding every acknowledged event, which verifies clean. A second
// data directory pointed at the same prefix refuses to start.
func TestServeObjectStore(t *testing.T) {
	srv := objstoretest.Start(t)
	cfg := srv.Config("tiered", "", "")
	access, secret := srv.Credentials()
	t.Setenv("EVENTLOG_OBJECT_STORE_SECRET_KEY", secret)
	storeArgs := []string{"--object-store", "s3://tiered/prod", "--object-store-endpoint", cfg.Endpoint,
		"--object-store-path-style", "--object-store-access-key", access}
	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	p := startServe(t, bin, append([]string{"--data", data, "--addr", "127.0.0.1:0", "--allow-unregistered"}, storeArgs...)...)

	lines := generatedLines(300)
	resp, err := http.Post(p.url+"/api/events/_bulk", "application/x-ndjson", bytes.NewReader(append(bytes.Join(lines, []byte("\n")), '\n')))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("_bulk: %v %v", resp, err)
	}
	resp.Body.Close()
	var h struct {
		Status      string `json:"status"`
		ObjectStore *struct {
			Store string `json:"store"`
		} `json:"object_store"`
	}
	getJSON(t, p.url+"/healthz", &h)
	if h.Status != "ok" || h.ObjectStore == nil || !strings.Contains(h.ObjectStore.Store, "s3://tiered/prod") {
		t.Fatalf("/healthz = %+v", h)
	}
	metrics := getBody(t, p.url+"/metrics")
	if !strings.Contains(metrics, "eventlog_object_store_backlog_segments") {
		t.Fatalf("/metrics has no object-store metrics")
	}
	p.stop(t)

	if code, out, errs := runCLI(t, "", append([]string{"object-store", "verify"}, storeArgs...)...); code != 0 || !strings.Contains(out, "all present") {
		t.Fatalf("object-store verify: %d %q %q", code, out, errs)
	}
	restored := filepath.Join(t.TempDir(), "restored")
	if code, out, errs := runCLI(t, "", append([]string{"object-store", "pull", restored}, storeArgs...)...); code != 0 || !strings.Contains(out, "verifies clean") {
		t.Fatalf("object-store pull: %d %q %q", code, out, errs)
	}
	db, err := eventlog.Open(restored, eventlog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	n, err := db.Count(t.Context(), eventlog.FindRequest{})
	db.Close()
	if err != nil || n != len(lines) {
		t.Fatalf("restored store holds %d events (%v), want %d", n, err, len(lines))
	}

	_, err = startServeProcess(bin, append([]string{"--data", filepath.Join(t.TempDir(), "other"), "--addr", "127.0.0.1:0"}, storeArgs...), 20*time.Second)
	if err == nil || !strings.Contains(err.Error(), "another writer owns") {
		t.Fatalf("a second writer on the prefix: %v, want a refusal", err)
	}
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return b.String()
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(getBody(t, url)), v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
