package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/eventlogdb/eventlog"
)

// runBackup writes a backup of a data directory (DB.Backup), or has a
// server write one under its --backup-dir (--url: POST /api/_backup),
// and prints what was copied.
func runBackup(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, data := newFlags("backup", stderr)
	rawURL := addURLFlag(fs)
	to := fs.String("to", "", "the backup's directory, best on another disk; an earlier backup there is brought up to date "+
		"(with --url: a plain name, written under the server's --backup-dir)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	timeout := durationOpt(fs, "timeout", 0, "stop after this long (with --url: the server's --request-timeout by default)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: %w", fs.Arg(0), errUsage)
	}
	if *to == "" {
		return fmt.Errorf("--to is required: where to write the backup: %w", errUsage)
	}
	client, err := remote(fs, *rawURL, nil)
	if err != nil {
		return err
	}
	ctx, stop := maintenanceContext(*timeout)
	defer stop()
	var res eventlog.BackupResult
	if client != nil {
		err = client.Do(ctx, http.MethodPost, "api/_backup", timeoutParam(*timeout), map[string]string{"name": *to}, &res)
	} else {
		res, err = backupDir(ctx, *data, *to)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSONValue(stdout, res)
	}
	printBackup(stdout, res)
	return nil
}

// backupDir backs dir up to target; the store stays as it was (no
// maintenance runs while it is open).
func backupDir(ctx context.Context, dir, target string) (eventlog.BackupResult, error) {
	db, err := openForMaintenance(dir, eventlog.Options{MaintenanceInterval: -1}, "/api/_backup")
	if err != nil {
		return eventlog.BackupResult{}, err
	}
	res, err := db.Backup(ctx, target)
	return res, errors.Join(err, db.Close())
}

func printBackup(w io.Writer, res eventlog.BackupResult) {
	fmt.Fprintf(w, "backup at seq %d written to %s\n", res.Seq, res.Dir)
	fmt.Fprintf(w, "  %d %s (%d copied, %d already there and verified), %d WAL %s\n",
		res.Segments, plural(res.Segments, "segment", "segments"), res.SegmentsCopied, res.FilesSkipped,
		res.WALFiles, plural(res.WALFiles, "file", "files"))
	fmt.Fprintf(w, "  copied %d %s, %s, in %s; removed %d %s of an earlier backup\n",
		res.FilesCopied, plural(res.FilesCopied, "file", "files"), bytesIEC(res.BytesCopied),
		res.Took.Round(time.Millisecond), res.FilesRemoved, plural(res.FilesRemoved, "file", "files"))
}

// runRestore copies a backup into a new data directory (Restore) and
// prints what it holds.
func runRestore(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, data := newFlags("restore", stderr)
	from := fs.String("from", "", "a backup directory written by eventlog backup")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: %w", fs.Arg(0), errUsage)
	}
	if *from == "" {
		return fmt.Errorf("--from is required: the backup to restore: %w", errUsage)
	}
	ctx, stop := maintenanceContext(0)
	defer stop()
	res, err := eventlog.Restore(ctx, *from, *data)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSONValue(stdout, res)
	}
	fmt.Fprintf(stdout, "restored %s to %s: every event up to seq %d (%d %s; %d files, %s copied and verified)\n",
		*from, res.Dir, res.Seq, res.Segments, plural(res.Segments, "segment", "segments"), res.FilesCopied, bytesIEC(res.BytesCopied))
	if res.TreeLost > 0 {
		fmt.Fprintf(stdout, "recorded %d positions of the Merkle tree past seq %d as lost to this restore (verify --chain lists them)\n", res.TreeLost, res.Seq)
	}
	return nil
}
