package eventlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/segment"
	"github.com/eventlogdb/eventlog/wal"
)

// bulk returns n events a millisecond apart from start, numbered by message.
func bulk(n int, start string, tag int) []Event {
	base := ts(start).UnixNano()
	evs := make([]Event, n)
	for i := range evs {
		evs[i] = ev("p", "a", "")
		evs[i].Timestamp = event.DateOf(time.Unix(0, base+int64(i)*1e6).UTC())
		evs[i].Message = fmt.Sprintf("%d-%d", tag, i)
	}
	return evs
}

// appendAll appends evs in batches of batch and returns message by seq.
func appendAll(t *testing.T, db *DB, evs []Event, batch int, into map[uint64]string) {
	t.Helper()
	for len(evs) > 0 {
		n := min(batch, len(evs))
		res, err := db.Append(ctx, evs[:n]...)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			into[res.Seq(i)] = evs[i].Message
		}
		evs = evs[n:]
	}
}

// storeContents opens dir and returns message by seq of every event.
func storeContents(t *testing.T, dir string) map[uint64]string {
	t.Helper()
	db := mustOpen(t, dir, Options{AllowUnregistered: true})
	defer db.Close()
	if q := db.Stats().Quarantined; len(q) > 0 {
		t.Fatalf("quarantined after repair: %v", q)
	}
	out := map[uint64]string{}
	for _, r := range findAll(t, db, FindRequest{Limit: MaxLimit}) {
		out[r.Seq] = r.Event.Message
	}
	return out
}

// checkRestored checks that got holds exactly want less the lost seqs.
func checkRestored(t *testing.T, got, want map[uint64]string, lost func(uint64) bool) {
	t.Helper()
	n := 0
	for seq, msg := range want {
		g, ok := got[seq]
		switch {
		case lost(seq) && ok:
			t.Fatalf("seq %d (%s) should be lost, is back", seq, msg)
		case !lost(seq) && g != msg:
			t.Fatalf("seq %d: got %q, want %q", seq, g, msg)
		case !lost(seq):
			n++
		}
	}
	if n != len(got) {
		t.Fatalf("store holds %d events, want %d", len(got), n)
	}
}

func mustVerify(t *testing.T, dir string) {
	t.Helper()
	if errs := Verify(dir); len(errs) > 0 {
		t.Fatalf("verify after repair: %v", errs)
	}
}

