package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/eventlogdb/eventlog"
)

// Error types of POST /api/_backup.
const (
	typeBackupFailed = "backup_failed"
	typeConflict     = "conflict"
)

// errBackupDisabled is the answer of _backup on a server without
// Config.BackupDir: 403, saying how to allow it.
var errBackupDisabled = errorf(http.StatusForbidden, typeDisabled,
	"backup is off on this server: start it with --backup-dir DIR "+
		"(or EVENTLOG_BACKUP_DIR=DIR, or backup-dir: DIR in its config file); backups are written only under that directory")

// backupRequest is the body of POST /api/_backup.
type backupRequest struct {
	// Name is the backup's directory under Config.BackupDir: a plain name.
	Name string `json:"name"`
}

// maxBackupName bounds a backup's name.
const maxBackupName = 100

// checkBackupName accepts a plain directory name: letters, digits, '.',
// '_' and '-', not starting with '.', so it can neither leave the backup
// directory nor hide in it.
func checkBackupName(name string) error {
	switch {
	case name == "":
		return errors.New(`"name" is required: the backup's directory under the server's backup directory, e.g. "nightly"`)
	case len(name) > maxBackupName:
		return fmt.Errorf("name is %d bytes long, over the limit of %d", len(name), maxBackupName)
	case strings.ContainsAny(name, `/\`):
		return fmt.Errorf("name %q holds a path separator: it must be a plain directory name", name)
	case name[0] == '.':
		return fmt.Errorf("name %q starts with '.': it must be a plain directory name (not ., .. or hidden)", name)
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("name %q holds %q: use letters, digits, '.', '_' and '-'", name, c)
		}
	}
	return nil
}

// handleBackup writes a backup of the store (DB.Backup) to a directory
// under Config.BackupDir: POST /api/_backup {"name":NAME}
// [?timeout=DURATION] → 200 eventlog.BackupResult. Off unless
// Config.BackupDir is set: 403 disabled, before the body is read. A bad
// name is 400 naming the problem, and nothing is written.
func (s *Server) handleBackup(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.BackupDir == "" {
		return errBackupDisabled
	}
	ctx, cancel, err := s.adminContext(w, r, nil)
	if err != nil {
		return err
	}
	defer cancel()
	var req backupRequest
	if err := s.readJSONBody(w, r, &req); err != nil {
		return err
	}
	if err := checkBackupName(req.Name); err != nil {
		return errorf(http.StatusBadRequest, typeInvalidRequest, "%s", err)
	}
	res, err := s.db.Backup(ctx, filepath.Join(s.cfg.BackupDir, req.Name))
	if err != nil {
		return backupError(err, req.Name)
	}
	s.log.Info("backup", "remote", r.RemoteAddr, "name", req.Name, "seq", res.Seq,
		"files_copied", res.FilesCopied, "files_skipped", res.FilesSkipped, "bytes_copied", res.BytesCopied)
	return writeValue(w, http.StatusOK, res)
}

// backupError is the answer of a failed backup; the operator needs its
// cause (a full or missing backup disk), so a failure names it.
func backupError(err error, name string) error {
	const left = "it stays incomplete (no BACKUP file) until a backup to it succeeds"
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return stoppedEarly(err, "backup", "backup %q %s", name, left)
	case errors.Is(err, eventlog.ErrLocked):
		return errorf(http.StatusConflict, typeConflict, "another backup is being written to %q", name)
	case errors.Is(err, eventlog.ErrClosed), errors.Is(err, context.Canceled):
		return err
	}
	e := errorf(http.StatusInternalServerError, typeBackupFailed, "backup %q failed; %s: %v", name, left, err)
	e.cause = err
	return e
}
