package eventlog

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/match"
	"github.com/eventlogdb/eventlog/segment"
)

// TestSealWritesWhatWriteWrites: the segments a seal writes, whose postings
// it takes from the head's (headPostings), are byte for byte the files
// segment.Write makes of the same events (each row's terms found by the
// writer): the head's events split by partition and sorted by (@timestamp,
// sequence), written with the seals' encoders (SealEntropyEncoder for the
// postings dictionary and every column but SealFastEncoder's). Heads hold
// events over several partitions, out of @timestamp order, some without
// @timestamp (stamped with the store's clock), appended in batches of any
// size. Then a full compaction merges each partition's segments into one
// that is segment.Write's file of the partition's events with the merges'
// encoders (MergeEncoder for the dictionary and the columns the other two
// do not name): the better level seals leave to merges.
func TestSealWritesWhatWriteWrites(t *testing.T) {
	better, err := segment.MergeEncoder()
	if err != nil {
		t.Fatal(err)
	}
	fast, err := segment.SealFastEncoder()
	if err != nil {
		t.Fatal(err)
	}
	entropy, err := segment.SealEntropyEncoder()
	if err != nil {
		t.Fatal(err)
	}
	opts := segment.WriteOptions{Encoder: entropy, FastEncoder: fast, EntropyEncoder: entropy}
	mergeOpts := segment.WriteOptions{Encoder: better, FastEncoder: fast, EntropyEncoder: entropy}
	const partition = 5 * time.Second
	now := time.Date(2024, 5, 1, 0, 0, 7, 0, time.UTC) // within genTime's 20 s
	rapid.Check(t, func(rt *rapid.T) {
		dir, err := os.MkdirTemp("", "eventlog-seal-postings-*")
		if err != nil {
			rt.Fatal(err)
		}
		defer os.RemoveAll(dir)
		db, err := Open(filepath.Join(dir, "db"), Options{AllowUnregistered: true, Partition: partition, MaintenanceInterval: -1, Now: func() time.Time { return now }})
		if err != nil {
			rt.Fatal(err)
		}
		defer db.Close()
		db.PauseCompaction()
		var heads [][]segment.Row // each sealed head's events, by sequence number
		var held []segment.Row
		for range rapid.IntRange(1, 6).Draw(rt, "batches") {
			events := make([]Event, rapid.IntRange(1, 120).Draw(rt, "events"))
			for i := range events {
				events[i] = genEvent(rt)
			}
			got, err := db.Append(ctx, events...)
			if err != nil {
				rt.Fatal(err)
			}
			for i := range events {
				e := events[i]
				if e.Timestamp.IsZero() {
					e.Timestamp = event.DateOf(now)
				}
				held = append(held, segment.Row{Seq: got.Seq(i), Event: &e})
			}
			if rapid.Bool().Draw(rt, "roll") {
				heads, held = append(heads, held), nil
				if err := db.Roll(ctx); err != nil {
					rt.Fatal(err)
				}
			}
		}
		heads = append(heads, held)
		if err := db.Roll(ctx); err != nil {
			rt.Fatal(err)
		}
		db.manifestMu.Lock()
		segs := slices.Clone(db.manifest.Segments)
		db.manifestMu.Unlock()
		var want [][]byte
		for _, rows := range heads {
			want = append(want, writeByPartition(rt, dir, rows, partition, opts)...)
		}
		if len(segs) != len(want) {
			rt.Fatalf("the seals wrote %d segments, segment.Write %d", len(segs), len(want))
		}
		for i, s := range segs {
			got, err := os.ReadFile(filepath.Join(db.segDir(), s.Name))
			if err != nil {
				rt.Fatal(err)
			}
			if !bytes.Equal(got, want[i]) {
				rt.Fatalf("segment %s (%d events) differs from segment.Write's file of its events: %d bytes, want %d", s.Name, s.Events, len(got), len(want[i]))
			}
		}
		checkMerged(rt, db, dir, slices.Concat(heads...), segs, partition, mergeOpts)
	})
}

// checkMerged compacts db fully and checks that every segment the merges
// wrote (one not in sealed) is segment.Write's file, with opts, of the
// events of its partition (rows holds every event of db).
func checkMerged(rt *rapid.T, db *DB, dir string, rows []segment.Row, sealed []segmentMeta, partition time.Duration, opts segment.WriteOptions) {
	if _, err := db.Compact(ctx); err != nil {
		rt.Fatal(err)
	}
	var parts []int64 // the partitions of rows, ascending: writeByPartition's order
	for _, r := range rows {
		parts = append(parts, match.FloorDiv(r.Event.Timestamp.UnixNano(), int64(partition)))
	}
	slices.Sort(parts)
	parts = slices.Compact(parts)
	want := map[int64][]byte{} // by partition
	for i, data := range writeByPartition(rt, dir, rows, partition, opts) {
		want[parts[i]] = data
	}
	db.manifestMu.Lock()
	segs := slices.Clone(db.manifest.Segments)
	db.manifestMu.Unlock()
	for _, s := range segs {
		if slices.ContainsFunc(sealed, func(m segmentMeta) bool { return m.Name == s.Name }) {
			continue
		}
		got, err := os.ReadFile(filepath.Join(db.segDir(), s.Name))
		if err != nil {
			rt.Fatal(err)
		}
		if w := want[match.FloorDiv(s.MinTS, int64(partition))]; !bytes.Equal(got, w) {
			rt.Fatalf("merged segment %s (%d events) differs from segment.Write's file of its partition's events: %d bytes, want %d", s.Name, s.Events, len(got), len(w))
		}
	}
}

// writeByPartition returns the files segment.Write makes of rows, one per
// partition, in order, each sorted by (@timestamp, sequence).
func writeByPartition(rt *rapid.T, dir string, rows []segment.Row, partition time.Duration, opts segment.WriteOptions) [][]byte {
	rows = slices.Clone(rows)
	pos := func(r segment.Row) match.Position {
		return match.Position{TS: r.Event.Timestamp.UnixNano(), Seq: r.Seq}
	}
	slices.SortFunc(rows, func(a, b segment.Row) int { return match.Compare(pos(a), pos(b)) })
	var out [][]byte
	for len(rows) > 0 {
		p := match.FloorDiv(pos(rows[0]).TS, int64(partition))
		n := 1
		for n < len(rows) && match.FloorDiv(pos(rows[n]).TS, int64(partition)) == p {
			n++
		}
		path := filepath.Join(dir, "want.seg")
		if _, err := segment.Write(path, rows[:n], opts); err != nil {
			rt.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			rt.Fatal(err)
		}
		out, rows = append(out, data), rows[n:]
	}
	return out
}
