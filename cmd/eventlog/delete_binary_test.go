//go:build unix

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// pendingDeletes reads maintenance.pending_deletes from a server's
// /api/_stats.
func pendingDeletes(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url + "/api/_stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Maintenance struct {
			PendingDeletes *int `json:"pending_deletes"`
		} `json:"maintenance"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || st.Maintenance.PendingDeletes == nil {
		t.Fatalf("_stats: %v, %+v", err, st)
	}
	return *st.Maintenance.PendingDeletes
}

// TestServeBinaryDelete runs the real binary: without --enable-delete,
// eventlog delete --url is refused and says how to turn it on; with it
// (here from the config file), the delete goes through,
// is pending in /api/_stats until compact --url purges it, and the events
// are gone from query --url.
func TestServeBinaryDelete(t *testing.T) {
	bin := buildBinary(t)
	data := filepath.Join(t.TempDir(), "data")
	var lines []string
	for i := range 6 {
		who := []string{"alice", "bob"}[i%2]
		lines = append(lines, fmt.Sprintf(`{"@timestamp":"2024-05-01T14:0%d:00Z","event":{"provider":"app","action":"login"},"user":{"name":%q}}`, i, who))
	}
	args := []string{"--data", data, "--addr", "127.0.0.1:0", "--allow-unregistered", "--maintenance-interval", "off", "--log-level", "warn"}

	srv := startServe(t, bin, args...)
	if code, _, errs := runCLI(t, strings.Join(lines, "\n")+"\n", "ingest", "--url", srv.url); code != 0 {
		t.Fatalf("ingest: %s", errs)
	}
	code, out, errs := runCLI(t, "", "delete", "--url", srv.url, "--filter", "user.name:alice")
	if code != 1 || out != "" || errs != "eventlog delete: delete by query is off on this server: start it with --enable-delete "+
		"(or EVENTLOG_ENABLE_DELETE=true, or enable-delete: true in its config file)\n" {
		t.Fatalf("delete on a server without --enable-delete: exit %d, %q, stderr %q", code, out, errs)
	}
	srv.stop(t)

	// Event 7 is the audit event of the refused delete above; 8 records
	// the delete.
	config := writeConfig(t, "enable-delete: true\n")
	srv = startServe(t, bin, append(args, "--config", config)...)
	code, out, errs = runCLI(t, "", "delete", "--url", srv.url, "--filter", "user.name:alice")
	if code != 0 || errs != "" || !strings.HasPrefix(out, "deleted 3 events (recorded as event 8, filter sha256 "+filterHash("user.name:alice")+")\n") {
		t.Fatalf("delete --url: exit %d, %q, stderr %q", code, out, errs)
	}
	if n := pendingDeletes(t, srv.url); n != 1 {
		t.Fatalf("%d deletes pending, want 1 (maintenance is off)", n)
	}
	if code, _, errs := runCLI(t, "", "compact", "--url", srv.url); code != 0 || pendingDeletes(t, srv.url) != 0 {
		t.Fatalf("compact --url: exit %d, %q; %d deletes pending", code, errs, pendingDeletes(t, srv.url))
	}
	for filter, want := range map[string]string{"user.name:alice": "0 of 0\n", "user.name:bob": "3 of 3\n"} {
		code, out, _ := runCLI(t, "", "query", "--url", srv.url, "--filter", filter, "--format", "table")
		if code != 0 || !strings.HasSuffix(out, want) {
			t.Errorf("query %s: exit %d, %q, want %q at the end", filter, code, out, want)
		}
	}
	srv.stop(t)
	if logs := srv.stderr.String(); logs != "" {
		t.Errorf("warnings or errors logged: %s", logs)
	}
}
