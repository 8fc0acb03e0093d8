package eventlog

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/query"
	"github.com/eventlogdb/eventlog/segment"
)

func walFiles(t *testing.T, dir string) int {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, "wal"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".wal" {
			n++
		}
	}
	return n
}

func TestRollSealsIntoSegmentsByPartition(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir, Options{AllowUnregistered: true, WALMaxFileBytes: 1 << 10})
	days := []string{"2024-01-01T10:00:00Z", "2024-01-02T10:00:00Z", "2024-01-03T23:59:59.999Z", "2024-01-01T00:00:00Z"}
	for i := range 40 {
		e := ev("p", "a", days[i%len(days)])
		e.Message = string(rune('a' + i%26))
		if _, err := db.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	before := findAll(t, db, FindRequest{Limit: 7})
	walBefore := walFiles(t, dir)
	if err := db.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	s := db.Stats()
	if s.Segments != 3 || s.SegmentEvents != 40 || s.HeadEvents != 0 {
		t.Fatalf("after roll: %+v, want 3 segments (one per day) holding 40 events", s)
	}
	if w := walFiles(t, dir); w >= walBefore {
		t.Fatalf("WAL files %d → %d: not checkpointed", walBefore, w)
	}
	after := findAll(t, db, FindRequest{Limit: 7})
	if !sameRecords(before, after) {
		t.Fatalf("results changed after sealing:\nbefore %v\nafter  %v", seqs(before), seqs(after))
	}
	db.Close()
	db = mustOpen(t, dir, Options{AllowUnregistered: true})
	if again := findAll(t, db, FindRequest{Limit: 7}); !sameRecords(before, again) {
		t.Fatalf("results changed after reopen: %v", seqs(again))
	}
}

func sameRecords(a, b []Record) bool {
	return slices.EqualFunc(a, b, func(x, y Record) bool {
		return x.Seq == y.Seq && string(event.AppendJSON(nil, &x.Event)) == string(event.AppendJSON(nil, &y.Event))
	})
}

