package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the command line in-process and returns its exit code and
// output.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

const twoEvents = `{"@timestamp":"2024-05-01T14:02:11.125Z","event":{"provider":"alerting","action":"execute","outcome":"success"},"kibana":{"saved_objects":[{"rel":"primary","type":"alert","id":"a1"}]}}

{"@timestamp":"2024-05-01T16:02:12+02:00","event":{"provider":"actions","action":"execute","outcome":"failure"}}
`

func TestIngestFindCountVerify(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	if code, out, errs := runCLI(t, twoEvents, "ingest", "--data", data, "--allow-unregistered"); code != 0 || !strings.Contains(out, "ingested 2 events") {
		t.Fatalf("ingest: %d %q %q", code, out, errs)
	}
	code, out, _ := runCLI(t, "", "find", "--data", data, "--term", "event.outcome=failure")
	if code != 0 || strings.Count(out, "\n") != 1 || !strings.Contains(out, `"@timestamp":"2024-05-01T16:02:12+02:00"`) || !strings.Contains(out, `"_seq":2`) {
		t.Fatalf("find: %d %q", code, out)
	}
	if code, out, _ := runCLI(t, "", "find", "--data", data, "--ref", "alert:a1", "--count"); code != 0 || out != "1\n" {
		t.Fatalf("find --count: %d %q", code, out)
	}
	if code, out, _ := runCLI(t, "", "verify", "--data", data); code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("verify: %d %q", code, out)
	}
	segs, _ := filepath.Glob(filepath.Join(data, "segments", "*.seg"))
	if len(segs) != 1 {
		t.Fatalf("segments: %v", segs)
	}
	if code, out, _ := runCLI(t, "", "inspect", segs[0]); code != 0 || !strings.Contains(out, "2 events") {
		t.Fatalf("inspect: %d %q", code, out)
	}
	// Damage the segment: verify names the file and exits 1.
	b, _ := os.ReadFile(segs[0])
	b[len(b)/2] ^= 0xff
	os.WriteFile(segs[0], b, 0o644)
	code, out, _ = runCLI(t, "", "verify", "--data", data)
	if code != 1 || !strings.Contains(out, filepath.Base(segs[0])) {
		t.Fatalf("verify of a damaged segment: %d %q", code, out)
	}
}

func TestIngestKeepsValidLines(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	bad := twoEvents + `{"event":{"provider":"x"},"kibana":{"saved_objets":[]}}` + "\n" + `{"message": 1}` + "\n" +
		`{"@timestamp":"2024-05-01T14:03:00Z","event":{"provider":"actions","action":"execute"}}` + "\n"
	code, out, errs := runCLI(t, bad, "ingest", "--data", data, "--allow-unregistered")
	if code != 1 || !strings.Contains(errs, "line 4: kibana.saved_objets: unknown field") || !strings.Contains(errs, "line 5: message") {
		t.Fatalf("ingest with bad lines: %d %q", code, errs)
	}
	if want := "ingested 3 events into " + data + " (2 lines rejected)\n"; out != want {
		t.Fatalf("summary: got %q, want %q", out, want)
	}
	if code, out, _ := runCLI(t, "", "find", "--data", data, "--count"); code != 0 || out != "3\n" {
		t.Fatalf("the valid lines were not all stored: %q", out)
	}
	// Strict by default: unregistered pairs are rejected, naming them.
	data = filepath.Join(t.TempDir(), "data")
	code, _, errs = runCLI(t, twoEvents, "ingest", "--data", data)
	if code != 1 || !strings.Contains(errs, `line 1: unregistered provider/action: provider "alerting" is not registered`) ||
		!strings.Contains(errs, `line 3: unregistered provider/action: provider "actions" is not registered`) {
		t.Fatalf("strict ingest: %d %q", code, errs)
	}
	if code, _, _ := runCLI(t, "", "register", "--data", data, "alerting", "execute"); code != 0 {
		t.Fatal("register failed")
	}
	if code, _, _ := runCLI(t, "", "register", "--data", data, "actions", "execute"); code != 0 {
		t.Fatal("register failed")
	}
	if code, out, errs := runCLI(t, twoEvents, "ingest", "--data", data); code != 0 || out != "ingested 2 events into "+data+"\n" || errs != "" {
		t.Fatalf("ingest after register: %d %q %q", code, out, errs)
	}
}

func TestUsageErrors(t *testing.T) {
	if code, _, errs := runCLI(t, ""); code != 2 || !strings.Contains(errs, "Usage:") || !strings.Contains(errs, "Available Commands:") {
		t.Fatalf("no args: %d %q", code, errs)
	}
	if code, _, errs := runCLI(t, "", "frobnicate"); code != 2 || !strings.Contains(errs, "unknown command") {
		t.Fatalf("unknown command: %d %q", code, errs)
	}
	for _, args := range [][]string{
		{"find", "--start", "yesterday"},
		{"query", "--start", "yesterday"},
		{"export", "--start", "yesterday"},
	} {
		if code, _, errs := runCLI(t, "", append(args, "--data", t.TempDir())...); code != 1 || !strings.Contains(errs, "start: ") {
			t.Fatalf("%v: %d %q", args, code, errs)
		}
	}
	// A bad flag: a short error naming it, not the whole usage, and exit 2.
	if code, _, errs := runCLI(t, "", "query", "--nope"); code != 2 || errs != "eventlog query: unknown flag: --nope (see 'eventlog query --help')\n" {
		t.Fatalf("bad flag: %d %q", code, errs)
	}
	// Misuse exits 2 and says what was wrong.
	for args, want := range map[string]string{
		"ingest a b":                  "eventlog ingest: at most one FILE\n",
		"query event.outcome:failure": `eventlog query: unexpected argument "event.outcome:failure" (quote a filter with spaces: --filter '...')` + "\n",
	} {
		if code, _, errs := runCLI(t, "", strings.Fields(args)...); code != 2 || errs != want {
			t.Fatalf("%s: %d %q, want %q", args, code, errs, want)
		}
	}
}
