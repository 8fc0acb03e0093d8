//go:build unix

package main

import (
	"encoding/json"
	"os/exec"
	"testing"

	"github.com/eventlogdb/eventlog/bench"
)

// TestBenchHTTPBinary runs issue 15's end-to-end benchmark at a smoke size
// through the built binary, which starts itself as the server: every query
// is answered as the generator expects (the suite fails otherwise), and
// the report has the server's peak RSS and its bytes per event by family.
func TestBenchHTTPBinary(t *testing.T) {
	bin := buildBinary(t)
	out, err := exec.Command(bin, "bench", "http", "--events", "3000", "--batch", "1000", "--runs", "2", "--json").Output()
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
	var famBytes int64
	for _, f := range s.Layout.Families {
		famBytes += f.Bytes
	}
	if famBytes != s.Layout.Bytes || s.Layout.Bytes != s.Disk.SegmentBytes {
		t.Fatalf("families sum to %d bytes, segments hold %d, the directory's segments %d", famBytes, s.Layout.Bytes, s.Disk.SegmentBytes)
	}
}
