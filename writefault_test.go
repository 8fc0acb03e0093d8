package eventlog

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// TestDiskFullIsReportedUntilAWriteSucceeds fills the disk under the WAL:
// the append fails with a *DiskFullError naming the data directory, not as
// an unknown outcome, Stats.DiskFull says so until an append succeeds.
func TestDiskFullIsReportedUntilAWriteSucceeds(t *testing.T) {
	dir := t.TempDir()
	faulty := vfs.NewFaulty(vfs.OS{})
	db := mustOpen(t, dir, Options{AllowUnregistered: true, FS: faulty})
	faulty.Fail(vfs.OpWrite, syscall.ENOSPC)
	_, err := db.Append(ctx, ev("p", "a", ""))
	var full *DiskFullError
	if !errors.As(err, &full) || full.Dir != dir || !errors.Is(err, ErrDiskFull) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("append on a full disk: %v, want a *DiskFullError for %s matching ErrDiskFull and ENOSPC", err, dir)
	}
	if errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("a write cut back after ENOSPC reported as an unknown outcome: %v", err)
	}
	if st := db.Stats(); !strings.Contains(st.DiskFull, dir) || !strings.Contains(st.DiskFull, "no space") {
		t.Fatalf("Stats.DiskFull = %q, want the reason naming %s", st.DiskFull, dir)
	}
	faulty.Heal(vfs.OpWrite)
	if _, err := db.Append(ctx, ev("p", "a", "")); err != nil {
		t.Fatalf("append after space came back: %v", err)
	}
	if st := db.Stats(); st.DiskFull != "" {
		t.Fatalf("Stats.DiskFull = %q after a successful append, want empty", st.DiskFull)
	}
}

// TestFailedFsyncMakesTheOutcomeUnknown fails the fsync after the WAL
// write: the error matches ErrOutcomeUnknown, and the batch is indeed
// present after a reopen (the write did land), while an append refused by
// the poisoned WAL afterwards is known not stored.
func TestFailedFsyncMakesTheOutcomeUnknown(t *testing.T) {
	dir := t.TempDir()
	faulty := vfs.NewFaulty(vfs.OS{})
	db := mustOpen(t, dir, Options{AllowUnregistered: true, FS: faulty})
	if _, err := db.Append(ctx, ev("p", "a", "")); err != nil { // reserves sequence numbers
		t.Fatal(err)
	}
	faulty.Fail(vfs.OpSync, syscall.EIO)
	_, err := db.Append(ctx, ev("p", "a", ""))
	if !errors.Is(err, ErrOutcomeUnknown) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("append whose fsync failed: %v, want ErrOutcomeUnknown wrapping EIO", err)
	}
	faulty.Heal(vfs.OpSync)
	_, err = db.Append(ctx, ev("p", "a", ""))
	if err == nil || errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("append refused by the poisoned WAL: %v, want an error that is not ErrOutcomeUnknown", err)
	}
	db.Close()
	db = mustOpen(t, dir, Options{AllowUnregistered: true})
	if n := len(findAll(t, db, FindRequest{})); n != 2 {
		t.Fatalf("%d events after reopen, want 2: the unknown-outcome batch did reach the WAL", n)
	}
}

// TestCheckDiskFullProbes: with no append to clear it, CheckDiskFull finds
// out by a probe write whether space came back, leaving no probe file.
func TestCheckDiskFullProbes(t *testing.T) {
	dir := t.TempDir()
	faulty := vfs.NewFaulty(vfs.OS{})
	db := mustOpen(t, dir, Options{AllowUnregistered: true, FS: faulty})
	faulty.Fail(vfs.OpWrite, syscall.ENOSPC)
	if _, err := db.Append(ctx, ev("p", "a", "")); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("append on a full disk: %v", err)
	}
	if r := db.CheckDiskFull(); !strings.Contains(r, dir) {
		t.Fatalf("CheckDiskFull on a full disk = %q, want the reason naming %s", r, dir)
	}
	faulty.Heal(vfs.OpWrite)
	db.diskFull.probedAt = time.Time{} // skip the wait between probes
	if r := db.CheckDiskFull(); r != "" {
		t.Fatalf("CheckDiskFull once space is back = %q, want empty", r)
	}
	if _, err := os.Stat(filepath.Join(dir, "wal", diskProbeFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("probe file left behind: %v", err)
	}
}
