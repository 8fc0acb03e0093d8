package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/eventlogdb/eventlog/event"
)

// fullExample is the full-schema example event, as one NDJSON line.
func fullExample(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../event/testdata/full-example.json")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, data); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// seqMember matches the "_seq" member of a printed document.
var seqMember = regexp.MustCompile(`,"_seq":[0-9]+`)

// TestExportIngestRoundTrip: the full-schema example and events with client
// ids and an _index survive export | ingest into a new store byte for byte
// apart from _seq, and importing the same export again stores nothing new.
func TestExportIngestRoundTrip(t *testing.T) {
	full := fullExample(t)
	lines := []string{
		full,
		`{"_id":"ship-1","_index":"logs-app","@timestamp":"2024-05-01T00:00:00.5+02:00","event":{"provider":"p","action":"a"},"message":"with id"}`,
		`{"@timestamp":"2024-05-01T00:00:01Z","event":{"provider":"p","action":"a"},"message":"engine id only"}`,
	}
	src := filepath.Join(t.TempDir(), "src")
	if code, _, errs := runCLI(t, strings.Join(lines, "\n"), "ingest", "--data", src, "--allow-unregistered"); code != 0 {
		t.Fatalf("ingest: %s", errs)
	}
	code, exported, errs := runCLI(t, "", "export", "--data", src)
	if code != 0 || strings.Count(exported, "\n") != 3 {
		t.Fatalf("export: %d %q %q", code, exported, errs)
	}
	// The printed shape: _id (client id, else engine id), _seq, _index,
	// then the event's own fields.
	if !strings.Contains(exported, `{"_id":"ship-1","_seq":2,"_index":"logs-app","@timestamp":"2024-05-01T00:00:00.5+02:00",`) ||
		!strings.Contains(exported, `{"_id":"0000000000000003","_seq":3,"@timestamp":`) {
		t.Fatalf("export shape:\n%s", exported)
	}
	dst := filepath.Join(t.TempDir(), "dst")
	for i, want := range []string{"ingested 3 events", "ingested 0 events into " + dst + " (3 already stored)"} {
		code, out, errs := runCLI(t, exported, "ingest", "--data", dst, "--allow-unregistered")
		if code != 0 || !strings.HasPrefix(out, want) {
			t.Fatalf("import %d: %d %q %q, want %q", i+1, code, out, errs, want)
		}
	}
	_, again, _ := runCLI(t, "", "export", "--data", dst)
	if a, b := seqMember.ReplaceAllString(exported, ""), seqMember.ReplaceAllString(again, ""); a != b {
		t.Fatalf("export of the copy differs apart from _seq:\n%s\nfirst:\n%s", b, a)
	}
	// The full example (latest @timestamp: the last line) keeps its own
	// fields, in their canonical form, byte for byte.
	lastLine := strings.TrimSuffix(again[strings.LastIndex(strings.TrimSuffix(again, "\n"), "\n")+1:], "\n")
	if own := `{` + lastLine[strings.Index(lastLine, `"@timestamp"`):]; own != canonical(t, full) {
		t.Fatalf("full example came back as\n%s\nwant\n%s", own, canonical(t, full))
	}
}

// TestIngestConflictIsRejected: a line whose client id is stored with
// different content is a rejected line, named with its reason.
func TestIngestConflictIsRejected(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	line := `{"_id":"x","event":{"provider":"p","action":"a"},"message":"one"}`
	other := strings.Replace(line, "one", "two", 1)
	code, out, errs := runCLI(t, line+"\n"+line+"\n"+other, "ingest", "--data", data, "--allow-unregistered")
	if code != 1 || !strings.Contains(out, "ingested 1 events into "+data+" (1 already stored, 1 line rejected)") ||
		!strings.Contains(errs, `line 3: _id "x": an event with this client id and different content is already stored (_seq 1)`) {
		t.Fatalf("got %d %q %q", code, out, errs)
	}
}

// canonical is the canonical JSON of an event line (event.AppendJSON).
func canonical(t *testing.T, line string) string {
	t.Helper()
	ev, err := event.Decode([]byte(line), event.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	return string(event.AppendJSON(nil, &ev))
}