func TestHeadRollsBySize(t *testing.T) {
	// No background compaction: it would merge the segments this counts.
	db := mustOpen(t, t.TempDir(), Options{AllowUnregistered: true, SegmentMaxBytes: 4 << 10, MaintenanceInterval: -1})
	for range 100 {
		e := ev("p", "a", "")
		e.Message = string(make([]byte, 200))
		if _, err := db.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.waitSealed(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if s := db.Stats(); s.Segments < 3 || s.SegmentEvents+s.HeadEvents != 100 {
		t.Fatalf("stats %+v: want several segments and all 100 events", s)
	}
}

func TestHeadRollsByAge(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	db := mustOpen(t, t.TempDir(), Options{AllowUnregistered: true, SegmentMaxAge: 40 * time.Millisecond, Now: clock})
	db.Append(ctx, ev("p", "a", ""))
	if db.Stats().Segments != 0 {
		t.Fatal("rolled before the head was old")
	}
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for db.Stats().Segments == 0 {
		if time.Now().After(deadline) {
			t.Fatal("an old head was never rolled")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestHeadRollsWhenIdle: a head that has received nothing for
// SegmentIdle is rolled once it holds a sixteenth of SegmentMaxBytes, not
// before it is idle, not while it is smaller, and never with SegmentIdle
// zero (off, the default); the events it held are all still there.
func TestHeadRollsWhenIdle(t *testing.T) {
	for _, idle := range []time.Duration{40 * time.Millisecond, 0} {
		var mu sync.Mutex
		now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
		db := mustOpen(t, t.TempDir(), Options{AllowUnregistered: true, SegmentMaxBytes: 16 << 10, SegmentMaxAge: 1000 * time.Hour, SegmentIdle: idle, Now: clock})
		// The sealer looks every 10 ms (SegmentIdle/4); 300 ms is many looks.
		stillInHead := func(why string, events int) {
			t.Helper()
			time.Sleep(300 * time.Millisecond)
			if s := db.Stats(); s.Segments != 0 || s.HeadEvents != events {
				t.Fatalf("SegmentIdle %v: %s: stats %+v, want %d events in the head and no segment", idle, why, s, events)
			}
		}
		if _, err := db.Append(ctx, ev("p", "a", "")); err != nil {
			t.Fatal(err)
		}
		advance(time.Hour)
		stillInHead("idle but under a sixteenth of SegmentMaxBytes", 1)
		for range 8 {
			e := ev("p", "a", "")
			e.Message = string(make([]byte, 200))
			if _, err := db.Append(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		if hs := db.state.Load().active.Stats(); hs.Bytes < 16<<10/idleRollShare {
			t.Fatalf("the head holds %d bytes, under the idle roll's %d: the test proves nothing", hs.Bytes, 16<<10/idleRollShare)
		}
		stillInHead("big enough but not idle", 9)
		advance(39 * time.Millisecond)
		stillInHead("idle for less than SegmentIdle", 9)
		advance(time.Millisecond)
		if idle == 0 {
			advance(time.Hour)
			stillInHead("SegmentIdle off", 9)
			continue
		}
		deadline := time.Now().Add(10 * time.Second)
		for db.Stats().Segments == 0 {
			if time.Now().After(deadline) {
				t.Fatal("an idle head was never rolled")
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err := db.waitSealed(ctx, 0); err != nil {
			t.Fatal(err)
		}
		if s := db.Stats(); s.HeadEvents != 0 || s.SegmentEvents != 9 || len(findAll(t, db, FindRequest{})) != 9 {
			t.Fatalf("after the idle roll: stats %+v, want all 9 events in segments", s)
		}
	}
}

func TestDroppedSegmentLivesUntilLastReader(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir, Options{AllowUnregistered: true})
	db.Append(ctx, ev("p", "a", "2024-01-01T00:00:00Z"), ev("p", "a", "2024-01-01T00:00:01Z"))
	if err := db.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	seg := db.state.Load().segments[0]
	removed := make(chan string, 1)
	seg.onRemoved = func(name string) { removed <- name }

	v := db.acquireView() // a reader holding the segment
	if err := db.dropSegments(seg.meta.Name); err != nil {
		t.Fatal(err)
	}
	if n := len(findAll(t, db, FindRequest{})); n != 0 {
		t.Fatalf("new readers still see %d events of the dropped segment", n)
	}
	evs, err := v.segments[0].r.Events([]uint32{0, 1})
	if err != nil || len(evs) != 2 {
		t.Fatalf("the holding reader cannot read its segment: %v", err)
	}
	if _, err := os.Stat(seg.path); err != nil {
		t.Fatalf("the file went while a reader held it: %v", err)
	}
	select {
	case <-removed:
		t.Fatal("removed while held")
	default:
	}
	v.close()
	if name := <-removed; name != seg.meta.Name {
		t.Fatalf("removed %s", name)
	}
	if _, err := os.Stat(seg.path); !os.IsNotExist(err) {
		t.Fatalf("file still there after the last release: %v", err)
	}
	db.Close()
	db = mustOpen(t, dir, Options{AllowUnregistered: true})
	if n := len(findAll(t, db, FindRequest{})); n != 0 {
		t.Fatalf("a dropped segment came back after reopen with %d events", n)
	}
}

func TestLeftoversRemovedAtOpen(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir, Options{AllowUnregistered: true})
	db.Append(ctx, ev("p", "a", ""))
	db.Close()
	for _, name := range []string{"000000000099.seg", "000000000099.seg.tmp", "000000000098.seg.deleting"} {
		if err := os.WriteFile(filepath.Join(dir, "segments", name), []byte("junk"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db = mustOpen(t, dir, Options{AllowUnregistered: true})
	entries, _ := os.ReadDir(filepath.Join(dir, "segments"))
	for _, e := range entries {
		if e.Name() != db.manifest.Segments[0].Name {
			t.Fatalf("leftover %s not removed", e.Name())
		}
	}
	if n := len(findAll(t, db, FindRequest{})); n != 1 {
		t.Fatalf("%d events, want 1", n)
	}
}

func TestDamagedSegmentIsQuarantined(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir, Options{AllowUnregistered: true})
	db.Append(ctx, ev("p", "a", "2024-01-01T00:00:00Z"))
	db.Append(ctx, ev("p", "a", "2024-01-05T00:00:00Z"))
	db.Roll(ctx)
	bad := db.manifest.Segments[0].Name
	db.Close()
	path := filepath.Join(dir, "segments", bad)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-10] ^= 0xff // inside the footer
	os.WriteFile(path, data, 0o644)

	db = mustOpen(t, dir, Options{AllowUnregistered: true})
	s := db.Stats()
	if !slices.Equal(s.Quarantined, []string{bad}) || s.Segments != 1 {
		t.Fatalf("stats %+v: want %s quarantined and 1 live segment", s, bad)
	}
	if _, err := os.Stat(filepath.Join(dir, quarantineDir, bad)); err != nil {
		t.Fatalf("not moved to quarantine: %v", err)
	}
	got := findAll(t, db, FindRequest{Start: ts("2024-01-02T00:00:00Z").Time()})
	if len(got) != 1 || got[0].Event.Timestamp.String() != "2024-01-05T00:00:00Z" {
		t.Fatalf("the healthy segment is not served: %v", seqs(got))
	}
	// What reaches the quarantined segment's range says so.
	var ce *CorruptionError
	if _, err := db.Find(ctx, FindRequest{}); !errors.As(err, &ce) || ce.File != bad || ce.Block != -1 {
		t.Fatalf("find over the quarantined range: %v, want a corruption error naming %s", err, bad)
	}
	res, err := db.Query(ctx, query.Request{AllowPartial: true})
	if err != nil || res.Total != 1 || !res.Partial || len(res.Warnings) != 1 || res.Warnings[0].File != bad {
		t.Fatalf("partial query: %+v, %v", res, err)
	}
	db.Close()
	db = mustOpen(t, dir, Options{AllowUnregistered: true})
	if q := db.Stats().Quarantined; !slices.Equal(q, []string{bad}) {
		t.Fatalf("quarantined %v after reopening: the segment is still in quarantine/, unrepaired", q)
	}
	db.Close()
	if _, err := Repair(dir, RepairOptions{}); err != nil {
		t.Fatal(err)
	}
	db = mustOpen(t, dir, Options{AllowUnregistered: true})
	if q := db.Stats().Quarantined; len(q) != 0 {
		t.Fatalf("quarantined %v after repair", q)
	}
}

// TestAppendStopsWhenSealingFallsBehind fails every segment write: heads
// pile up to MaxFrozenHeads, then Append refuses with the sealing error
// instead of growing memory; once the disk works again, sealing catches up
// and appends go on.
func TestAppendStopsWhenSealingFallsBehind(t *testing.T) {
	faulty := vfs.NewFaulty(vfs.OS{})
	db := mustOpen(t, t.TempDir(), Options{AllowUnregistered: true, SegmentMaxBytes: 1 << 10, MaxFrozenHeads: 2, FS: faulty})
	faulty.FailIf(vfs.OpCreate, syscall.ENOSPC, func(path string) bool { return strings.Contains(path, "segments") })
	big := ev("p", "a", "")
	big.Message = string(make([]byte, 2<<10)) // every append fills a head
	var err error
	for i := 0; i < 50 && err == nil; i++ {
		_, err = db.Append(ctx, big)
	}
	if !errors.Is(err, errSealing) || !errors.Is(err, syscall.ENOSPC) || !errors.Is(err, ErrDiskFull) {
		t.Fatalf("append with sealing failing: %v, want the sealing error, as a full disk", err)
	}
	if s := db.Stats(); s.FrozenHeads > 2 || s.SealError == "" || s.DiskFull == "" {
		t.Fatalf("stats %+v: want at most 2 frozen heads, the seal error and the disk full", s)
	}
	faulty.Heal(vfs.OpCreate)
	deadline := time.Now().Add(20 * time.Second)
	for db.Stats().FrozenHeads > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("sealing never caught up: %+v", db.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := db.Append(ctx, big); err != nil {
		t.Fatalf("append after recovery: %v", err)
	}
	if s := db.Stats(); s.DiskFull != "" {
		t.Fatalf("Stats.DiskFull = %q once sealing caught up, want empty", s.DiskFull)
	}
}

// TestBlockDamagedAfterOpenFailsTheQuery damages a block of a live segment
// under the running store: the query that reads it fails naming the file
// and the block, instead of answering wrongly.
func TestBlockDamagedAfterOpenFailsTheQuery(t *testing.T) {
	dir := t.TempDir()
	db := mustOpen(t, dir, Options{AllowUnregistered: true})
	for i := range 50 {
		e := ev("p", "a", fmt.Sprintf("2024-01-01T00:00:%02dZ", i))
		e.Message = fmt.Sprintf("event %d", i)
		db.Append(ctx, e)
	}
	if err := db.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	name := db.manifest.Segments[0].Name
	f, err := os.OpenFile(filepath.Join(dir, "segments", name), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	// Blocks follow the 8-byte header; flip a run of bytes in the first.
	buf := make([]byte, 16)
	f.ReadAt(buf, 8)
	for i := range buf {
		buf[i] ^= 0x5a
	}
	f.WriteAt(buf, 8)
	f.Close()
	_, err = db.Find(ctx, FindRequest{})
	if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "block 0") || !errors.Is(err, segment.ErrCorrupt) {
		t.Fatalf("find over a damaged block: %v, want an error naming %s and block 0", err, name)
	}
	if problems := Verify(dir); len(problems) == 0 {
		t.Fatal("verify found nothing wrong")
	}
}

func TestSegmentsListsLiveSegments(t *testing.T) {
	db, err := Open(t.TempDir(), Options{AllowUnregistered: true, Sync: SyncNone})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ev Event
	ev.Event.Provider, ev.Event.Action = "p", "a"
	for i, ts := range []string{"2024-05-01T10:00:00Z", "2024-05-01T09:00:00Z"} {
		d, err := event.ParseDate(ts)
		if err != nil {
			t.Fatal(err)
		}
		ev.Timestamp = d
		if _, err := db.Append(ctx, ev, ev); err != nil {
			t.Fatal(err)
		}
		if err := db.Roll(ctx); err != nil {
			t.Fatal(err)
		}
		segs := db.Segments()
		if len(segs) != i+1 {
			t.Fatalf("after roll %d: %d segments", i+1, len(segs))
		}
		s := segs[i]
		if s.Events != 2 || s.MinSeq != uint64(2*i+1) || s.MaxSeq != uint64(2*i+2) || !s.MinTS.Equal(d.Time()) || !s.MaxTS.Equal(d.Time()) || s.Bytes <= 0 {
			t.Fatalf("segment %d: %+v", i, s)
		}
	}
}
