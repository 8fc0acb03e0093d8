package wal

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// TestMappingsLiveAsLongAsTheirRecords reads the process's mappings
// (/proc/self/maps): after Open, a file whose records a callback kept is
// still mapped, one it kept none of (all at or below after) is not, and
// once the kept records are dropped the collector unmaps the rest.
func TestMappingsLiveAsLongAsTheirRecords(t *testing.T) {
	opts := Options{Dir: t.TempDir(), MaxFileBytes: 400}
	want := writeLog(t, opts, 30)
	files := walFiles(t, opts.Dir)
	if len(files) < 3 {
		t.Fatalf("want at least 3 log files, have %d", len(files))
	}
	second := parseSeq(t, files[1])
	opts.KeepPayloads, opts.MapPayloads = true, true
	var kept []Record
	w, err := Open(opts, second-1, func(r Record) error {
		kept = append(kept, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mustClose(t, w)
	if len(kept) == 0 || kept[0].FirstSeq != second {
		t.Fatalf("replay after %d began at %+v", second-1, kept[:min(1, len(kept))])
	}
	for i, f := range files {
		if got, want := mapped(t, f), i > 0; got != want {
			t.Errorf("%s mapped %v after Open, want %v", f, got, want)
		}
	}
	for _, r := range kept {
		if !hasPayload(want, r) {
			t.Fatalf("record %d: payload %q not as written", r.FirstSeq, r.Payload)
		}
	}
	kept = nil
	for range 100 {
		runtime.GC()
		runtime.Gosched()
		if !anyMapped(t, files) {
			return
		}
	}
	t.Fatalf("log files still mapped after their records were dropped and 100 collections ran")
}

func parseSeq(t *testing.T, path string) uint64 {
	t.Helper()
	name := path[strings.LastIndexByte(path, '/')+1:]
	seq, ok := parseFileName(name)
	if !ok {
		t.Fatalf("not a log file name: %s", name)
	}
	return seq
}

// hasPayload reports whether want holds r as written.
func hasPayload(want []rec, r Record) bool {
	for _, w := range want {
		if w.seq == r.FirstSeq {
			return w.payload == string(r.Payload) && w.count == r.Count
		}
	}
	return false
}

// mapped reports whether path is mapped into this process.
func mapped(t *testing.T, path string) bool {
	t.Helper()
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(maps), "\n") {
		if strings.HasSuffix(line, " "+path) || strings.HasSuffix(line, " "+path+" (deleted)") {
			return true
		}
	}
	return false
}

func anyMapped(t *testing.T, paths []string) bool {
	for _, p := range paths {
		if mapped(t, p) {
			return true
		}
	}
	return false
}
