package server

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventlogdb/eventlog"
)

const backupPath = "/api/_backup"

// TestBackupRoute: a backup named in the body is written under the
// configured directory, answered with its result, and restores to the
// events stored; a second one to the same name copies no segment again.
func TestBackupRoute(t *testing.T) {
	root := t.TempDir()
	e := newMaintEnvConfig(t, eventlog.Options{}, Config{BackupDir: root})
	e.people(0, 3, 2)
	if r := e.do("POST", "/api/_roll", "", ""); r.status != http.StatusOK {
		t.Fatalf("roll: %d %s", r.status, r.body)
	}
	e.people(5, 1, 0) // in the WAL
	var first, second eventlog.BackupResult
	r := e.do("POST", backupPath, ctJSON, `{"name":"nightly"}`)
	if r.status != http.StatusOK {
		t.Fatalf("backup: %d %s", r.status, r.body)
	}
	r.decode(t, &first)
	dir := filepath.Join(root, "nightly")
	if first.Dir != dir || first.Seq != e.stats().LastSeq || first.Segments == 0 || first.WALFiles != 1 {
		t.Fatalf("backup result %+v (store at seq %d)", first, e.stats().LastSeq)
	}
	e.do("POST", backupPath, ctJSON, `{"name":"nightly"}`).decode(t, &second)
	if second.SegmentsCopied != 0 || second.FilesSkipped != first.Segments {
		t.Fatalf("second backup %+v, want its %d segments skipped", second, first.Segments)
	}
	restored := filepath.Join(t.TempDir(), "restored")
	if _, err := eventlog.Restore(t.Context(), dir, restored); err != nil {
		t.Fatal(err)
	}
	db, err := eventlog.Open(restored, eventlog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if st := db.Stats(); st.SegmentEvents+st.HeadEvents != 6 {
		t.Fatalf("restored store holds %d+%d events, want the 6 stored", st.SegmentEvents, st.HeadEvents)
	}
}

// TestBackupRouteBadNames: a name that is not a plain directory name is
// 400 naming the problem, and nothing is written under the backup
// directory.
func TestBackupRouteBadNames(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "backups")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	e := newMaintEnvConfig(t, eventlog.Options{}, Config{BackupDir: root})
	e.people(0, 1, 1)
	for body, want := range map[string]string{
		`{"name":""}`:          `"name" is required`,
		`{}`:                   `"name" is required`,
		``:                     `"name" is required`,
		`{"name":".."}`:        "starts with '.'",
		`{"name":"."}`:         "starts with '.'",
		`{"name":".hidden"}`:   "starts with '.'",
		`{"name":"../escape"}`: "path separator",
		`{"name":"a/b"}`:       "path separator",
		`{"name":"/abs"}`:      "path separator",
		`{"name":"a\\b"}`:      "path separator",
		`{"name":"sp ace"}`:    `holds ' '`,
		`{"name":"nul\u0000"}`: `holds '\x00'`,
		`{"name":"` + strings.Repeat("x", 101) + `"}`: "over the limit of 100",
		`{"name":"ok","extra":1}`:                     "unknown field",
		`{"name":7}`:                                  "body",
	} {
		er := e.do("POST", backupPath, ctJSON, body).wantError(t, http.StatusBadRequest, typeInvalidRequest)
		if !strings.Contains(er.Error.Reason, want) {
			t.Errorf("body %s: reason %q, want it to say %q", body, er.Error.Reason, want)
		}
	}
	if entries, err := os.ReadDir(root); err != nil || len(entries) != 0 {
		t.Fatalf("refused requests wrote %v (%v)", entries, err)
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 1 {
		t.Fatalf("refused requests wrote beside the backup directory: %v", entries)
	}
}

// TestBackupRouteDisabled: without Config.BackupDir the route answers 403
// saying how to turn it on, whatever the body.
func TestBackupRouteDisabled(t *testing.T) {
	e := newMaintEnv(t, eventlog.Options{})
	for _, body := range []string{`{"name":"nightly"}`, `{"name":"../x"}`, ""} {
		er := e.do("POST", backupPath, ctJSON, body).wantError(t, http.StatusForbidden, typeDisabled)
		if !strings.Contains(er.Error.Reason, "--backup-dir") || !strings.Contains(er.Error.Reason, "off") {
			t.Fatalf("reason %q", er.Error.Reason)
		}
	}
}
