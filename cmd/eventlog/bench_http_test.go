//go:build unix

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/eventlogdb/eventlog/bench"
)

// TestBenchHTTPBinary runs issue 15's end-to-end benchmark at a smoke size
// through the built binary, which starts itself as the server: every query
// is answered as the generator expects (the suite fails otherwise), and
// the report has the server's peak RSS and its bytes per event by family.
func TestBenchHTTPBinary(t *testing.T) {
	bin := buildBinary(t)
	out, err := exec.Command(bin, "bench", "http", "--events", "3000", "--batch", "1000", "--runs", "2", "--rest", "--json").Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("%v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var rep bench.SuiteReport
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if rep.Ingest == nil || rep.Ingest.Events != 3000 || len(rep.Queries) != 7 {
		t.Fatalf("report: %s", out)
	}
	s := rep.Server
	if s == nil || s.PeakRSSBytes < 1<<20 || s.Disk == nil || s.Disk.BytesPerEvent <= 0 || s.Layout == nil || s.Layout.Events != 3000 {
		t.Fatalf("server figures: %s", out)
	}
	if s.EndDisk == nil || s.EndDisk.BytesPerEvent <= 0 || s.PendingMerges != 0 {
		t.Fatalf("--rest: disk as the queries ended %+v, %d merges pending", s.EndDisk, s.PendingMerges)
	}
	if runtime.GOOS == "linux" {
		var phases []string
		for _, m := range s.Memory {
			phases = append(phases, m.Phase)
			if m.Samples < 1 || m.PeakAnonBytes < 1<<20 || m.PeakAnonBytes > s.PeakRSSBytes || m.PeakFileBytes > s.PeakRSSBytes {
				t.Fatalf("memory of phase %s: %+v against a whole-life peak of %d", m.Phase, m, s.PeakRSSBytes)
			}
		}
		if !slices.Equal(phases, []string{"ingest", "queries"}) {
			t.Fatalf("memory phases %q, want ingest and queries", phases)
		}
	}
	var famBytes int64
	for _, f := range s.Layout.Families {
		famBytes += f.Bytes
	}
	if famBytes != s.Layout.Bytes || s.Layout.Bytes != s.Disk.SegmentBytes {
		t.Fatalf("families sum to %d bytes, segments hold %d, the directory's segments %d", famBytes, s.Layout.Bytes, s.Disk.SegmentBytes)
	}
}

// TestReadRSSSplit reads the two lines bench http samples, and refuses a
// status file without them or with a size it cannot read.
func TestReadRSSSplit(t *testing.T) {
	dir := t.TempDir()
	write := func(text string) string {
		p := filepath.Join(dir, "status")
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	anon, file, err := readRSSSplit(write("Name:\teventlog\nVmRSS:\t  300 kB\nRssAnon:\t  200 kB\nRssFile:\t   96 kB\nRssShmem:\t4 kB\n"))
	if err != nil || anon != 200<<10 || file != 96<<10 {
		t.Fatalf("got %d, %d, %v; want %d, %d", anon, file, err, 200<<10, 96<<10)
	}
	for _, bad := range []string{"Name:\tx\nRssAnon:\t1 kB\n", "RssAnon:\tlots kB\nRssFile:\t1 kB\n", "RssAnon:\t1 MB\nRssFile:\t1 kB\n"} {
		if _, _, err := readRSSSplit(write(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if runtime.GOOS == "linux" {
		anon, _, err := readRSSSplit("/proc/self/status")
		if err != nil || anon < 1<<20 {
			t.Fatalf("this process: anonymous %d bytes, %v", anon, err)
		}
	}
}
