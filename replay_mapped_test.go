package eventlog

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/head"
)

// TestReplayedEventsOutliveTheirWALFiles: replay leaves the heads' events
// in the WAL's mapped files (wal.Options.MapPayloads), so the mappings
// must live as long as anything reads them. A snapshot of the replayed
// head taken before the head is sealed, and its WAL files checkpointed
// away, still decodes every event as appended after collections have run;
// so does the store; the events are reported as mapped, not charged,
// until the head is sealed, and the seal gives back all that the head
// charged, its postings added after Open included.
func TestReplayedEventsOutliveTheirWALFiles(t *testing.T) {
	opts := Options{AllowUnregistered: true, SegmentMaxBytes: 1 << 40, MaintenanceInterval: -1, WALMaxFileBytes: 64 << 10}
	dir := t.TempDir()
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	gen := rapid.SliceOfN(rapid.Custom(genEvent), 100, 100)
	appended := map[uint64][]byte{}
	for i := range 10 {
		batch := gen.Example(i)
		for j := range batch {
			if batch[j].Timestamp.IsZero() { // stamped by Append otherwise
				batch[j].Timestamp = ts("2024-05-01T10:00:00Z")
			}
		}
		first, err := db.Append(ctx, batch...)
		if err != nil {
			t.Fatal(err)
		}
		for i := range batch {
			appended[first.FirstSeq+uint64(i)] = event.AppendBinary(nil, &batch[i])
		}
	}
	crashed := t.TempDir()
	if err := os.CopyFS(filepath.Join(crashed, "wal"), os.DirFS(filepath.Join(dir, "wal"))); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	re, err := Open(crashed, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer re.Close()
	st := re.Stats()
	if st.WAL.Files < 2 || st.Memory.MappedWAL == 0 || st.Memory.MappedWAL != st.HeadBytes {
		t.Fatalf("after replay of %d WAL files: %d bytes mapped, the head holds %d", st.WAL.Files, st.Memory.MappedWAL, st.HeadBytes)
	}
	h := re.state.Load().active
	snap := h.Snapshot()
	h.IndexPending() // some of the deferred postings (the store adds them too); the seal adds the rest
	heads := re.mem.Account(AccountHeads)
	if err := re.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	if st := re.Stats(); st.WAL.Files > 1 || st.Memory.MappedWAL != 0 || heads.Used() != 0 {
		t.Fatalf("after the seal: %d WAL files left, %d bytes mapped, %d charged to heads", st.WAL.Files, st.Memory.MappedWAL, heads.Used())
	}
	for range 5 {
		runtime.GC()
	}
	checkSnapshotEvents(t, snap, appended)
	got := exportedEvents(t, re)
	if len(got) != len(appended) {
		t.Fatalf("%d events exported, %d appended", len(got), len(appended))
	}
	for seq, want := range appended {
		ev := got[seq]
		if b := event.AppendBinary(nil, &ev); !bytes.Equal(b, want) {
			t.Fatalf("seq %d exported differs from the appended event", seq)
		}
	}
}

// checkSnapshotEvents decodes every row of snap and compares it with the
// appended event of its sequence number.
func checkSnapshotEvents(t *testing.T, snap *head.Snapshot, appended map[uint64][]byte) {
	t.Helper()
	n := 0
	err := snap.EachSeq(0, ^uint64(0), func(seq uint64, ev *event.Event) {
		n++
		if b := event.AppendBinary(nil, ev); !bytes.Equal(b, appended[seq]) {
			t.Fatalf("seq %d read from the snapshot differs from the appended event", seq)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(appended) {
		t.Fatalf("snapshot holds %d events, %d appended", n, len(appended))
	}
}