func flipAt(t *testing.T, path string, off int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0x5a
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// bigEvents is the first segment's size in segmentStore: three blocks,
// 19,005 events, as in the damaged files of issue 13.
const bigEvents = 2*segment.DefaultBlockRows + 2621

// segmentStore builds a store of several segments, the first of three
// blocks, and returns its contents and that segment's manifest entry.
func segmentStore(t *testing.T, dir string) (map[uint64]string, segmentMeta) {
	t.Helper()
	db := mustOpen(t, dir, Options{AllowUnregistered: true})
	want := map[uint64]string{}
	appendAll(t, db, bulk(bigEvents, "2024-01-01T00:00:00Z", 1), 5000, want)
	if err := db.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	appendAll(t, db, bulk(50, "2024-01-01T12:00:00Z", 2), 10, want)
	appendAll(t, db, bulk(50, "2024-01-02T00:00:00Z", 3), 10, want)
	if err := db.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	big := db.manifest.Segments[0]
	if len(db.manifest.Segments) < 3 || big.Events != bigEvents {
		t.Fatalf("segments %+v", db.manifest.Segments)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return want, big
}

// indexEntry returns the file offset of the block index entry of block b
// of the segment at path: where its offset and length (uvarints, FORMAT.md
// "Block index") are found after the footer's block index offset.
func indexEntry(t *testing.T, path string, b segment.SalvagedBlock) int64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	idx := binary.LittleEndian.Uint64(data[len(data)-120:])
	key := binary.AppendUvarint(binary.AppendUvarint(nil, b.Off), b.Len)
	i := bytes.Index(data[idx:], key)
	if i < 0 {
		t.Fatalf("no index entry for block at %d", b.Off)
	}
	return int64(idx) + int64(i)
}

func TestRepairSegment(t *testing.T) {
	const none, whole = -2, -1
	cases := map[string]struct {
		damage      func(t *testing.T, path string, blocks []segment.SalvagedBlock)
		quarantined bool // at open, before repair
		lostBlock   int  // none, whole (the file's range), or the block
	}{
		// Open sets it aside (its postings fail), and block 1 is lost.
		"block and index": {func(t *testing.T, path string, b []segment.SalvagedBlock) {
			flipAt(t, path, int64(b[1].Off+b[1].Len/2))
			st, _ := os.Stat(path)
			flipAt(t, path, st.Size()-121-40) // the sequence index
		}, true, 1},
		// Open cannot see block damage; Repair's live check does.
		"block only": {func(t *testing.T, path string, b []segment.SalvagedBlock) {
			flipAt(t, path, int64(b[0].Off+3))
		}, false, 0},
		// Issue 13, finding 4: 10,813 of 19,005 came back.
		"block index bit": {func(t *testing.T, path string, b []segment.SalvagedBlock) {
			flipBitAt(t, path, indexEntry(t, path, b[1])+1, 3)
		}, true, none},
		// Issue 13, finding 4: 0 of 19,005 came back.
		"footer magic": {func(t *testing.T, path string, _ []segment.SalvagedBlock) {
			st, _ := os.Stat(path)
			flipBitAt(t, path, st.Size()-4, 0)
		}, true, none},
		"footer destroyed": {func(t *testing.T, path string, _ []segment.SalvagedBlock) {
			b, _ := os.ReadFile(path)
			clear(b[len(b)-120:])
			os.WriteFile(path, b, 0o644)
		}, true, none},
		// No footer, and block 1's entry is gone: the scan finds blocks 0
		// and 2; block 1's events are counted by the sidecar.
		"footer and index entry destroyed": {func(t *testing.T, path string, blocks []segment.SalvagedBlock) {
			e := indexEntry(t, path, blocks[1])
			b, _ := os.ReadFile(path)
			clear(b[e : e+16])
			clear(b[len(b)-120:])
			os.WriteFile(path, b, 0o644)
		}, true, 1},
		"footer destroyed and block 2": {func(t *testing.T, path string, b []segment.SalvagedBlock) {
			flipAt(t, path, int64(b[2].Off+b[2].Len/2))
			st, _ := os.Stat(path)
			flipAt(t, path, st.Size()-30)
			flipAt(t, path, st.Size()-31)
		}, true, 2},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			want, big := segmentStore(t, dir)
			path := filepath.Join(dir, "segments", big.Name)
			sal, err := segment.Salvage(path, nil)
			if err != nil || len(sal.Blocks) != 3 || len(sal.Lost()) != 0 {
				t.Fatalf("salvage of a healthy file: %d blocks, %v", len(sal.Blocks), err)
			}
			c.damage(t, path, sal.Blocks)

			db := mustOpen(t, dir, Options{AllowUnregistered: true})
			if q := db.Stats().Quarantined; (len(q) == 1) != c.quarantined {
				t.Fatalf("quarantined %v at open", q)
			}
			db.Close()
			rep, err := Repair(dir, RepairOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var wantLost []SeqRange
			lostFirst, lostLast := uint64(1), uint64(0)
			switch c.lostBlock {
			case none:
			case whole:
				wantLost = []SeqRange{{First: big.MinSeq, Last: big.MaxSeq, Events: big.Events}}
			default:
				b := sal.Blocks[c.lostBlock]
				wantLost = []SeqRange{{First: b.MinSeq, Last: b.MaxSeq, Events: b.Rows}}
			}
			if len(wantLost) > 0 {
				lostFirst, lostLast = wantLost[0].First, wantLost[0].Last
			}
			if rep.WAL != nil || len(rep.Segments) != 1 || rep.Segments[0].Name != big.Name ||
				!slices.Equal(rep.Lost(), wantLost) || rep.Segments[0].Recovered != big.Events-lostEvents(wantLost) {
				t.Fatalf("report %+v, want %v lost", rep, wantLost)
			}
			t.Logf("recovered %d of %d events, lost %v, corrected %q", rep.Segments[0].Recovered, big.Events, rep.Lost(), rep.Segments[0].Corrected)
			lost := func(seq uint64) bool {
				return seq >= lostFirst && seq <= lostLast && strings.HasPrefix(want[seq], "1-")
			}
			checkRestored(t, storeContents(t, dir), want, lost)
			mustVerify(t, dir)
			if _, err := os.Stat(filepath.Join(dir, repairedDir, big.Name)); err != nil {
				t.Fatalf("damaged file not kept: %v", err)
			}
			if again, err := Repair(dir, RepairOptions{}); err != nil || !again.Clean() {
				t.Fatalf("second repair: %+v, %v", again, err)
			}
		})
	}
}

