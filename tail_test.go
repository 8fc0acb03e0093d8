package eventlog

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/event"
)

func tailEvent(i int) Event {
	var ev Event
	ev.Event.Provider, ev.Event.Action = "p", fmt.Sprint("a", i%3)
	ev.Message = fmt.Sprint("event ", i)
	// Timestamps go backwards now and then, so time order is not
	// sequence order and seals split heads into several partitions.
	d, _ := event.ParseDate(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration((i*7919)%1000) * time.Hour).Format(time.RFC3339))
	ev.Timestamp = d
	return ev
}

// collectTail reads a tail in a goroutine until it has n records or fails.
func collectTail(t *testing.T, db *DB, req TailRequest, n int) (<-chan []Record, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	seq, err := db.Tail(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan []Record, 1)
	go func() {
		var got []Record
		for r, err := range seq {
			if err != nil {
				t.Errorf("tail: %v", err)
				break
			}
			got = append(got, r)
			if len(got) == n {
				break
			}
		}
		out <- got
	}()
	return out, cancel
}

func checkSeqs(t *testing.T, got []Record, want []uint64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("tail gave %d records, want %d", len(got), len(want))
	}
	for i, r := range got {
		if r.Seq != want[i] || r.ID != IDOf(want[i]) {
			t.Fatalf("record %d: seq %d (%s), want %d", i, r.Seq, r.ID, want[i])
		}
	}
}

