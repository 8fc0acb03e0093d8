package wal

import (
	"errors"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// TestFsyncFailurePoisons: a failed fsync fails that Append and every later
// one, even after the disk heals; a reopen has every acknowledged record.
func TestFsyncFailurePoisons(t *testing.T) {
	dir := t.TempDir()
	faulty := vfs.NewFaulty(vfs.OS{})
	opts := Options{Dir: dir, FS: faulty, Sync: SyncAlways}
	w, _ := openLog(t, opts, 0)
	acked := appendN(t, w, 0, 3)

	faulty.Fail(vfs.OpSync, syscall.EIO)
	committed := false
	_, err := w.Append(1, []byte("lost?"), func(uint64) { committed = true })
	if !errors.Is(err, ErrPoisoned) || !errors.Is(err, syscall.EIO) || !committed {
		t.Fatalf("Append with failing fsync: %v (committed %v), want ErrPoisoned wrapping EIO", err, committed)
	}
	faulty.Heal(vfs.OpSync)
	if _, err := w.Append(1, []byte("later"), nil); !errors.Is(err, ErrPoisoned) {
		t.Fatalf("Append after heal: %v, want ErrPoisoned", err)
	}
	if !w.Stats().Poisoned || !errors.Is(w.Err(), ErrPoisoned) || w.DurableSeq() != acked[2].seq+uint64(acked[2].count)-1 {
		t.Fatalf("Stats %+v Err %v DurableSeq %d", w.Stats(), w.Err(), w.DurableSeq())
	}
	if err := w.Close(); !errors.Is(err, ErrPoisoned) {
		t.Fatalf("Close of a poisoned WAL: %v", err)
	}
	got := replayAll(t, Options{Dir: dir})
	if len(got) < len(acked) {
		t.Fatalf("reopen has %d records, want at least the %d acknowledged", len(got), len(acked))
	}
	equalRecs(t, got[:len(acked)], acked)
}

// TestBackgroundFsyncFailurePoisons: under SyncInterval, a failure of the
// background fsync poisons the WAL too.
func TestBackgroundFsyncFailurePoisons(t *testing.T) {
	faulty := vfs.NewFaulty(vfs.OS{})
	w, _ := openLog(t, Options{Dir: t.TempDir(), FS: faulty, Sync: SyncInterval, SyncInterval: time.Millisecond}, 0)
	appendN(t, w, 0, 1)              // reserves sequence numbers while fsync still works
	if err := w.Sync(); err != nil { // nothing pending until the next Append
		t.Fatal(err)
	}
	faulty.Fail(vfs.OpSync, syscall.EIO)
	appendN(t, w, 1, 1)
	waitFor(t, func() bool { return w.Err() != nil })
	if _, err := w.Append(1, []byte("x"), nil); !errors.Is(err, ErrPoisoned) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("Append: %v, want ErrPoisoned wrapping EIO", err)
	}
	w.Close()
}

// TestRotationFsyncFailurePoisons: the old file's fsync before rotation
// poisons on failure, whatever the policy.
func TestRotationFsyncFailurePoisons(t *testing.T) {
	faulty := vfs.NewFaulty(vfs.OS{})
	w, _ := openLog(t, Options{Dir: t.TempDir(), FS: faulty, Sync: SyncNone, MaxFileBytes: 100}, 0)
	appendN(t, w, 0, 2)
	faulty.Fail(vfs.OpSync, syscall.EIO)
	if _, err := w.Append(1, make([]byte, 200), nil); !errors.Is(err, ErrPoisoned) {
		t.Fatalf("Append needing rotation: %v, want ErrPoisoned", err)
	}
	w.Close()
}

