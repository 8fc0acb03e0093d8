package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/objstore/objstoretest"
	"github.com/eventlogdb/eventlog/tiering"
)

// exportHTTP returns the server's whole export (every event, NDJSON).
func exportHTTP(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url + "/api/events/_export")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("_export: %d %v\n%.300s", resp.StatusCode, err, body)
	}
	return string(body)
}

// segmentFiles lists the .seg files in dir, with their total size.
func segmentFiles(t *testing.T, dir string) (names []string, bytes int64) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".seg") {
			info, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			names, bytes = append(names, e.Name()), bytes+info.Size()
		}
	}
	return names, bytes
}

// TestServeWriterCacheKilled: a writer served with --object-store and a
// 1 KiB --cache-max-bytes offloads every published segment (segments/
// empties; its cache keeps only pinned parts, no whole segment being that
// small) and answers the export it answered before. Killed with SIGKILL
// and restarted, it opens the offloaded segments through its cache and
// answers the same, byte for byte; its disk still holds no whole segment.
func TestServeWriterCacheKilled(t *testing.T) {
	srv := objstoretest.Start(t)
	cfg := srv.Config("cached", "", "")
	access, secret := srv.Credentials()
	t.Setenv("EVENTLOG_OBJECT_STORE_SECRET_KEY", secret)
	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	args := []string{"--data", data, "--addr", "127.0.0.1:0", "--allow-unregistered", "--object-store", "s3://cached/p",
		"--object-store-endpoint", cfg.Endpoint, "--object-store-path-style", "--object-store-access-key", access,
		"--cache-max-bytes", "1KiB"}
	lines := generatedLines(600)

	p := startServe(t, bin, args...)
	for i := range 3 {
		ingestAndSeal(t, p.url, lines[i*200:(i+1)*200])
	}
	waitObjectStore(t, p.url, func(st tiering.Status) bool { return st.Published >= 3 && !st.Unpublished })
	segs := filepath.Join(data, "segments")
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		if names, _ := segmentFiles(t, segs); len(names) == 0 {
			break
		} else if time.Since(start) > 20*time.Second {
			t.Fatalf("segments/ still holds %v after their publication", names)
		}
	}
	before := exportHTTP(t, p.url)
	if n := strings.Count(before, "\n"); n != len(lines) {
		t.Fatalf("the export holds %d events, want %d", n, len(lines))
	}
	_ = p.cmd.Process.Kill()
	<-p.exited

	cache := filepath.Join(data, eventlog.SegmentCacheDir)
	pins, _ := filepath.Glob(filepath.Join(cache, "*.pin"))
	if whole, n := segmentFiles(t, cache); len(whole) != 0 || len(pins) < 3 {
		t.Fatalf("after the kill the cache holds whole segments %v (%d bytes) and %d pinned parts; want none whole, one pinned part per segment", whole, n, len(pins))
	}
	p = startServe(t, bin, args...)
	if after := exportHTTP(t, p.url); after != before {
		t.Fatalf("restarted after the kill, the writer exports\n%.300s\nbefore\n%.300s", after, before)
	}
	p.stop(t)
	if names, _ := segmentFiles(t, segs); len(names) != 0 {
		t.Fatalf("segments/ holds %v after the restart", names)
	}
}
