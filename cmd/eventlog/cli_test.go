package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHelpForEveryCommand: --help (and -h, and help COMMAND) exits 0 and
// prints the command's usage on stdout, nothing on stderr, for every
// command.
func TestHelpForEveryCommand(t *testing.T) {
	for _, c := range commands() {
		for _, args := range [][]string{{c.name, "--help"}, {c.name, "-h"}, {c.name, "--data", "x", "--help"}} {
			code, out, errs := runCLI(t, "", args...)
			if code != 0 || errs != "" || !strings.Contains(strings.ToLower(out), "usage: eventlog "+c.name) {
				t.Errorf("%v: exit %d, stderr %q, stdout %q; want exit 0 and the usage on stdout", args, code, errs, out)
			}
		}
		code, out, errs := runCLI(t, "", "help", c.name)
		if code != 0 || errs != "" || !strings.Contains(out, c.summary) {
			t.Errorf("help %s: exit %d, stderr %q, stdout %q", c.name, code, errs, out)
		}
	}
	if code, out, errs := runCLI(t, "", "--help"); code != 0 || errs != "" || !strings.Contains(out, "Available Commands:") {
		t.Errorf("--help: exit %d %q %q", code, out, errs)
	}
}

// TestFlagsInAnyPosition: flags before and after a command's arguments
// mean the same.
func TestFlagsInAnyPosition(t *testing.T) {
	file := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(file, []byte(twoEvents), 0o644); err != nil {
		t.Fatal(err)
	}
	after, before := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	for _, args := range [][]string{
		{"ingest", file, "--allow-unregistered", "--data", after},
		{"ingest", "--allow-unregistered", "--data", before, file},
	} {
		if code, out, errs := runCLI(t, "", args...); code != 0 || !strings.Contains(out, "ingested 2 events") {
			t.Fatalf("%v: exit %d, %q, %q", args, code, out, errs)
		}
	}
	_, a, _ := runCLI(t, "", "export", "--data", after)
	_, b, _ := runCLI(t, "", "export", "--data", before)
	if a != b || strings.Count(a, "\n") != 2 {
		t.Fatalf("flags after the file stored\n%s\nflags before it\n%s", a, b)
	}
	if code, out, errs := runCLI(t, "", "register", "myapp", "--data", after, "login"); code != 0 {
		t.Fatalf("register with --data between the arguments: exit %d %q %q", code, out, errs)
	}
}

// TestBadFlagValueIsShort: a bad value prints one line naming the flag, not
// the usage, and exits 2.
func TestBadFlagValueIsShort(t *testing.T) {
	for args, flag := range map[string]string{
		"query --limit ten":                      "--limit",
		"compact --max-segment-bytes 5apples":    "--max-segment-bytes",
		"retention --max-age soon --dry-run":     "--max-age",
		"delete --filter x:y --timeout tomorrow": "--timeout",
	} {
		code, out, errs := runCLI(t, "", strings.Fields(args)...)
		if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, flag) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 2 and one line naming %s", args, code, out, errs, flag)
		}
	}
}
