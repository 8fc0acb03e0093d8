package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/eventlogdb/eventlog/event"
)

// exportedEvents splits export output into each line's seq and event JSON.
func exportedEvents(t *testing.T, out string) (seqs []uint64, events []string) {
	t.Helper()
	for line := range strings.Lines(out) {
		seq, doc := splitDocument(t, line)
		seqs, events = append(seqs, seq), append(events, doc)
	}
	return seqs, events
}

// printedDocument is a printed event, as the HTTP API answers it: the
// event's own members after "_id" and "_seq".
var printedDocument = regexp.MustCompile(`^\{"_id":"([0-9a-f]{16})","_seq":([0-9]+),?(.*)\n?$`)

// splitDocument returns the sequence number and the event JSON of a
// printed event, checking that its _id is the sequence number's.
func splitDocument(t *testing.T, line string) (uint64, string) {
	t.Helper()
	m := printedDocument.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("not an event with _id and _seq first: %q", line)
	}
	seq, err := strconv.ParseUint(m[2], 10, 64)
	if err != nil || fmt.Sprintf("%016x", seq) != m[1] {
		t.Fatalf("_id %s for _seq %s", m[1], m[2])
	}
	return seq, "{" + m[3]
}

func TestExportRoundTrip(t *testing.T) {
	data := ingestExamples(t)
	code, out, errs := runCLI(t, "", "export", "--data", data)
	if code != 0 || errs != "exported 4 events\n" {
		t.Fatalf("export: %d %q", code, errs)
	}
	seqs, events := exportedEvents(t, out)
	if want := []uint64{1, 2, 3, 4}; !reflect.DeepEqual(seqs, want) {
		t.Fatalf("seqs %v, want %v", seqs, want)
	}
	// Each event comes back as the canonical form of its input line.
	f, err := os.Open(examples)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for i := 0; sc.Scan(); i++ {
		ev, err := event.Decode(sc.Bytes(), event.DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		if want := string(event.AppendJSON(nil, &ev)); events[i] != want {
			t.Fatalf("event %d:\n got %s\nwant %s", i+1, events[i], want)
		}
	}
	// Ingesting the export into another store and exporting that gives
	// the same bytes: same events, same order, same ids.
	data2 := filepath.Join(t.TempDir(), "data")
	if code, _, errs := runCLI(t, strings.Join(events, "\n"), "ingest", "--data", data2, "--allow-unregistered"); code != 0 {
		t.Fatalf("re-ingest: %q", errs)
	}
	if code, out2, _ := runCLI(t, "", "export", "--data", data2); code != 0 || out2 != out {
		t.Fatalf("second export differs:\n%s\nfirst:\n%s", out2, out)
	}
	// The selection flags work as in query.
	code, out, errs = runCLI(t, "", "export", "--data", data, "--filter", "event.provider:alerting", "--sort", "@timestamp:desc")
	if seqs, _ := exportedEvents(t, out); code != 0 || !reflect.DeepEqual(seqs, []uint64{2, 1}) || errs != "exported 2 events\n" {
		t.Fatalf("filtered export: %d %v %q", code, seqs, errs)
	}
}

func TestExportBadFilter(t *testing.T) {
	data := ingestExamples(t)
	const filter = "event.action:(execute or" // ends too early: the error is one past its end
	code, out, errs := runCLI(t, "", "export", "--data", data, "--filter", filter)
	if code != 1 || out != "" || !strings.Contains(errs, fmt.Sprintf("filter: at %d: ", len(filter)+1)) ||
		!strings.Contains(errs, "\n  "+filter+"\n  "+strings.Repeat(" ", len(filter))+"^\n") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	if code, _, errs := runCLI(t, "", "export", "--data", data, "--limit", "3"); code != 2 || errs != "eventlog export: unknown flag: --limit (see 'eventlog export --help')\n" {
		t.Fatalf("export has no paging flags: %d %q", code, errs)
	}
}
