package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/segment"
)

// damagedDir writes a store whose one segment has a bit flipped in its
// block 1 (of 3), and returns the directory and the segment's name.
func damagedDir(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	db, err := eventlog.Open(dir, eventlog.Options{AllowUnregistered: true})
	if err != nil {
		t.Fatal(err)
	}
	evs := make([]eventlog.Event, 2*segment.DefaultBlockRows+500)
	base := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	for i := range evs {
		evs[i].Timestamp = event.DateOf(base.Add(time.Duration(i) * time.Millisecond))
		evs[i].Event.Provider, evs[i].Event.Action = "p", "a"
	}
	if _, err := db.Append(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil { // seals the events into one segment
		t.Fatal(err)
	}
	segs, err := os.ReadDir(filepath.Join(dir, "segments"))
	if err != nil || len(segs) != 1 {
		t.Fatalf("segments %v, %v", segs, err)
	}
	path := filepath.Join(dir, "segments", segs[0].Name())
	sal, err := segment.Salvage(path, nil)
	if err != nil || len(sal.Blocks) != 3 {
		t.Fatalf("salvage: %d blocks, %v", len(sal.Blocks), err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[sal.Blocks[1].Off+sal.Blocks[1].Len/2] ^= 0x10
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, segs[0].Name()
}

// TestExportOfDamagedStoreFails: an export reaching a damaged block exits
// non-zero naming it, through a server and on the directory, after
// printing the events before it.
func TestExportOfDamagedStoreFails(t *testing.T) {
	dir, name := damagedDir(t)
	check := func(how string, args ...string) {
		t.Helper()
		code, out, stderr := runCLI(t, "", append([]string{"export"}, args...)...)
		if code == 0 || !strings.Contains(stderr, name) || !strings.Contains(stderr, "block 1") {
			t.Fatalf("%s: exit %d, stderr %q: want a failure naming %s block 1", how, code, stderr, name)
		}
		if seqs, _ := exportedEvents(t, out); len(seqs) == 0 || len(seqs) > segment.DefaultBlockRows {
			t.Fatalf("%s: %d events printed before the error, want some of block 0's", how, len(seqs))
		}
	}
	check("--data", "--data", dir)
	check("--url", "--url", serveInProcess(t, dir, nil))
}
