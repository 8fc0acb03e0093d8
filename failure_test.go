// Tests of how the DB behaves when things go wrong around it: Close during
// reads, a full disk while sealing or registering, a missing segment file,
// out-of-range time bounds.

package eventlog

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// TestCloseWaitsForReadsInFlight closes the DB while readers query many
// segments: every read finishes or gets ErrClosed; none hangs or crashes.
func TestCloseWaitsForReadsInFlight(t *testing.T) {
	db := mustOpen(t, t.TempDir(), Options{AllowUnregistered: true})
	for i := range 10 {
		db.Append(ctx, ev("p", "a", ""), ev("p", "a", ""))
		if i%2 == 0 {
			db.Roll(ctx)
		}
	}
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			for {
				if _, err := db.Find(ctx, FindRequest{}); err != nil {
					if !errors.Is(err, ErrClosed) {
						t.Errorf("find during close: %v", err)
					}
					return
				}
				if _, err := db.Count(ctx, FindRequest{}); errors.Is(err, ErrClosed) {
					return
				}
			}
		})
	}
	time.Sleep(20 * time.Millisecond)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}

// TestFailedSealLeavesNoOrphans fails every manifest write: the segments
// each attempt wrote are removed again instead of piling up.
func TestFailedSealLeavesNoOrphans(t *testing.T) {
	dir := t.TempDir()
	faulty := vfs.NewFaulty(vfs.OS{})
	db := mustOpen(t, dir, Options{AllowUnregistered: true, FS: faulty})
	days := []string{"2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"}
	for _, d := range days {
		db.Append(ctx, ev("p", "a", d))
	}
	faulty.FailIf(vfs.OpRename, syscall.ENOSPC, func(path string) bool { return strings.Contains(path, manifestFile) })
	if err := db.Roll(ctx); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("roll with the manifest unwritable: %v", err)
	}
	time.Sleep(300 * time.Millisecond) // let the sealer retry a few times
	// Between retries (backing off) segments/ must be empty: a retry in
	// flight may hold files for a moment, piled-up orphans never go.
	var entries []os.DirEntry
	for try := 0; try < 200; try++ {
		if entries, _ = os.ReadDir(filepath.Join(dir, "segments")); len(entries) == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(entries) != 0 {
		t.Fatalf("%d files left in segments/ by failed seals", len(entries))
	}
	faulty.Heal(vfs.OpRename)
	if err := db.Roll(ctx); err != nil {
		t.Fatalf("roll after healing: %v", err)
	}
	if s := db.Stats(); s.Segments != 3 || s.SegmentEvents != 3 {
		t.Fatalf("stats %+v", s)
	}
}

func TestMissingSegmentFailsOpen(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir, Options{AllowUnregistered: true})
	db.Append(ctx, ev("p", "a", ""))
	db.Close()
	name := db.manifest.Segments[0].Name
	hidden := filepath.Join(dir, name)
	os.Rename(filepath.Join(dir, "segments", name), hidden)
	if _, err := Open(dir, Options{AllowUnregistered: true}); err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("open with a segment missing: %v", err)
	}
	os.Rename(hidden, filepath.Join(dir, "segments", name)) // restored: nothing was forgotten
	db = mustOpen(t, dir, Options{AllowUnregistered: true})
	if n := len(findAll(t, db, FindRequest{})); n != 1 {
		t.Fatalf("%d events after restoring the file, want 1", n)
	}
}

func TestFindTimeBoundsBeyondInt64Nanoseconds(t *testing.T) {
	db := mustOpen(t, t.TempDir(), Options{AllowUnregistered: true})
	db.Append(ctx, ev("p", "a", "2024-01-01T00:00:00Z"))
	ancient, future := time.Date(1000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		req  FindRequest
		want int
	}{
		"end before 1678":   {FindRequest{End: ancient}, 0},
		"start after 2262":  {FindRequest{Start: future}, 0},
		"start before 1678": {FindRequest{Start: ancient}, 1},
		"both sentinels":    {FindRequest{Start: ancient, End: future}, 1},
	}
	for name, c := range cases {
		if n, err := db.Count(ctx, c.req); err != nil || n != c.want {
			t.Errorf("%s: count %d, %v; want %d", name, n, err, c.want)
		}
	}
}

func TestRegisterRetriesAfterFailedSave(t *testing.T) {
	dir := t.TempDir()
	faulty := vfs.NewFaulty(vfs.OS{})
	db := mustOpen(t, dir, Options{FS: faulty})
	faulty.Fail(vfs.OpRename, syscall.ENOSPC)
	if err := db.RegisterProviderActions("p", "a"); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("register on a full disk: %v", err)
	}
	if db.IsRegistered("p", "a") {
		t.Fatal("a pair that was not saved is registered")
	}
	faulty.Heal(vfs.OpRename)
	if err := db.RegisterProviderActions("p", "a"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = mustOpen(t, dir, Options{})
	if !db.IsRegistered("p", "a") {
		t.Fatal("the retried registration was not saved")
	}
}