func lostEvents(rs []SeqRange) int {
	n := 0
	for _, r := range rs {
		n += r.Events
	}
	return n
}

func flipBitAt(t *testing.T, path string, off int64, bit int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 1 << bit
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A crash after the manifest listed the salvaged segments but before the
// damaged file left quarantine/ must not add its events twice.
func TestRepairRerunAfterCrash(t *testing.T) {
	dir := t.TempDir()
	want, big := segmentStore(t, dir)
	path := filepath.Join(dir, "segments", big.Name)
	st, _ := os.Stat(path)
	flipAt(t, path, st.Size()-121-5)
	db := mustOpen(t, dir, Options{AllowUnregistered: true})
	db.Close()
	if _, err := Repair(dir, RepairOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{big.Name, big.Name + sidecarExt} {
		if err := os.Rename(filepath.Join(dir, repairedDir, n), filepath.Join(dir, quarantineDir, n)); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := Repair(dir, RepairOptions{})
	if err != nil || len(rep.Segments) != 1 || rep.Segments[0].Recovered != big.Events {
		t.Fatalf("rerun: %+v, %v", rep, err)
	}
	checkRestored(t, storeContents(t, dir), want, func(uint64) bool { return false })
	mustVerify(t, dir)
}

// walRecords returns the offsets of the records of a healthy log file:
// after its 16-byte file header, each record is a 24-byte header and its
// payload (FORMAT.md).
func walRecords(t *testing.T, path string) (offs []int64, recs []wal.Record) {
	t.Helper()
	alone := t.TempDir()
	data, err := os.ReadFile(path)
	if err == nil {
		err = os.WriteFile(filepath.Join(alone, filepath.Base(path)), data, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
	off := int64(16)
	damage, err := wal.Salvage(vfs.OS{}, alone, nil, func(r wal.Record) error {
		offs, recs = append(offs, off), append(recs, r)
		off += walRecHeaderLen + int64(len(r.Payload))
		return nil
	})
	if err != nil || len(damage) > 0 {
		t.Fatalf("%s: %v, damage %+v", path, err, damage)
	}
	return offs, recs
}

// walRecHeaderLen is the size of a WAL record's header (FORMAT.md).
const walRecHeaderLen = 24

// crashClone copies dir to a new directory while a DB has it open, as a
// crash would leave it (every append was fsynced).
func crashClone(t *testing.T, dir string) string {
	t.Helper()
	clone := t.TempDir()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.Name() == lockFile {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(clone, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(clone, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return clone
}

func TestRepairWAL(t *testing.T) {
	src := t.TempDir()
	db := mustOpen(t, src, Options{AllowUnregistered: true, WALMaxFileBytes: 512})
	want := map[uint64]string{}
	appendAll(t, db, bulk(60, "2024-03-01T00:00:00Z", 1), 3, want)
	dir := crashClone(t, src)
	db.Close()

	files, _ := filepath.Glob(filepath.Join(dir, "wal", "*.wal"))
	if len(files) < 3 {
		t.Fatalf("want several log files, have %v", files)
	}
	offs, recs := walRecords(t, files[0])
	if len(recs) < 4 {
		t.Fatalf("want several records in %s, have %d", files[0], len(recs))
	}
	bad := recs[2]
	flipAt(t, files[0], offs[2]+walRecHeaderLen+2) // the third record's payload

	_, err := Open(dir, Options{AllowUnregistered: true})
	if !errors.Is(err, wal.ErrCorrupt) || !strings.Contains(err.Error(), files[0]) {
		t.Fatalf("open of a damaged WAL: %v", err)
	}
	rep, err := Repair(dir, RepairOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("report: %+v", *rep.WAL)
	wantLost := SeqRange{First: recs[1].FirstSeq + uint64(recs[1].Count), Last: recs[3].FirstSeq - 1, Events: -1}
	if rep.WAL == nil || len(rep.Segments) != 0 || !slices.Equal(rep.Lost(), []SeqRange{wantLost}) ||
		rep.WAL.Damage[0].File != files[0] || rep.WAL.Damage[0].Offset != offs[2] || rep.WAL.Recovered != len(want)-int(bad.Count) {
		t.Fatalf("report %+v, want %s lost at %s:%d", rep.WAL, wantLost, files[0], offs[2])
	}
	lost := func(seq uint64) bool { return seq >= bad.FirstSeq && seq < bad.FirstSeq+uint64(bad.Count) }
	checkRestored(t, storeContents(t, dir), want, lost)
	mustVerify(t, dir)

	// New appends continue after every recovered number.
	db = mustOpen(t, dir, Options{AllowUnregistered: true})
	res, err := db.Append(ctx, ev("p", "a", "2024-03-02T00:00:00Z"))
	if err != nil || res.FirstSeq <= recs[len(recs)-1].FirstSeq || res.FirstSeq <= maxKey(want) {
		t.Fatalf("append after repair: %+v, %v", res, err)
	}
}

func maxKey(m map[uint64]string) uint64 {
	var k uint64
	for s := range m {
		k = max(k, s)
	}
	return k
}

func TestRepairHealthyAndLocked(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir, Options{AllowUnregistered: true})
	want := map[uint64]string{}
	appendAll(t, db, bulk(10, "2024-03-01T00:00:00Z", 1), 3, want)
	if _, err := Repair(dir, RepairOptions{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("repair of an open directory: %v", err)
	}
	db.Close()
	rep, err := Repair(dir, RepairOptions{})
	if err != nil || !rep.Clean() {
		t.Fatalf("repair of a healthy directory: %+v, %v", rep, err)
	}
	checkRestored(t, storeContents(t, dir), want, func(uint64) bool { return false })
	if _, err := Repair(filepath.Join(dir, "missing"), RepairOptions{}); err == nil {
		t.Fatal("repair of a missing directory succeeded")
	}
}

// A live segment whose file vanished is dropped and reported lost.
func TestRepairMissingSegment(t *testing.T) {
	dir := t.TempDir()
	want, big := segmentStore(t, dir)
	if err := os.Remove(filepath.Join(dir, "segments", big.Name)); err != nil {
		t.Fatal(err)
	}
	rep, err := Repair(dir, RepairOptions{})
	wantLost := SeqRange{First: big.MinSeq, Last: big.MaxSeq, Events: big.Events}
	if err != nil || !slices.Equal(rep.Lost(), []SeqRange{wantLost}) {
		t.Fatalf("report %+v, %v; want %s lost", rep, err, wantLost)
	}
	checkRestored(t, storeContents(t, dir), want, func(seq uint64) bool { return strings.HasPrefix(want[seq], "1-") })
	mustVerify(t, dir)
}
