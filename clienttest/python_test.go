package clienttest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"

	"github.com/eventlogdb/eventlog/server"
)

// python3WithElasticsearch returns a python3 that imports elasticsearch
// (Debian's python3-elasticsearch installs it for /usr/bin/python3, which
// another python3 first on PATH may not see).
func python3WithElasticsearch(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if path, err := exec.LookPath(p); err == nil && exec.Command(path, "-c", "import elasticsearch").Run() == nil {
			return path
		}
	}
	return needProgram(t, "python3 with the elasticsearch module", "python3-elasticsearch")
}

// pyResult is what helpers_bulk.py prints.
type pyResult struct {
	Version string
	OK      int
	Errors  []map[string]json.RawMessage
}

// TestPythonHelpersBulk runs python-elasticsearch's helpers.bulk against
// /es: the client's product check passes, every document is stored once,
// and sending them all again with the same _id (an index retry) is
// reported as success and stores nothing new.
func TestPythonHelpersBulk(t *testing.T) {
	python := python3WithElasticsearch(t)
	s := newStore(t, server.Config{})
	run := func(op string) pyResult {
		t.Helper()
		out, err := exec.Command(python, "testdata/helpers_bulk.py", s.esURL, "250", op).CombinedOutput()
		if err != nil {
			t.Fatalf("helpers_bulk.py %s: %v\n%s", op, err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		var res pyResult
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &res); err != nil {
			t.Fatalf("helpers_bulk.py printed %s: %v", out, err)
		}
		return res
	}
	want := docs("py", 250)
	first := run("create")
	if first.OK != 250 || len(first.Errors) != 0 || !strings.HasPrefix(first.Version, "8.") {
		t.Fatalf("first run: %+v", first)
	}
	s.wantEachOnce("_index:py-bulk", want)
	again := run("index")
	if again.OK != 250 || len(again.Errors) != 0 {
		t.Fatalf("retry with the same ids: %+v", again)
	}
	s.wantEachOnce("_index:py-bulk", want)
}