// TestTailStoredThenLiveAcrossSeals: a tail from the beginning yields the
// stored events, then the ones appended while it waits, each once and in
// sequence order, while heads seal into segments (some split by time
// partition) underneath.
func TestTailStoredThenLiveAcrossSeals(t *testing.T) {
	db, err := Open(t.TempDir(), Options{AllowUnregistered: true, Sync: SyncAlways, Partition: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const stored, live = 300, 2000
	appendN := func(from, n int) {
		for i := from; i < from+n; i += 50 {
			batch := make([]Event, 0, 50)
			for j := i; j < min(i+50, from+n); j++ {
				batch = append(batch, tailEvent(j))
			}
			if _, err := db.Append(ctx, batch...); err != nil {
				t.Error(err)
				return
			}
			if i%400 == 0 {
				if err := db.Roll(ctx); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}
	appendN(0, stored)
	got, cancel := collectTail(t, db, TailRequest{}, stored+live)
	defer cancel()
	appendN(stored, live)
	want := make([]uint64, stored+live)
	for i := range want {
		want[i] = uint64(i + 1)
	}
	checkSeqs(t, <-got, want)
	if db.Stats().Segments < 2 {
		t.Fatalf("only %d segments: the test did not tail across seals", db.Stats().Segments)
	}
}

func TestTailFromFilterAndNow(t *testing.T) {
	db, err := Open(t.TempDir(), Options{AllowUnregistered: true, Sync: SyncAlways})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i := range 30 {
		if _, err := db.Append(ctx, tailEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	// From 20, only action a1 (events 1, 4, 7, ... have seq i+1).
	got, cancel := collectTail(t, db, TailRequest{From: 20, Filter: "event.action:a1"}, 4)
	defer cancel()
	checkSeqs(t, <-got, []uint64{20, 23, 26, 29})

	now, cancelNow := collectTail(t, db, TailRequest{FromNow: true, From: 1}, 2)
	defer cancelNow()
	for i := 30; i < 32; i++ {
		if _, err := db.Append(ctx, tailEvent(i)); err != nil {
			t.Fatal(err)
		}
	}
	checkSeqs(t, <-now, []uint64{31, 32})

	if _, err := db.Tail(ctx, TailRequest{Filter: "event.action:"}); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("bad filter: %v", err)
	}
}

// TestTailWaitsForDurability: under SyncInterval an event is yielded only
// once the background fsync has made it durable.
func TestTailWaitsForDurability(t *testing.T) {
	db, err := Open(t.TempDir(), Options{AllowUnregistered: true, Sync: SyncInterval, SyncInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Append(ctx, tailEvent(0), tailEvent(1)); err != nil {
		t.Fatal(err)
	}
	if v := db.visibleSeq(); v != 0 {
		t.Fatalf("visible seq %d before any fsync", v)
	}
	got, cancel := collectTail(t, db, TailRequest{}, 2)
	defer cancel()
	if err := db.wal.Sync(); err != nil {
		t.Fatal(err)
	}
	checkSeqs(t, <-got, []uint64{1, 2})
}

func TestTailEndsOnCancelAndClose(t *testing.T) {
	db, err := Open(t.TempDir(), Options{AllowUnregistered: true, Sync: SyncAlways})
	if err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithCancel(ctx)
	seq, err := db.Tail(c, TailRequest{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	for r, err := range seq {
		t.Fatalf("cancelled tail yielded %+v, %v", r, err)
	}
	seq, err = db.Tail(ctx, TailRequest{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for _, err := range seq {
			done <- err
			return
		}
		done <- nil
	}()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("tail after Close: %v, want ErrClosed", err)
	}
}

func TestAppendDocument(t *testing.T) {
	ev := tailEvent(1)
	got := string(AppendDocument(nil, 42, &ev))
	want := `{"_id":"000000000000002a","_seq":42,` + string(event.AppendJSON(nil, &ev))[1:]
	if got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	if got := string(AppendDocument(nil, 1, &Event{})); got != `{"_id":"0000000000000001","_seq":1}` {
		t.Fatalf("empty event: %s", got)
	}
	if IDOf(0xabc) != "0000000000000abc" || IDOf(^uint64(0)) != "ffffffffffffffff" {
		t.Fatalf("IDOf: %s %s", IDOf(0xabc), IDOf(^uint64(0)))
	}
}

// TestTailAfterReopen: events sealed before a Close are durable after the
// next Open even though no WAL file is left to replay.
func TestTailAfterReopen(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{AllowUnregistered: true, Sync: SyncAlways})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Append(ctx, tailEvent(0), tailEvent(1), tailEvent(2)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(dir, Options{AllowUnregistered: true, Sync: SyncAlways})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, cancel := collectTail(t, db, TailRequest{}, 3)
	defer cancel()
	checkSeqs(t, <-got, []uint64{1, 2, 3})
}

// TestTailManyWindowsOfLateEvents: a tail far behind reads segments window
// after window (tailWindow sequence numbers each); with events stamped out
// of arrival order, rows due in later windows sit in earlier blocks. Every
// event must come once, in sequence order, with its own content, while a
// compaction and a delete change the segments between windows.
func TestTailManyWindowsOfLateEvents(t *testing.T) {
	db := mustOpen(t, t.TempDir(), Options{AllowUnregistered: true, MaintenanceInterval: -1})
	r := rand.New(rand.NewPCG(7, 7))
	base := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	const total = 3*tailWindow + 1234
	want := map[uint64]string{}
	for n := 0; n < total; {
		batch := make([]Event, min(1000, total-n))
		for i := range batch {
			e := ev("p", "a", "")
			// Mostly in order, one in five up to an hour late.
			at := base.Add(time.Duration(n+i) * 100 * time.Millisecond)
			if r.IntN(5) == 0 {
				at = at.Add(-time.Duration(r.IntN(3600)) * time.Second)
			}
			e.Timestamp = event.DateOf(at)
			e.Message = fmt.Sprintf("m-%d", n+i)
			e.Event.ID = fmt.Sprint(n + i)
			batch[i] = e
		}
		res, err := db.Append(ctx, batch...)
		if err != nil {
			t.Fatal(err)
		}
		for i := range batch {
			want[res.Seq(i)] = batch[i].Message
		}
		n += len(batch)
		if n%5000 < 1000 { // several overlapping segments, the rest in the head
			if err := db.Roll(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	c, cancel := context.WithCancel(ctx)
	defer cancel()
	seq, err := db.Tail(c, TailRequest{})
	if err != nil {
		t.Fatal(err)
	}
	top := db.Stats().LastSeq
	var last uint64
	got, changed := 0, false
	for rec, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		if rec.Seq <= last {
			t.Fatalf("seq %d after %d", rec.Seq, last)
		}
		last = rec.Seq
		if rec.Seq > top { // the delete's own record
			break
		}
		if want[rec.Seq] != rec.Event.Message {
			t.Fatalf("seq %d: message %q, want %q", rec.Seq, rec.Event.Message, want[rec.Seq])
		}
		got++
		if got == tailWindow+10 && !changed { // mid-walk: segments change under the tail
			changed = true
			if _, err := db.Compact(ctx); err != nil {
				t.Fatal(err)
			}
			res, err := db.Delete(ctx, DeleteRequest{Filter: "event.id:20000"})
			if err != nil || res.Deleted != 1 {
				t.Fatalf("delete: %+v, %v", res, err)
			}
			for s, m := range want {
				if m == "m-20000" {
					delete(want, s)
				}
			}
		}
		if got == len(want) {
			break
		}
	}
	if got != len(want) {
		t.Fatalf("tail gave %d events, want %d", got, len(want))
	}
}
