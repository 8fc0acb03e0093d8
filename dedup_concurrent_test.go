package eventlog

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/vfs"
	"github.com/eventlogdb/eventlog/query"
)

// concurrentAnswer is one appender's answer for one event it sent.
type concurrentAnswer struct {
	ev   Event // as sent
	item AppendedItem
}

// TestDedupConcurrentModel runs appenders concurrently, each sending
// batches whose client ids overlap the others' (some with different
// content), under SyncAlways (so their fsyncs are grouped) or SyncNone.
// Afterwards every id is stored exactly once; exactly one answer per id
// says Created, with the seq it is stored under and the content stored;
// every other answer for the id names that seq, Duplicate when its event
// equals the stored one and Conflict when it differs. The expectations
// come from the answers and the store's contents, not from the order the
// goroutines ran in, which the test does not know.
func TestDedupConcurrentModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		sync := rapid.SampledFrom([]SyncPolicy{SyncNone, SyncAlways}).Draw(rt, "sync")
		clock := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
		db, err := Open(t.TempDir(), Options{AllowUnregistered: true, Sync: sync, Now: func() time.Time { return clock }, MaintenanceInterval: -1})
		if err != nil {
			rt.Fatalf("open: %v", err)
		}
		defer db.Close()
		writers := rapid.SliceOfN(rapid.SliceOfN(rapid.SliceOfN(rapid.Custom(genDedupEvent), 1, 5), 1, 4), 2, 4).Draw(rt, "writers")
		answers := runAppenders(rt, db, writers)
		checkConcurrentAnswers(rt, db, answers, event.DateOf(clock))
	})
}

// runAppenders appends each writer's batches in order, the writers
// concurrently (all released at once), and returns every answer. Each
// goroutine is owned here: runAppenders waits for all of them.
func runAppenders(rt *rapid.T, db *DB, writers [][][]Event) []concurrentAnswer {
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		answers []concurrentAnswer
		errs    []error
	)
	start := make(chan struct{})
	for w, batches := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for b, events := range batches {
				got, err := db.Append(ctx, events...)
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("writer %d batch %d: %w", w, b, err))
				}
				for i, e := range events {
					if err == nil {
						answers = append(answers, concurrentAnswer{ev: e, item: AppendedItem{Seq: got.Seq(i), Result: itemResult(got, i)}})
					}
				}
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(errs) > 0 {
		rt.Fatalf("appends failed: %v", errors.Join(errs...))
	}
	return answers
}

// itemResult is the result of input event i: Created when the answer has
// no items (no event of the batch had a client id).
func itemResult(a Appended, i int) AppendResult {
	if a.Items == nil {
		return Created
	}
	return a.Items[i].Result
}

// checkConcurrentAnswers checks the answers against the store: see
// TestDedupConcurrentModel.
func checkConcurrentAnswers(rt *rapid.T, db *DB, answers []concurrentAnswer, stamp event.Date) {
	byID := map[string][]concurrentAnswer{}
	anonymous := 0
	for _, a := range answers {
		if a.ev.ClientID == "" {
			if a.item.Result != Created {
				rt.Fatalf("event without a client id answered %v", a.item.Result)
			}
			anonymous++
			continue
		}
		byID[a.ev.ClientID] = append(byID[a.ev.ClientID], a)
	}
	n, err := db.Count(ctx, FindRequest{})
	if err != nil {
		rt.Fatal(err)
	}
	if n != anonymous+len(byID) {
		rt.Fatalf("store holds %d events, want %d without id and %d ids once each", n, anonymous, len(byID))
	}
	for id, as := range byID {
		res, err := db.Query(ctx, query.Request{Filter: `_id:"` + id + `"`})
		if err != nil {
			rt.Fatal(err)
		}
		if res.Total != 1 {
			rt.Fatalf("id %s stored %d times", id, res.Total)
		}
		checkIDAnswers(rt, id, res.Hits[0].Seq, res.Hits[0].Event, as, stamp)
	}
}