// TestENOSPC: a failed write leaves no partial record, does not poison, and
// appends work again once the disk has room.
func TestENOSPC(t *testing.T) {
	cases := map[string]struct {
		maxFile int64
		payload int
	}{
		"record write":   {0, 5000},
		"new file write": {200, 300}, // the failing append rotates: the header write fails
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			faulty := vfs.NewFaulty(vfs.OS{})
			opts := Options{Dir: dir, FS: faulty, Sync: SyncAlways, MaxFileBytes: c.maxFile}
			w, _ := openLog(t, opts, 0)
			want := appendN(t, w, 0, 2)
			sizes := snapshotDir(t, dir)

			faulty.Fail(vfs.OpWrite, syscall.ENOSPC)
			for range 3 {
				if _, err := w.Append(1, make([]byte, c.payload), nil); !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("Append on a full disk: %v, want ENOSPC", err)
				}
			}
			if w.Err() != nil {
				t.Fatalf("ENOSPC poisoned the WAL: %v", w.Err())
			}
			for path, data := range snapshotDir(t, dir) {
				if sizes[path] != data {
					t.Fatalf("%s changed after failed appends (%d → %d bytes)", path, len(sizes[path]), len(data))
				}
			}
			faulty.Heal(vfs.OpWrite)
			want = append(want, appendN(t, w, 10, 2)...)
			mustClose(t, w)
			equalRecs(t, replayAll(t, Options{Dir: dir}), want)
			checkIncreasing(t, want)
		})
	}
}

// TestReservationFailure: when raising the reservation fails, Append fails
// without poisoning and without using any sequence number.
func TestReservationFailure(t *testing.T) {
	faulty := vfs.NewFaulty(vfs.OS{})
	opts := Options{Dir: t.TempDir(), FS: faulty, Sync: SyncNone, SeqReserve: 2}
	w, _ := openLog(t, opts, 0)
	appendN(t, w, 0, 1)
	faulty.Fail(vfs.OpRename, syscall.EIO)
	var err error
	for i := 0; i < 5 && err == nil; i++ {
		_, err = w.Append(1, []byte("x"), nil)
	}
	if !errors.Is(err, syscall.EIO) || w.Err() != nil {
		t.Fatalf("Append with failing reservation: %v (poison %v)", err, w.Err())
	}
	faulty.Heal(vfs.OpRename)
	appendN(t, w, 1, 3)
	mustClose(t, w)
}

// TestCreateFailure: failing to create the next file at rotation is an
// error, not a poisoning; the next Append creates it.
func TestCreateFailure(t *testing.T) {
	faulty := vfs.NewFaulty(vfs.OS{})
	opts := Options{Dir: t.TempDir(), FS: faulty, MaxFileBytes: 100}
	w, _ := openLog(t, opts, 0)
	want := appendN(t, w, 0, 1)
	faulty.Fail(vfs.OpCreate, os.ErrPermission)
	if _, err := w.Append(1, make([]byte, 200), nil); !errors.Is(err, os.ErrPermission) || w.Err() != nil {
		t.Fatalf("Append: %v (poison %v)", err, w.Err())
	}
	faulty.Heal(vfs.OpCreate)
	want = append(want, appendN(t, w, 1, 2)...)
	mustClose(t, w)
	equalRecs(t, replayAll(t, Options{Dir: opts.Dir}), want)
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

// slowSyncFS makes every file fsync take a while, so group commit has
// something to group.
type slowSyncFS struct {
	vfs.FS
	delay time.Duration
	syncs atomic.Int64
}

func (s *slowSyncFS) OpenFile(name string, flag int, perm os.FileMode) (vfs.File, error) {
	f, err := s.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &slowSyncFile{File: f, fs: s}, nil
}

type slowSyncFile struct {
	vfs.File
	fs *slowSyncFS
}

func (f *slowSyncFile) Sync() error {
	f.fs.syncs.Add(1)
	time.Sleep(f.fs.delay)
	return f.File.Sync()
}

// TestUndoFailurePoisons: if the cut-back after a failed write cannot be
// made durable, the WAL is poisoned (the error still wraps the write's cause).
func TestUndoFailurePoisons(t *testing.T) {
	faulty := vfs.NewFaulty(vfs.OS{})
	w, _ := openLog(t, Options{Dir: t.TempDir(), FS: faulty}, 0)
	appendN(t, w, 0, 1)
	faulty.Fail(vfs.OpWrite, syscall.ENOSPC)
	faulty.Fail(vfs.OpSync, syscall.EIO)
	_, err := w.Append(1, []byte("doomed"), nil)
	if !errors.Is(err, syscall.ENOSPC) || !errors.Is(err, ErrPoisoned) || w.Err() == nil {
		t.Fatalf("Append: %v, want ENOSPC and ErrPoisoned", err)
	}
	w.Close()
}
