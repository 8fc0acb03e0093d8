package main

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/server"
)

// TestBackupRestoreRoundTrip: backup of a data directory, a second
// (incremental) one, restore into a new directory holding the same
// events; restore refuses a non-empty target and a directory that is not
// a complete backup.
func TestBackupRestoreRoundTrip(t *testing.T) {
	root := t.TempDir()
	data, backup, restored := filepath.Join(root, "data"), filepath.Join(root, "backup"), filepath.Join(root, "restored")
	if code, _, errs := runCLI(t, twoEvents, "ingest", "--data", data, "--allow-unregistered"); code != 0 {
		t.Fatalf("ingest: %d %s", code, errs)
	}
	code, out, errs := runCLI(t, "", "backup", "--data", data, "--to", backup)
	if code != 0 || !strings.HasPrefix(out, "backup at seq 2 written to "+backup+"\n  1 segment (1 copied, 0 already there and verified), 0 WAL files\n") {
		t.Fatalf("backup: %d %q %q", code, out, errs)
	}
	if code, out, _ = runCLI(t, twoEvents, "ingest", "--data", data, "--allow-unregistered"); code != 0 {
		t.Fatalf("second ingest: %d %q", code, out)
	}
	code, out, _ = runCLI(t, "", "backup", "--data", data, "--to", backup)
	if code != 0 || !strings.HasPrefix(out, "backup at seq 4 written to "+backup+"\n  2 segments (1 copied, 1 already there and verified)") {
		t.Fatalf("second backup: %d %q", code, out)
	}
	code, out, errs = runCLI(t, "", "restore", "--from", backup, "--data", restored)
	if code != 0 || !strings.HasPrefix(out, "restored "+backup+" to "+restored+": every event up to seq 4 (2 segments;") {
		t.Fatalf("restore: %d %q %q", code, out, errs)
	}
	if code, out, _ := runCLI(t, "", "find", "--data", restored, "--count"); code != 0 || out != "4\n" {
		t.Fatalf("find in the restored store: %d %q", code, out)
	}
	if code, out, _ := runCLI(t, "", "verify", "--data", restored); code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("verify of the restored store: %d %q", code, out)
	}
	if code, _, errs := runCLI(t, "", "restore", "--from", backup, "--data", restored); code != 1 || !strings.Contains(errs, "is not empty") {
		t.Fatalf("restore over a store: %d %q", code, errs)
	}
	if code, _, errs := runCLI(t, "", "restore", "--from", data, "--data", filepath.Join(root, "r2")); code != 1 || !strings.Contains(errs, "not a complete backup") {
		t.Fatalf("restore of a data directory that is no backup: %d %q", code, errs)
	}
	for args, want := range map[string]string{
		"backup --data " + data:                       "--to is required",
		"restore --data " + restored:                  "--from is required",
		"backup --to x --url http://h --data " + data: "not both",
	} {
		if code, _, errs := runCLI(t, "", strings.Fields(args)...); code != 2 || !strings.Contains(errs, want) {
			t.Errorf("%s: %d %q, want usage error %q", args, code, errs, want)
		}
	}
}

// TestBackupThroughServer: backup --url has the server write the backup
// under its --backup-dir; a bad name comes back as the server's 400.
func TestBackupThroughServer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if code, _, errs := runCLI(t, twoEvents, "ingest", "--data", dir, "--allow-unregistered"); code != 0 {
		t.Fatalf("ingest: %d %s", code, errs)
	}
	db, err := eventlog.Open(dir, eventlog.Options{MaintenanceInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	backups := t.TempDir()
	ts := httptest.NewServer(server.New(db, server.Config{BackupDir: backups}, nil, nil).Handler())
	t.Cleanup(func() {
		ts.Close()
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	code, out, errs := runCLI(t, "", "backup", "--url", ts.URL, "--to", "nightly")
	if code != 0 || !strings.HasPrefix(out, "backup at seq 2 written to "+filepath.Join(backups, "nightly")+"\n") {
		t.Fatalf("backup --url: %d %q %q", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(backups, "nightly", "BACKUP")); err != nil {
		t.Fatal(err)
	}
	code, _, errs = runCLI(t, "", "backup", "--url", ts.URL, "--to", "../escape")
	if code != 1 || !strings.Contains(errs, `name "../escape" holds a path separator`) {
		t.Fatalf("backup --url with a bad name: %d %q", code, errs)
	}
}
