package wal

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestParseSyncPolicy(t *testing.T) {
	for in, want := range map[string]SyncPolicy{"always": SyncAlways, "interval": SyncInterval, "none": SyncNone} {
		got, err := ParseSyncPolicy(in)
		if err != nil || got != want || got.String() != in {
			t.Errorf("ParseSyncPolicy(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseSyncPolicy("sometimes"); err == nil {
		t.Error("ParseSyncPolicy(sometimes) succeeded")
	}
}

func TestOptionsValidate(t *testing.T) {
	for name, o := range map[string]Options{
		"no dir":       {},
		"bad policy":   {Dir: "x", Sync: 7},
		"neg interval": {Dir: "x", SyncInterval: -1},
		"neg max":      {Dir: "x", MaxFileBytes: -1},
	} {
		if _, err := Open(o, 0, nil); err == nil {
			t.Errorf("%s: Open succeeded", name)
		}
	}
}

func TestAppendReopen(t *testing.T) {
	for _, p := range []SyncPolicy{SyncAlways, SyncInterval, SyncNone} {
		t.Run(p.String(), func(t *testing.T) {
			opts := Options{Dir: t.TempDir(), Sync: p}
			w, got := openLog(t, opts, 0)
			if len(got) != 0 || w.NextSeq() != 1 {
				t.Fatalf("new log: replayed %d, NextSeq %d", len(got), w.NextSeq())
			}
			want := appendN(t, w, 0, 50)
			if want[0].seq != 1 {
				t.Fatalf("first seq %d, want 1", want[0].seq)
			}
			checkIncreasing(t, want)
			mustClose(t, w)

			w, got = openLog(t, opts, 0)
			equalRecs(t, got, want)
			last := want[len(want)-1]
			if next := last.seq + uint64(last.count); w.NextSeq() != next || w.DurableSeq() != next-1 {
				t.Fatalf("after reopen NextSeq %d DurableSeq %d, want %d, %d", w.NextSeq(), w.DurableSeq(), next, next-1)
			}
			want = append(want, appendN(t, w, 50, 20)...) // seqs continue across restart
			mustClose(t, w)
			got = replayAll(t, opts)
			equalRecs(t, got, want)
			checkIncreasing(t, got)
		})
	}
}

func TestReplayAfter(t *testing.T) {
	opts := Options{Dir: t.TempDir(), Sync: SyncNone}
	all := writeLog(t, opts, 20)
	for name, after := range map[string]uint64{
		"zero":           0,
		"inside a batch": all[5].seq + 1, // a batch partly after `after` is replayed whole
		"batch end":      all[5].seq + uint64(all[5].count) - 1,
		"everything":     all[19].seq + uint64(all[19].count) - 1,
		"past the end":   1 << 40,
	} {
		t.Run(name, func(t *testing.T) {
			var want []rec
			for _, r := range all {
				if r.seq+uint64(r.count)-1 > after {
					want = append(want, r)
				}
			}
			w, got := openLog(t, opts, after)
			defer mustClose(t, w)
			equalRecs(t, got, want)
			if w.NextSeq() <= after {
				t.Fatalf("NextSeq %d not after %d", w.NextSeq(), after)
			}
		})
	}
}

func TestReplayError(t *testing.T) {
	opts := Options{Dir: t.TempDir()}
	writeLog(t, opts, 5)
	boom := errors.New("boom")
	_, err := Open(opts, 0, func(r Record) error { return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("Open: %v, want wrapping boom", err)
	}
}

func TestSeqNeverReused(t *testing.T) {
	cases := map[string]func(t *testing.T, opts Options, acked []rec){
		// Every log file is gone (as after a checkpoint of everything).
		"all files deleted": func(t *testing.T, opts Options, _ []rec) {
			for _, f := range walFiles(t, opts.Dir) {
				os.Remove(f)
			}
		},
		// A crash under SyncNone lost the records after the last fsync.
		"unsynced tail lost": func(t *testing.T, opts Options, acked []rec) {},
	}
	for name, damage := range cases {
		t.Run(name, func(t *testing.T) {
			opts := Options{Dir: t.TempDir(), Sync: SyncNone, SeqReserve: 10}
			w, _ := openLog(t, opts, 0)
			synced := appendN(t, w, 0, 5)
			if err := w.Sync(); err != nil {
				t.Fatal(err)
			}
			_, syncedSize := recordOffsets(t, lastFile(t, opts.Dir))
			lost := appendN(t, w, 5, 4)   // past the first reservation of 10
			crash := copyDir(t, opts.Dir) // the disk as a crash would leave it
			mustClose(t, w)
			opts.Dir = crash
			truncateFile(t, lastFile(t, opts.Dir), syncedSize)
			damage(t, opts, synced)

			w, got := openLog(t, opts, 0)
			defer mustClose(t, w)
			if name == "unsynced tail lost" {
				equalRecs(t, got, synced)
			}
			maxUsed := lost[len(lost)-1].seq + uint64(lost[len(lost)-1].count) - 1
			if w.NextSeq() <= maxUsed {
				t.Fatalf("NextSeq %d would reuse seqs up to %d", w.NextSeq(), maxUsed)
			}
			if seq := appendN(t, w, 9, 1)[0].seq; seq <= maxUsed {
				t.Fatalf("new record got seq %d <= %d", seq, maxUsed)
			}
		})
	}
}

func TestCloseIdempotent(t *testing.T) {
	opts := Options{Dir: t.TempDir(), Sync: SyncInterval}
	w, _ := openLog(t, opts, 0)
	appendN(t, w, 0, 3)
	mustClose(t, w)
	mustClose(t, w)
	if _, err := w.Append(1, []byte("x"), nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v", err)
	}
	if err := w.Checkpoint(1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Checkpoint after Close: %v", err)
	}
	if err := w.Sync(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Sync after Close: %v", err)
	}
}

func TestAppendRejects(t *testing.T) {
	w, _ := openLog(t, Options{Dir: t.TempDir()}, 0)
	defer mustClose(t, w)
	if _, err := w.Append(0, nil, nil); err == nil {
		t.Error("Append with count 0 succeeded")
	}
	if _, err := w.Append(1, make([]byte, MaxPayload+1), nil); err == nil {
		t.Error("Append of an oversized payload succeeded")
	}
	if w.NextSeq() != 1 {
		t.Errorf("rejected appends used seqs: NextSeq %d", w.NextSeq())
	}
}

func TestTmpFilesRemoved(t *testing.T) {
	opts := Options{Dir: t.TempDir()}
	writeLog(t, opts, 2)
	tmp := filepath.Join(opts.Dir, reservedName+".tmp")
	if err := os.WriteFile(tmp, []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	replayAll(t, opts)
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("leftover tmp file still there: %v", err)
	}
}

func TestStats(t *testing.T) {
	opts := Options{Dir: t.TempDir(), Sync: SyncAlways}
	w, _ := openLog(t, opts, 0)
	appendN(t, w, 0, 4)
	st := w.Stats()
	mustClose(t, w)
	_, size := recordOffsets(t, lastFile(t, opts.Dir))
	if st.Files != 1 || st.Bytes != size || st.Appends != 4 || st.Records != 4 || st.Fsyncs != 4 || st.Poisoned {
		t.Fatalf("Stats = %+v (file size %d)", st, size)
	}
}

// TestKeepPayloadsHandsOverEachPayload: with KeepPayloads the payloads a
// callback keeps stay as replayed after Open returns (the WAL reuses no
// buffer), records at or below after are still skipped, and the rest of the
// replay is as without it.
func TestKeepPayloadsHandsOverEachPayload(t *testing.T) {
	opts := Options{Dir: t.TempDir(), MaxFileBytes: 512}
	want := writeLog(t, opts, 40)
	after := want[9].seq
	opts.KeepPayloads = true
	var kept []Record
	w, err := Open(opts, after, func(r Record) error {
		kept = append(kept, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mustClose(t, w)
	got := make([]rec, len(kept))
	for i, r := range kept {
		got[i] = rec{r.FirstSeq, r.Count, string(r.Payload)}
	}
	equalRecs(t, got, want[10:])
}
