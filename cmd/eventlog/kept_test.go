package main

import (
	"strings"
	"testing"
)

// keptLines are documents with fields outside the schema: top-level
// objects of their own, keys inside known objects, arrays, every number
// form, booleans and nulls.
var keptLines = []string{
	`{"@timestamp":"2024-05-01T14:02:11.125Z","process":{"pid":4242,"args":["-v",1.50,1e3,-0,123456789012345678901]},"event":{"provider":"p","action":"a","module_v":{"x":[true,false,null,{}]}},"host":{"architecture":"x86_64","name":"h1"},"syslog":{"facility":"local0","severity":3}}`,
	`{"@timestamp":"2024-05-01T14:02:12Z","event":{"provider":"p","action":"a"},"agent":{"name":"vector","id":"\u003cé😀\u2028"},"log.file":{"path":"/var/log/x"}}`,
}

// keptFirstBack is how keptLines[0] is printed: known fields in schema
// order, then each object's kept keys in the order sent.
const keptFirstBack = `{"@timestamp":"2024-05-01T14:02:11.125Z","event":{"action":"a","provider":"p","module_v":{"x":[true,false,null,{}]}},"host":{"name":"h1","architecture":"x86_64"},"process":{"pid":4242,"args":["-v",1.50,1e3,-0,123456789012345678901]},"syslog":{"facility":"local0","severity":3}}`

// TestExportRoundTripKept: events with kept unknown fields go through
// export and ingest --unknown-fields=keep into a new store unchanged: the
// second export is byte for byte the first. Without the flag ingest
// refuses them, naming the field.
func TestExportRoundTripKept(t *testing.T) {
	data := registeredDir(t)
	input := strings.Join(keptLines, "\n")
	if code, _, errs := runCLI(t, input, "ingest", "--data", data); code == 0 || !strings.Contains(errs, "line 1: process: unknown field") {
		t.Fatalf("strict ingest: %d %q", code, errs)
	}
	if code, _, errs := runCLI(t, input, "ingest", "--data", data, "--unknown-fields", "keep"); code != 0 {
		t.Fatalf("ingest keep: %q", errs)
	}
	code, out, errs := runCLI(t, "", "export", "--data", data)
	if code != 0 {
		t.Fatalf("export: %q", errs)
	}
	_, events := exportedEvents(t, out)
	if len(events) != 2 || events[0] != keptFirstBack {
		t.Fatalf("exported %q,\nwant first %s", events, keptFirstBack)
	}
	data2 := registeredDir(t)
	if code, _, errs := runCLI(t, strings.Join(events, "\n"), "ingest", "--data", data2, "--unknown-fields", "keep"); code != 0 {
		t.Fatalf("re-ingest: %q", errs)
	}
	if code, out2, _ := runCLI(t, "", "export", "--data", data2); code != 0 || out2 != out {
		t.Fatalf("second export differs:\n%s\nfirst:\n%s", out2, out)
	}
	if code, out, _ := runCLI(t, "", "query", "--data", data2, "--filter", "syslog.facility:local0 and process.pid > 100"); code != 0 || !strings.Contains(out, `"pid":4242`) {
		t.Fatalf("query on kept fields: %d %s", code, out)
	}
	if code, _, errs := runCLI(t, input, "ingest", "--data", data2, "--unknown-fields", "maybe"); code == 0 || !strings.Contains(errs, "--unknown-fields: want reject or keep") {
		t.Fatalf("bad --unknown-fields: %d %q", code, errs)
	}
}
