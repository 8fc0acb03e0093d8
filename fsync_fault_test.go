package eventlog

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// TestFsyncFailureLosesNothing fails every fsync of one kind of file or
// directory while the store appends, seals, compacts and closes, then checks
// both ways the store can come back — a restart (the page cache kept) and a
// power cut (only what was fsynced kept) — hold every acknowledged event
// once. A failed fsync leaves the state on disk unknown: the store must stop
// writing and delete nothing, and the next open decides.
func TestFsyncFailureLosesNothing(t *testing.T) {
	kinds := map[string]func(dir, path string) bool{
		"WAL file":           func(dir, p string) bool { return filepath.Dir(p) == filepath.Join(dir, "wal") },
		"WAL directory":      func(dir, p string) bool { return p == filepath.Join(dir, "wal") },
		"segment file":       func(dir, p string) bool { return filepath.Dir(p) == filepath.Join(dir, "segments") },
		"segments directory": func(dir, p string) bool { return p == filepath.Join(dir, "segments") },
		"data directory":     func(dir, p string) bool { return p == dir },
		"manifest":           func(dir, p string) bool { return strings.HasPrefix(p, filepath.Join(dir, manifestFile)) },
	}
	for kind, match := range kinds {
		for _, during := range []string{"append", "roll", "compact", "close"} {
			t.Run(kind+" during "+during, func(t *testing.T) { fsyncFaultCase(t, match, during) })
		}
	}
}

func fsyncFaultCase(t *testing.T, match func(dir, path string) bool, during string) {
	base := t.TempDir()
	dir := filepath.Join(base, "data")
	strict, err := vfs.NewStrict(vfs.OS{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	faulty := vfs.NewFaulty(strict)
	db, err := Open(dir, Options{AllowUnregistered: true, Sync: SyncAlways, MaintenanceInterval: -1, FS: faulty})
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint64]string{}
	k := 0
	appendBatch := func() error {
		batch := make([]Event, 5)
		for i := range batch {
			batch[i] = ev("p", "a", "")
			batch[i].Message = fmt.Sprintf("e%d", k)
			k++
		}
		res, err := db.Append(ctx, batch...)
		if err == nil {
			for i, e := range batch {
				want[res.Seq(i)] = e.Message
			}
		}
		return err
	}
	for range 3 { // three segments for compaction to merge, and a head
		if err := appendBatch(); err != nil {
			t.Fatal(err)
		}
		if err := db.Roll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := appendBatch(); err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int32
	faulty.FailIf(vfs.OpSync, syscall.EIO, func(p string) bool {
		if match(dir, filepath.Clean(p)) {
			hits.Add(1)
			return true
		}
		return false
	})
	var errs []error
	switch during {
	case "append":
		errs = append(errs, appendBatch())
	case "roll":
		errs = append(errs, db.Roll(ctx))
	case "compact":
		_, err := db.Compact(ctx)
		errs = append(errs, err)
	}
	errs = append(errs, appendBatch(), db.Close())
	faulty.Heal(vfs.OpSync)
	// Not every failure is an error: a directory fsync after a WAL
	// checkpoint's removals only lets removed files come back, which
	// replay skips.
	if hits.Load() == 0 {
		t.Fatal("no fsync of this kind happened: the case tests nothing")
	}
	cut := filepath.Join(base, "cut")
	if err := strict.CrashClone(cut, nil); err != nil {
		t.Fatal(err)
	}
	checkCrashStore(t, cut, want, nil, "a power cut")
	checkCrashStore(t, dir, want, nil, "a restart")
	t.Logf("%d fsyncs failed; %d events acknowledged; errors: %v", hits.Load(), len(want), errors.Join(errs...))
}
