package eventlog

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
)

// TestPropertyReplayIndexesAsAppend: a head rebuilt by replaying the WAL
// after a crash holds exactly the rows and postings the head that Append
// filled held: replay reads only the indexed parts of its events
// (event.IndexDecoder), Append indexes whole events.
func TestPropertyReplayIndexesAsAppend(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		opts := Options{AllowUnregistered: true, SegmentMaxBytes: 1 << 40, MaintenanceInterval: -1}
		dir := t.TempDir()
		db, err := Open(dir, opts)
		if err != nil {
			rt.Fatal(err)
		}
		defer db.Close()
		for range rapid.IntRange(1, 4).Draw(rt, "batches") {
			batch := rapid.SliceOfN(rapid.Custom(genEvent), 1, 20).Draw(rt, "batch")
			for i := range batch {
				if rapid.IntRange(0, 3).Draw(rt, "has_client_id") == 0 {
					batch[i].ClientID = fmt.Sprintf("c%d", rapid.IntRange(0, 9).Draw(rt, "client_id"))
				}
			}
			if _, err := db.Append(ctx, batch...); err != nil {
				rt.Fatalf("append: %v", err)
			}
		}
		// The crash: the WAL as it is, the store never closed (SyncAlways).
		crashed := t.TempDir()
		copyTree(rt, filepath.Join(dir, "wal"), filepath.Join(crashed, "wal"))
		replayed, err := Open(crashed, opts)
		if err != nil {
			rt.Fatalf("reopen: %v", err)
		}
		defer replayed.Close()
		want, got := headContents(rt, db), headContents(rt, replayed)
		if !slices.Equal(got.ts, want.ts) || !slices.Equal(got.seq, want.seq) {
			rt.Fatalf("replayed rows (ts %v, seq %v), appended (ts %v, seq %v)", got.ts, got.seq, want.ts, want.seq)
		}
		if !maps.Equal(got.postings, want.postings) {
			rt.Fatalf("replayed postings differ:\n got %v\nwant %v", got.postings, want.postings)
		}
	})
}

// headState is what a head answers queries from: its rows' positions and
// every posting (term to its rows, printed).
type headState struct {
	ts       []int64
	seq      []uint64
	postings map[index.Term]string
}

// headContents reads db's active head (the only one: nothing rolls).
func headContents(rt *rapid.T, db *DB) headState {
	st := db.state.Load()
	if len(st.frozen) != 0 {
		rt.Fatalf("%d frozen heads: the test expects one head", len(st.frozen))
	}
	snap := st.active.Snapshot()
	var s headState
	var err error
	if s.ts, s.seq, err = snap.Keys(0); err != nil {
		rt.Fatal(err)
	}
	s.postings = map[index.Term]string{}
	for _, field := range postingFields() {
		err := snap.EachTerm(field, "", func(value string, rows *roaring.Bitmap) error {
			s.postings[index.Term{Field: field, Value: value}] = rows.String()
			return nil
		})
		if err != nil {
			rt.Fatal(err)
		}
	}
	return s
}

// postingFields names every field a head has postings under: the indexed
// event fields and index's derived ones.
func postingFields() []string {
	fields := []string{index.RefField, index.RefRelField, index.SpacesField}
	for _, f := range event.Fields() {
		if f.Indexed {
			fields = append(fields, f.Name)
		}
	}
	return fields
}

// copyTree copies the files of directory from into a new directory to.
func copyTree(rt *rapid.T, from, to string) {
	if err := os.MkdirAll(to, 0o755); err != nil {
		rt.Fatal(err)
	}
	entries, err := os.ReadDir(from)
	if err != nil {
		rt.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err == nil {
			err = os.WriteFile(filepath.Join(to, e.Name()), data, 0o644)
		}
		if err != nil {
			rt.Fatal(err)
		}
	}
}
