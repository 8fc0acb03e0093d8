package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadCommandsOnMissingDataDir: every command that reads a data
// directory says that it does not exist and exits 1, instead of reading an
// empty store; none of them creates it.
func TestReadCommandsOnMissingDataDir(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "typo")
	for _, args := range [][]string{
		{"query"}, {"query", "--aggs", `{"n":{"terms":{"field":"event.action"}}}`}, {"export"}, {"find"}, {"find", "--count"},
		{"tail", "--from", "beginning"}, {"stats"}, {"verify"},
		{"compact"}, {"retention", "--max-age", "30d"}, {"delete", "--filter", "x:y"}, {"backup", "--to", t.TempDir()},
	} {
		code, out, errs := runCLI(t, "", append(args, "--data", missing)...)
		want := "data directory " + missing + " does not exist"
		if code != 1 || out != "" || !strings.Contains(errs, want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 1 and %q", args, code, out, errs, want)
		}
		if _, err := os.Stat(missing); err == nil {
			t.Fatalf("%v created %s", args, missing)
		}
	}
}
