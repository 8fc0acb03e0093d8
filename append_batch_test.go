package eventlog

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
)

// TestBatchModel checks a Batch against a simple model: events given in
// parts of any size, some invalid (too long a message) and some with a
// client id, are reported exactly where the model says, and Commit stores
// the others, and only those, in the order given, under consecutive
// sequence numbers, durably (they are there after a reopen).
func TestBatchModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		dir, err := os.MkdirTemp("", "batch-model")
		if err != nil {
			rt.Fatal(err)
		}
		defer os.RemoveAll(dir)
		opts := Options{AllowUnregistered: true, Limits: event.Limits{MaxStringBytes: 10}}
		db, err := Open(dir, opts)
		if err != nil {
			rt.Fatal(err)
		}
		defer func() { db.Close() }()

		kinds := rapid.SliceOfN(rapid.IntRange(0, 5), 1, 60).Draw(rt, "kinds") // 0: invalid, 1: client id, else valid
		var want []string                                                      // messages stored, in order
		bt := db.NewBatch(rapid.IntRange(0, 100).Draw(rt, "hint"))
		defer bt.Release()
		for start := 0; start < len(kinds); {
			n := rapid.IntRange(1, len(kinds)-start).Draw(rt, "part")
			part := make([]Event, n)
			var wantBad []int
			for i := range part {
				k, e := kinds[start+i], ev("p", "a", fmt.Sprintf("2024-05-01T00:%02d:00Z", start+i))
				e.Message = fmt.Sprint(start + i)
				switch k {
				case 0:
					e.Message = strings.Repeat("x", 11)
					wantBad = append(wantBad, i)
				case 1:
					e.ClientID = "id"
					wantBad = append(wantBad, i)
				default:
					want = append(want, e.Message)
				}
				part[i] = e
			}
			bad := bt.Add(part...)
			var gotBad []int
			for _, it := range bad {
				gotBad = append(gotBad, it.Index)
				if (kinds[start+it.Index] == 1) != errors.Is(it.Err, ErrBatchClientID) {
					rt.Fatalf("item %d with a client id: %v", it.Index, it.Err)
				}
			}
			if !slices.Equal(gotBad, wantBad) {
				rt.Fatalf("part at %d: refused %v, want %v", start, gotBad, wantBad)
			}
			clear(part) // the batch must not depend on the caller's events
			start += n
		}
		if bt.Len() != len(want) {
			rt.Fatalf("Len %d, want %d", bt.Len(), len(want))
		}
		a, err := bt.Commit(ctx)
		if err != nil {
			rt.Fatal(err)
		}
		if a.Count != len(want) || len(want) > 0 && a.FirstSeq != 1 {
			rt.Fatalf("appended %+v, want %d events from seq 1", a, len(want))
		}
		if err := db.Close(); err != nil {
			rt.Fatal(err)
		}
		if db, err = Open(dir, opts); err != nil {
			rt.Fatal(err)
		}
		var got []string
		for i, r := range findAll(t, db, FindRequest{Limit: MaxLimit}) {
			if r.Seq != uint64(i+1) {
				rt.Fatalf("record %d has seq %d", i, r.Seq)
			}
			got = append(got, r.Event.Message)
		}
		if !slices.Equal(got, want) {
			rt.Fatalf("stored %q, want %q", got, want)
		}
	})
}

// TestBatchReleasedStoresNothing: a Batch released without Commit stores
// nothing, and one committed cannot be committed again.
func TestBatchReleasedStoresNothing(t *testing.T) {
	db := mustOpen(t, t.TempDir(), Options{AllowUnregistered: true})
	bt := db.NewBatch(2)
	if bad := bt.Add(ev("p", "a", ""), ev("p", "a", "")); bad != nil {
		t.Fatalf("refused %v", bad)
	}
	bt.Release()
	bt.Release()
	if n := db.Stats().HeadEvents; n != 0 {
		t.Fatalf("a released batch stored %d events", n)
	}
	bt = db.NewBatch(0)
	bt.Add(ev("p", "a", ""))
	if a, err := bt.Commit(ctx); err != nil || a.Count != 1 {
		t.Fatalf("commit: %+v, %v", a, err)
	}
	if _, err := bt.Commit(ctx); err == nil {
		t.Fatal("a second Commit succeeded")
	}
	if bad := bt.Add(ev("p", "a", "")); len(bad) != 1 || !errors.Is(bad[0].Err, errBatchDone) {
		t.Fatalf("Add after Commit: %v", bad)
	}
	if n := db.Stats().HeadEvents; n != 1 {
		t.Fatalf("%d events stored, want 1", n)
	}
}

// TestBatchAddDecodedChecks: AddDecoded skips only what decoding under
// limits within the DB's checked. An event decoded under looser limits is
// validated against the DB's and refused; an unregistered pair and an
// event too far in the future are refused whatever the limits; the rest
// are stored as Add stores them.
func TestBatchAddDecodedChecks(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	db := mustOpen(t, t.TempDir(), Options{Limits: event.Limits{MaxStringBytes: 24},
		MaxFutureSkew: time.Hour, Now: func() time.Time { return now }})
	if err := db.RegisterProviderActions("p", "a"); err != nil {
		t.Fatal(err)
	}
	decode := func(doc string, lim event.Limits) Event {
		t.Helper()
		e, err := event.DecodeWith([]byte(doc), event.DecodeOptions{Limits: lim})
		if err != nil {
			t.Fatalf("decode %s: %v", doc, err)
		}
		return e
	}
	const long = `{"@timestamp":"2024-05-01T00:00:00Z","event":{"provider":"p","action":"a"},"message":"0123456789abcdefghijklmnx"}`
	const fits = `{"@timestamp":"2024-05-01T00:00:00Z","event":{"provider":"p","action":"a"},"message":"0123456789abcdefghijklmn"}`
	const unregistered = `{"@timestamp":"2024-05-01T00:00:00Z","event":{"provider":"p","action":"b"}}`
	const future = `{"@timestamp":"2024-05-01T14:00:00Z","event":{"provider":"p","action":"a"}}`
	strict := event.Limits{MaxStringBytes: 24}
	bt := db.NewBatch(0)
	defer bt.Release()
	bad := bt.AddDecoded(event.Limits{}, decode(long, event.Limits{}), decode(fits, event.Limits{}))
	if len(bad) != 1 || bad[0].Index != 0 || !errors.Is(bad[0].Err, event.ErrLimit) {
		t.Fatalf("under looser limits: refused %v, want the long message (a limit error)", bad)
	}
	bad = bt.AddDecoded(strict, decode(fits, strict), decode(unregistered, strict), decode(future, strict))
	if len(bad) != 2 || bad[0].Index != 1 || bad[1].Index != 2 {
		t.Fatalf("under the DB's limits: refused %v, want the unregistered pair and the future event", bad)
	}
	a, err := bt.Commit(ctx)
	if err != nil || a.Count != 2 {
		t.Fatalf("commit: %+v, %v; want the two events that fit", a, err)
	}
	stored := findAll(t, db, FindRequest{})
	if len(stored) != 2 {
		t.Fatalf("%d events stored, want 2", len(stored))
	}
	for _, r := range stored {
		if r.Event.Message != "0123456789abcdefghijklmn" {
			t.Fatalf("stored message %q", r.Event.Message)
		}
	}
}
