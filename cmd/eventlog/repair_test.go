package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A flipped bit in MANIFEST: verify and find fail naming it, repair
// rebuilds it from MANIFEST.prev and the segments, and every event is
// served again.
func TestRepairDamagedManifestCLI(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	for range 2 { // two seals, so MANIFEST.prev exists
		if code, out, errs := runCLI(t, twoEvents, "ingest", "--data", data, "--allow-unregistered"); code != 0 {
			t.Fatalf("ingest: %d %q %q", code, out, errs)
		}
	}
	path := filepath.Join(data, "MANIFEST")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x04
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runCLI(t, "", "verify", "--data", data); code != 1 || !strings.Contains(out, path) || !strings.Contains(out, "eventlog repair") {
		t.Fatalf("verify of a damaged manifest: %d %q", code, out)
	}
	code, out, errs := runCLI(t, "", "repair", "--data", data)
	if code != 0 || !strings.Contains(out, "manifest: rebuilt") || !strings.Contains(out, "used MANIFEST.prev") ||
		!strings.Contains(out, "lists 2 segments") || !strings.Contains(out, "nothing was lost") {
		t.Fatalf("repair: %d %q %q", code, out, errs)
	}
	if code, out, _ := runCLI(t, "", "verify", "--data", data); code != 0 {
		t.Fatalf("verify after repair: %d %q", code, out)
	}
	if code, out, _ := runCLI(t, "", "find", "--data", data, "--count"); code != 0 || out != "4\n" {
		t.Fatalf("count after repair: %d %q", code, out)
	}
}
