package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/server"
)

func TestEnableDeleteSetting(t *testing.T) {
	for name, c := range map[string]struct {
		args []string
		env  map[string]string
		file string
		want bool
	}{
		"default":          {want: false},
		"flag alone":       {args: []string{"--enable-delete"}, want: true},
		"flag false":       {args: []string{"--enable-delete=false"}, env: map[string]string{"EVENTLOG_ENABLE_DELETE": "true"}, want: false},
		"environment":      {env: map[string]string{"EVENTLOG_ENABLE_DELETE": "true"}, want: true},
		"file":             {file: "enable-delete: true\n", want: true},
		"file < env":       {file: "enable-delete: true\n", env: map[string]string{"EVENTLOG_ENABLE_DELETE": "false"}, want: false},
		"empty env: unset": {file: "enable-delete: true\n", env: map[string]string{"EVENTLOG_ENABLE_DELETE": ""}, want: true},
	} {
		t.Run(name, func(t *testing.T) {
			args := c.args
			if c.file != "" {
				args = append([]string{"--config", writeConfig(t, c.file)}, args...)
			}
			cfg, err := loadServeConfig(args, envMap(c.env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.server.EnableDelete != c.want {
				t.Fatalf("EnableDelete %v, want %v", cfg.server.EnableDelete, c.want)
			}
		})
	}
	_, err := loadServeConfig(nil, envMap(map[string]string{"EVENTLOG_ENABLE_DELETE": "yes"}), io.Discard)
	if want := `enable-delete "yes" from EVENTLOG_ENABLE_DELETE: want true or false`; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	_, err = loadServeConfig([]string{"--config", writeConfig(t, "enable-delete: [true]\n")}, envMap(nil), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "enable-delete: want one value, such as enable-delete: false") {
		t.Fatalf("a list in the file: %v", err)
	}
	_, errs, _ := runCLI(t, "", "serve", "--help")
	if !strings.Contains(errs, "  --enable-delete\n") || !strings.Contains(errs, "(default false, env EVENTLOG_ENABLE_DELETE)\n") {
		t.Errorf("serve --help does not list --enable-delete:\n%s", errs)
	}
}

// filterHash is the hex SHA-256 a delete records for its filter.
func filterHash(f string) string {
	sum := sha256.Sum256([]byte(f))
	return hex.EncodeToString(sum[:])
}

// filesHolding lists the files under dir that hold s.
func filesHolding(t *testing.T, dir, s string) []string {
	t.Helper()
	var in []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err == nil && bytes.Contains(b, []byte(s)) {
			in = append(in, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// TestDeleteCommand deletes a day's events from a data directory, then
// the rest by a filter alone (--json), and checks that the store keeps
// what it should, records each delete, and has nothing left to purge.
func TestDeleteCommand(t *testing.T) {
	dir, _ := buildStore(t, time.Now(), 3, 40) // days -2, -1, 0 at now - d*24h - 1h
	const dayFilter = "event.provider:app and message:*"
	code, out, errs := runCLI(t, "", "delete", "--data", dir, "--filter", dayFilter, "--start", "now-26h", "--end", "now-24h")
	want := regexp.MustCompile(`^deleted 40 events \(recorded as event 121, filter sha256 ` + filterHash(dayFilter) + `\)\n` +
		`purged from disk: [1-9]\d* segments? rewritten or found clean, the WAL sealed; no delete is pending\n` +
		`rewrote [1-9]\d* segments? into \d+ \(\d+ merges?, the purge's included\): \d+ events? kept, [0-9.]+ (B|KiB) → [0-9.]+ (B|KiB)\n$`)
	if code != 0 || errs != "" || !want.MatchString(out) {
		t.Fatalf("delete: exit %d, %q, stderr %q", code, out, errs)
	}
	st, n := storeStats(t, dir, "app")
	if _, records := storeStats(t, dir, eventlog.InternalProvider); n != 80 || records != 1 {
		t.Fatalf("after the delete: %d events of app, want 80; %d records, want 1", n, records)
	}
	if st.Maintenance.PendingDeletes != 0 || st.Maintenance.PendingPurgeSegments != 0 {
		t.Fatalf("the purge is pending after the command: %+v", st.Maintenance)
	}
	if files := filesHolding(t, dir, dayFilter); len(files) > 0 {
		t.Fatalf("the filter is still on disk, in %v", files)
	}

	code, out, _ = runCLI(t, "", "delete", "--data", dir, "--filter", "event.provider:app", "--json")
	var rep struct {
		Deleted        int                     `json:"deleted"`
		Seq            uint64                  `json:"seq"`
		FilterSHA256   string                  `json:"filter_sha256"`
		Compact        *eventlog.CompactResult `json:"compact"`
		PendingDeletes *int                    `json:"pending_deletes"`
	}
	if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil || rep.Deleted != 80 || rep.Seq != 122 ||
		rep.FilterSHA256 != filterHash("event.provider:app") || rep.Compact == nil || rep.PendingDeletes == nil || *rep.PendingDeletes != 0 {
		t.Fatalf("delete --json: exit %d, %q", code, out)
	}
	if _, n := storeStats(t, dir, "app"); n != 0 {
		t.Fatalf("%d events of app left", n)
	}
}

func TestDeleteCommandErrors(t *testing.T) {
	dir, _ := buildStore(t, time.Now(), 1, 5)
	before, _ := storeStats(t, dir, "app")
	for args, want := range map[string]string{
		"delete --data " + dir:                                          "--filter is required (to delete every event in a time range: --filter '@timestamp:*' --start T --end T)",
		"delete --data " + dir + " --filter user.name:a extra":          `unexpected argument "extra"`,
		"delete --url http://127.0.0.1:1 --data " + dir + " --filter x": "--url and --data: give the server or the data directory, not both",
		"delete --url ftp://host --filter x":                            `--url "ftp://host": want http://HOST:PORT`,
		"delete --data " + dir + " --filter x --nope":                   "unknown flag: --nope (see 'eventlog delete --help')",
	} {
		if code, _, errs := runCLI(t, "", strings.Fields(args)...); code != 2 || !strings.Contains(errs, want) {
			t.Errorf("%s: exit %d, %q, want %q", args, code, errs, want)
		}
	}
	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"bad KQL":     {[]string{"--filter", "user.name:(a"}, "filter: at 11: '(' is never closed\n  user.name:(a\n            ^"},
		"bad start":   {[]string{"--filter", "user.name:a", "--start", "last tuesday"}, `start: timespan: time "last tuesday"`},
		"start > end": {[]string{"--filter", "user.name:a", "--start", "2024-05-02T00:00:00Z", "--end", "2024-05-01T00:00:00Z"}, "start 2024-05-02T00:00:00Z is after end 2024-05-01T00:00:00Z"},
	} {
		code, out, errs := runCLI(t, "", append([]string{"delete", "--data", dir}, c.args...)...)
		if code != 1 || out != "" || !strings.HasPrefix(errs, "eventlog delete: ") || !strings.Contains(errs, c.want) {
			t.Errorf("%s: exit %d, %q, stderr %q, want %q", name, code, out, errs, c.want)
		}
	}
	if code, _, errs := runCLI(t, "", "delete", "--data", filepath.Join(dir, "none"), "--filter", "x:y"); code != 1 || !strings.Contains(errs, "none does not exist") {
		t.Errorf("a missing directory: exit %d, %q", code, errs)
	}
	if after, n := storeStats(t, dir, "app"); after.LastSeq != before.LastSeq || n != 5 || after.Maintenance.Deletes != 0 {
		t.Fatalf("a refused delete changed the store: last seq %d → %d, %d events", before.LastSeq, after.LastSeq, n)
	}
	db, err := eventlog.Open(dir, eventlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	code, _, errs := runCLI(t, "", "delete", "--data", dir, "--filter", "x:y")
	if code != 1 || !strings.Contains(errs, "is open in another process, probably a running server") || !strings.Contains(errs, "(POST /api/events/_delete_by_query)") {
		t.Errorf("a directory in use: exit %d, %q", code, errs)
	}
}

// deleteServer serves a store of buildStore (maintenance off) with delete
// enabled or not.
func deleteServer(t *testing.T, enable bool) (*eventlog.DB, *httptest.Server) {
	t.Helper()
	dir, _ := buildStore(t, time.Now(), 2, 30)
	db, err := eventlog.Open(dir, eventlog.Options{MaintenanceInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(server.New(db, server.Config{EnableDelete: enable}, nil, nil).Handler())
	t.Cleanup(func() {
		ts.Close()
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db, ts
}

// TestDeleteThroughServer: with --url the server deletes, and purges at
// its next maintenance run (here eventlog compact --url).
func TestDeleteThroughServer(t *testing.T) {
	db, ts := deleteServer(t, true)
	last := db.Stats().LastSeq
	code, out, errs := runCLI(t, "", "delete", "--url", ts.URL, "--filter", "event.provider:app", "--start", "now-2h", "--timeout", "30s")
	want := fmt.Sprintf("deleted 30 events (recorded as event %d, filter sha256 %s)\n"+
		"the server purges them from disk at its next maintenance run; to purge now: eventlog compact --url %s\n",
		last+1, filterHash("event.provider:app"), ts.URL)
	if code != 0 || errs != "" || out != want {
		t.Fatalf("delete --url: exit %d, %q, stderr %q\nwant %q", code, out, errs, want)
	}
	if m := db.Stats().Maintenance; m.Deletes != 1 || m.DeletedEvents != 30 || m.PendingDeletes != 1 {
		t.Fatalf("after delete --url: %+v", m)
	}
	if code, out, _ := runCLI(t, "", "compact", "--url", ts.URL); code != 0 || db.Stats().Maintenance.PendingDeletes != 0 {
		t.Fatalf("compact --url: exit %d, %q; %+v", code, out, db.Stats().Maintenance)
	}
	code, out, errs = runCLI(t, "", "delete", "--url", ts.URL, "--filter", "user.name:(a")
	if code != 1 || out != "" || !strings.Contains(errs, "'(' is never closed\n  user.name:(a\n            ^\n") {
		t.Fatalf("a bad filter through the server: exit %d, %q, stderr %q", code, out, errs)
	}
	code, out, _ = runCLI(t, "", "delete", "--url", ts.URL, "--filter", "event.provider:app", "--json")
	var res eventlog.DeleteResult
	if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil || res.Deleted != 30 || res.Seq != last+2 {
		t.Fatalf("delete --url --json: exit %d, %q", code, out)
	}
}

// TestDeleteThroughServerDisabled: a server without --enable-delete
// refuses, saying how to turn it on, and stores nothing.
func TestDeleteThroughServerDisabled(t *testing.T) {
	db, ts := deleteServer(t, false)
	last := db.Stats().LastSeq
	code, out, errs := runCLI(t, "", "delete", "--url", ts.URL, "--filter", "event.provider:app")
	if code != 1 || out != "" || !strings.Contains(errs, "delete by query is off on this server: start it with --enable-delete") {
		t.Fatalf("exit %d, %q, stderr %q", code, out, errs)
	}
	if st := db.Stats(); st.LastSeq != last || st.Maintenance.Deletes != 0 {
		t.Fatalf("refused, yet last seq %d → %d, %d deletes", last, st.LastSeq, st.Maintenance.Deletes)
	}
}

// TestDeleteThroughServerTimeout: when --timeout ends the wait for the
// answer, the error says the server may have made the delete anyway.
func TestDeleteThroughServerTimeout(t *testing.T) {
	release := make(chan struct{})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release // answers only once the test is over
	}))
	defer ts.Close()
	defer close(release)
	code, out, errs := runCLI(t, "", "delete", "--url", ts.URL, "--filter", "user.name:alice", "--timeout", "100ms")
	if code != 1 || out != "" || !strings.Contains(errs, "context deadline exceeded (the server may have made the delete all the same: "+
		"query --filter 'event.action:delete-by-query' shows the deletes made)") {
		t.Fatalf("exit %d, %q, stderr %q", code, out, errs)
	}
}
