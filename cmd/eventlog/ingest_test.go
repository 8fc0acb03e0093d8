package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// goodLine is a valid event whose message names i.
func goodLine(i int) string {
	return fmt.Sprintf(`{"@timestamp":"2024-05-01T00:00:00Z","event":{"provider":"p","action":"a"},"message":"event %d"}`, i)
}

// badLine is line i rejected for one of three reasons, by i: malformed
// JSON, an unknown field (both found while decoding), or an unregistered
// provider (found by Append).
func badLine(i int) (line, why string) {
	switch i % 3 {
	case 0:
		return `{"message": "cut`, "to end string"
	case 1:
		return `{"event":{"provider":"p","action":"a","nope":1}}`, "event.nope: unknown field"
	}
	return `{"event":{"provider":"q","action":"a"}}`, `provider "q" is not registered`
}

// registeredDir returns a data directory where provider p, action a is
// registered.
func registeredDir(t *testing.T) string {
	t.Helper()
	data := filepath.Join(t.TempDir(), "data")
	if code, _, errs := runCLI(t, "", "register", "--data", data, "p", "a"); code != 0 {
		t.Fatalf("register: %s", errs)
	}
	return data
}

// exportedMessages exports data and returns the messages in order,
// checking that the seqs run from 1 without gaps.
func exportedMessages(t *testing.T, data string) []string {
	t.Helper()
	code, out, errs := runCLI(t, "", "export", "--data", data)
	if code != 0 {
		t.Fatalf("export: %s", errs)
	}
	seqs, events := exportedEvents(t, out)
	msgs := make([]string, len(events))
	for i, ev := range events {
		if seqs[i] != uint64(i+1) {
			t.Fatalf("event %d has seq %d", i, seqs[i])
		}
		_, m, _ := strings.Cut(ev, `"message":"`)
		msgs[i], _, _ = strings.Cut(m, `"`)
	}
	return msgs
}

// TestIngestLargeFileInBatches ingests a file many batches long with a bad
// line of each kind here and there, some in the middle of a batch: every
// good line is stored, in order, and every bad one named.
func TestIngestLargeFileInBatches(t *testing.T) {
	const lines = 25_000
	var in strings.Builder
	var want, wantErrs []string
	for i := 1; i <= lines; i++ {
		if i%997 == 0 {
			line, why := badLine(i / 997)
			in.WriteString(line + "\n")
			wantErrs = append(wantErrs, fmt.Sprintf("line %d: ", i)+why)
			continue
		}
		in.WriteString(goodLine(i) + "\n")
		want = append(want, fmt.Sprintf("event %d", i))
	}
	file := filepath.Join(t.TempDir(), "big.ndjson")
	if err := os.WriteFile(file, []byte(in.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, batch := range []string{"1000", "7"} {
		t.Run("batch="+batch, func(t *testing.T) {
			data := registeredDir(t)
			code, out, errs := runCLI(t, "", "ingest", "--data", data, "--sync", "none", "--batch", batch, file)
			summary := fmt.Sprintf("ingested %d events into %s (%d lines rejected)\n", len(want), data, len(wantErrs))
			if code != 1 || out != summary {
				t.Fatalf("exit %d, stdout %q, want %q", code, out, summary)
			}
			gotErrs := strings.Split(strings.TrimSuffix(errs, "\n"), "\n")
			if len(gotErrs) != len(wantErrs) {
				t.Fatalf("%d errors, want %d:\n%s", len(gotErrs), len(wantErrs), errs)
			}
			for i, e := range gotErrs {
				prefix := wantErrs[i][:strings.Index(wantErrs[i], ": ")+2]
				if !strings.HasPrefix(e, prefix) || !strings.Contains(e, wantErrs[i][len(prefix):]) {
					t.Fatalf("error %d: %q, want %q", i, e, wantErrs[i])
				}
			}
			if got := exportedMessages(t, data); !reflect.DeepEqual(got, want) {
				t.Fatalf("stored %d events, want %d (first: %v)", len(got), len(want), got[:min(3, len(got))])
			}
		})
	}
}

// TestIngestCapsPrintedErrors prints the first maxLineErrors bad lines in
// line order, whichever step found them, then how many more there were.
func TestIngestCapsPrintedErrors(t *testing.T) {
	var in strings.Builder
	var want []string
	for i := 1; i <= 300; i++ {
		if i%2 == 0 {
			in.WriteString(goodLine(i) + "\n")
			want = append(want, fmt.Sprintf("event %d", i))
			continue
		}
		line, _ := badLine(i)
		in.WriteString(line + "\n")
	}
	data := registeredDir(t)
	code, out, errs := runCLI(t, in.String(), "ingest", "--data", data)
	if code != 1 || out != "ingested 150 events into "+data+" (150 lines rejected)\n" {
		t.Fatalf("exit %d: %q", code, out)
	}
	got := strings.Split(strings.TrimSuffix(errs, "\n"), "\n")
	if len(got) != maxLineErrors+1 || got[maxLineErrors] != "... and 50 more" {
		t.Fatalf("%d lines, last %q", len(got), got[len(got)-1])
	}
	for i, e := range got[:maxLineErrors] {
		if prefix := fmt.Sprintf("line %d: ", 2*i+1); !strings.HasPrefix(e, prefix) {
			t.Fatalf("error %d is %q, want it to start %q", i, e, prefix)
		}
	}
	if msgs := exportedMessages(t, data); !reflect.DeepEqual(msgs, want) {
		t.Fatalf("stored %v", msgs)
	}
}

// TestIngestLineShapes covers blank lines, CRLF endings, a last line
// without a newline and a line over the document limit, which is skipped
// without stopping the ingest.
func TestIngestLineShapes(t *testing.T) {
	huge := `{"message":"` + strings.Repeat("x", 1<<20) + `"}`
	in := goodLine(1) + "\r\n\n   \n" + huge + "\n" + goodLine(5) + "\n" + goodLine(6)
	data := registeredDir(t)
	code, out, errs := runCLI(t, in, "ingest", "--data", data)
	if code != 1 || out != "ingested 3 events into "+data+" (1 line rejected)\n" ||
		errs != "line 4: line over the document size limit of 1048576 bytes\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if msgs := exportedMessages(t, data); !reflect.DeepEqual(msgs, []string{"event 1", "event 5", "event 6"}) {
		t.Fatalf("stored %v", msgs)
	}
	if code, _, errs := runCLI(t, "", "ingest", "--data", data, filepath.Join(t.TempDir(), "missing.ndjson")); code != 1 || !strings.Contains(errs, "missing.ndjson: no such file") {
		t.Fatalf("missing file: %d %q", code, errs)
	}
}