// checkIDAnswers checks every answer for id against the one event stored
// for it (seq, stored). An event sent without @timestamp is stored with
// the clock's (stamp), and compared with a stored one as if sent with
// the stored one's (README, "Idempotent ingest").
func checkIDAnswers(rt *rapid.T, id string, seq uint64, stored Event, as []concurrentAnswer, stamp event.Date) {
	created := 0
	for _, a := range as {
		if a.item.Seq != seq {
			rt.Fatalf("id %s: answer %v with seq %d, stored under %d", id, a.item.Result, a.item.Seq, seq)
		}
		sent := a.ev
		if sent.Timestamp.IsZero() {
			sent.Timestamp = stored.Timestamp
		}
		same := reflect.DeepEqual(sent, stored)
		switch a.item.Result {
		case Created:
			created++
			if a.ev.Timestamp.IsZero() && stored.Timestamp != stamp {
				rt.Fatalf("id %s: sent without @timestamp, stored with %v, want the clock's %v", id, stored.Timestamp, stamp)
			}
			if !same {
				rt.Fatalf("id %s: stored %s, the Created answer sent %s", id, event.AppendJSON(nil, &stored), event.AppendJSON(nil, &a.ev))
			}
		case Duplicate:
			if !same {
				rt.Fatalf("id %s: Duplicate for %s, stored %s", id, event.AppendJSON(nil, &a.ev), event.AppendJSON(nil, &stored))
			}
		case Conflict:
			if same {
				rt.Fatalf("id %s: Conflict for the stored content %s", id, event.AppendJSON(nil, &a.ev))
			}
		}
	}
	if created != 1 {
		rt.Fatalf("id %s: %d answers say Created, want 1", id, created)
	}
}

// TestDedupFailedAppendReleasesItsIDs fails the WAL write (ENOSPC) of an
// append with client ids while a second append of one of its ids, with
// different content, is under way. The failed append stores nothing; the
// second one is not told Duplicate or Conflict with a seq that was never
// stored: it stores its own event (Created). After healing, a retry of the
// failed batch stores its other id and answers Conflict for the shared one.
func TestDedupFailedAppendReleasesItsIDs(t *testing.T) {
	faulty := vfs.NewFaulty(vfs.OS{})
	db := mustOpen(t, t.TempDir(), Options{AllowUnregistered: true, FS: faulty, Sync: SyncAlways})
	inWrite, fail := make(chan struct{}), make(chan struct{})
	var failed atomic.Bool
	// Only the first WAL write fails, after blocking until told to: the
	// Faulty's lock is held meanwhile, so nothing may Heal before fail.
	faulty.FailIf(vfs.OpWrite, syscall.ENOSPC, func(path string) bool {
		if !strings.Contains(path, string(filepath.Separator)+"wal"+string(filepath.Separator)) || !failed.CompareAndSwap(false, true) {
			return false
		}
		close(inWrite)
		<-fail
		return true
	})
	first := []Event{withClientID(ev("p", "a1", "2024-05-01T00:00:00Z"), "x"), withClientID(ev("p", "a1", "2024-05-01T00:00:00Z"), "y")}
	second := withClientID(ev("p", "a2", "2024-05-01T00:00:00Z"), "x")
	firstErr := make(chan error, 1)
	go func() { _, err := db.Append(ctx, first...); firstErr <- err }()
	<-inWrite // the first holds its reservation of x and y, in its WAL write
	secondDone := make(chan Appended, 1)
	go func() {
		a, err := db.Append(ctx, second)
		if err != nil {
			t.Errorf("second append: %v", err)
		}
		secondDone <- a
	}()
	select {
	case a := <-secondDone:
		t.Fatalf("the second append answered %+v while the first's write of the same id was under way", a)
	case <-time.After(100 * time.Millisecond):
	}
	close(fail)
	if err := <-firstErr; !errors.Is(err, ErrDiskFull) || errors.Is(err, ErrOutcomeUnknown) {
		t.Fatalf("first append: %v, want a disk-full error with nothing stored", err)
	}
	var got Appended
	select {
	case got = <-secondDone:
	case <-time.After(10 * time.Second):
		t.Fatal("the second append still waits after the first failed: its reservation was not released")
	}
	if got.Items[0].Result != Created {
		t.Fatalf("second append: %+v, want Created: the first stored nothing", got)
	}
	retry, err := db.Append(ctx, first...)
	if err != nil {
		t.Fatalf("retry of the failed append: %v", err)
	}
	want := []AppendedItem{{Seq: got.Seq(0), Result: Conflict}, {Seq: retry.FirstSeq, Result: Created}}
	if !reflect.DeepEqual(retry.Items, want) {
		t.Fatalf("retry answered %+v, want %+v", retry.Items, want)
	}
	for id, action := range map[string]string{"x": "a2", "y": "a1"} {
		res, err := db.Query(ctx, query.Request{Filter: `_id:"` + id + `"`})
		if err != nil {
			t.Fatal(err)
		}
		if res.Total != 1 || res.Hits[0].Event.Event.Action != action {
			t.Fatalf("id %s: %+v, want one event of action %s", id, res.Hits, action)
		}
	}
}

func withClientID(e Event, id string) Event {
	e.ClientID = id
	return e
}
