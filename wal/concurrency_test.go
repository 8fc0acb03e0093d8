package wal

import (
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// TestGroupCommit: concurrent SyncAlways appends get distinct increasing
// seqs, commits run in seq order, and they share fsyncs.
func TestGroupCommit(t *testing.T) {
	const writers, each = 16, 25
	fsys := &slowSyncFS{FS: vfs.OS{}, delay: 2 * time.Millisecond}
	opts := Options{Dir: t.TempDir(), FS: fsys, Sync: SyncAlways, MaxFileBytes: 4096}
	w, _ := openLog(t, opts, 0)

	var commits []uint64 // appended under the WAL's ordering lock
	var mu sync.Mutex
	var seqs []uint64
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				seq, err := w.Append(1, payloadFor(g*each+i), func(s uint64) { commits = append(commits, s) })
				if err != nil {
					t.Error(err)
					return
				}
				if w.DurableSeq() < seq {
					t.Errorf("Append returned seq %d before DurableSeq (%d) covered it", seq, w.DurableSeq())
				}
				mu.Lock()
				seqs = append(seqs, seq)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	st := w.Stats()
	mustClose(t, w)

	if !sort.SliceIsSorted(commits, func(i, j int) bool { return commits[i] < commits[j] }) {
		t.Fatal("commit callbacks ran out of sequence order")
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for i := range seqs {
		if seqs[i] != uint64(i+1) {
			t.Fatalf("seqs not distinct and dense: %v", seqs)
		}
	}
	if st.Appends != writers*each || st.Fsyncs >= writers*each {
		t.Fatalf("Stats %+v: want %d appends sharing fewer fsyncs", st, writers*each)
	}
	t.Logf("%d appends, %d fsyncs, %d files", st.Appends, st.Fsyncs, st.Files)
	got := replayAll(t, Options{Dir: opts.Dir})
	if len(got) != writers*each {
		t.Fatalf("replayed %d records", len(got))
	}
}

// TestConcurrentEverything runs appends under every policy alongside Sync,
// Checkpoint and Stats, for the race detector.
func TestConcurrentEverything(t *testing.T) {
	for _, p := range []SyncPolicy{SyncAlways, SyncInterval, SyncNone} {
		t.Run(p.String(), func(t *testing.T) {
			opts := Options{Dir: t.TempDir(), Sync: p, SyncInterval: time.Millisecond, MaxFileBytes: 512}
			w, _ := openLog(t, opts, 0)
			var wg sync.WaitGroup
			for g := range 4 {
				wg.Go(func() {
					for i := range 50 {
						if _, err := w.Append(1, payloadFor(g*50+i), nil); err != nil {
							t.Error(err)
						}
					}
				})
			}
			done := make(chan struct{})
			var side sync.WaitGroup
			side.Go(func() {
				for {
					select {
					case <-done:
						return
					default:
					}
					if err := w.Sync(); err != nil {
						t.Error(err)
					}
					if err := w.Checkpoint(w.DurableSeq() / 2); err != nil {
						t.Error(err)
					}
					w.Stats()
				}
			})
			wg.Wait()
			close(done)
			side.Wait()
			next := w.NextSeq()
			mustClose(t, w)
			w, got := openLog(t, opts, 0)
			defer mustClose(t, w)
			checkIncreasing(t, got)
			if len(got) == 0 || got[len(got)-1].seq != next-1 || w.NextSeq() != next {
				t.Fatalf("after reopen: %d records, NextSeq %d, want last %d", len(got), w.NextSeq(), next-1)
			}
		})
	}
}

func TestSyncIntervalAdvancesDurable(t *testing.T) {
	w, _ := openLog(t, Options{Dir: t.TempDir(), Sync: SyncInterval, SyncInterval: 5 * time.Millisecond}, 0)
	defer mustClose(t, w)
	recs := appendN(t, w, 0, 10)
	last := recs[9].seq + uint64(recs[9].count) - 1
	waitFor(t, func() bool { return w.DurableSeq() == last })
	if w.Stats().Fsyncs == 0 {
		t.Fatal("no fsync counted")
	}
}

func TestSyncNoneDurableOnlyOnSync(t *testing.T) {
	w, _ := openLog(t, Options{Dir: t.TempDir(), Sync: SyncNone}, 0)
	defer mustClose(t, w)
	recs := appendN(t, w, 0, 3)
	if w.DurableSeq() != 0 {
		t.Fatalf("DurableSeq %d before Sync", w.DurableSeq())
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if last := recs[2].seq + uint64(recs[2].count) - 1; w.DurableSeq() != last {
		t.Fatalf("DurableSeq %d after Sync, want %d", w.DurableSeq(), last)
	}
}
