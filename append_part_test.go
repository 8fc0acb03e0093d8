package eventlog

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/wal"
)

// TestBatchPartsLikeAdd checks BatchPart against Batch.Add as the model:
// the same events, some invalid (too long a message, an unregistered
// action, too far in the future, a client id) and some without
// @timestamp, given to parts of any size filled by goroutines at once
// and joined in order, are refused with the same errors, and make the
// same WAL record, integrity digests and head postings as Add makes of
// them one part after another.
func TestBatchPartsLikeAdd(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	db := mustOpen(t, t.TempDir(), Options{Integrity: true, Limits: event.Limits{MaxStringBytes: 10},
		MaxFutureSkew: time.Hour, Now: func() time.Time { return now }})
	if err := db.RegisterProviderActions("p", "a", "b"); err != nil {
		t.Fatal(err)
	}
	rapid.Check(t, func(rt *rapid.T) {
		// Under the DB's limits (decoded events: a decoder would have
		// refused a long message) or looser ones.
		lim := rapid.SampledFrom([]event.Limits{{}, {MaxStringBytes: 10}}).Draw(rt, "limits")
		longest := 11
		if lim.MaxStringBytes > 0 {
			longest = lim.MaxStringBytes
		}
		events := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) Event { return drawPartEvent(t, longest) }), 1, 80).Draw(rt, "events")
		model := db.NewBatch(0)
		defer model.Release()
		wantBad := errorsByItem(model.Add(events...), 0)
		bt := db.NewBatch(0)
		defer bt.Release()
		var gotBad map[int]string
		for start := 0; start < len(events); {
			n := rapid.IntRange(1, len(events)-start).Draw(rt, "part")
			bad := addInParts(bt, lim, events[start:start+n], rapid.IntRange(1, 3).Draw(rt, "goroutines"))
			for i, err := range bad {
				if gotBad == nil {
					gotBad = map[int]string{}
				}
				gotBad[start+i] = err
			}
			start += n
		}
		if fmt.Sprint(gotBad) != fmt.Sprint(wantBad) {
			rt.Fatalf("parts refused %v, Add %v", gotBad, wantBad)
		}
		if bt.Len() != model.Len() {
			rt.Fatalf("Len %d, Add's %d", bt.Len(), model.Len())
		}
		if !bytes.Equal(bt.b.rec[wal.HeaderRoom:], model.b.rec[wal.HeaderRoom:]) {
			rt.Fatalf("the parts' record differs from Add's")
		}
		if !slices.Equal(bt.b.digests, model.b.digests) || len(bt.b.digests) != bt.Len() {
			rt.Fatalf("%d digests, Add's %d, for %d events", len(bt.b.digests), len(model.b.digests), bt.Len())
		}
		checkSamePostings(rt, db, model, bt)
	})
}

// drawPartEvent draws an event for TestBatchPartsLikeAdd: valid or not in
// each of the ways Add checks, its message at most longest bytes.
func drawPartEvent(t *rapid.T, longest int) Event {
	e := ev("p", rapid.SampledFrom([]string{"a", "b", "c"}).Draw(t, "action"), "")
	switch rapid.IntRange(0, 4).Draw(t, "when") {
	case 0: // none: stamped with the batch's arrival time
	case 1:
		e.Timestamp = ts("2024-05-01T14:00:00Z") // past MaxFutureSkew
	default:
		e.Timestamp = ts(fmt.Sprintf("2024-05-01T00:%02d:00Z", rapid.IntRange(0, 59).Draw(t, "minute")))
	}
	e.Message = strings.Repeat("m", rapid.IntRange(0, longest).Draw(t, "message")) // 11: over the DB's limit
	if rapid.IntRange(0, 9).Draw(t, "client id") == 0 {
		e.ClientID = "id"
	}
	return e
}

// addInParts adds events to bt through parts of about equal size, one per
// goroutine, filled at once, and returns the errors of those refused by
// index into events, as text.
func addInParts(bt *Batch, lim event.Limits, events []Event, goroutines int) map[int]string {
	goroutines = min(goroutines, len(events))
	parts := make([]BatchPart, goroutines)
	errs := make([]error, len(events))
	var wg sync.WaitGroup
	for w := range parts {
		bt.StartPart(&parts[w], lim)
		lo, hi := len(events)*w/goroutines, len(events)*(w+1)/goroutines
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				e := events[i] // the part must not depend on the caller's event
				errs[i] = parts[w].Add(&e)
				e = Event{}
			}
		})
	}
	wg.Wait()
	bad := map[int]string{}
	for w := range parts {
		lo, hi := len(events)*w/goroutines, len(events)*(w+1)/goroutines
		refused := bt.AddPart(&parts[w])
		k := 0
		for i := lo; i < hi; i++ {
			if errs[i] != nil {
				bad[i] = errs[i].Error()
				continue
			}
			if len(refused) > 0 && refused[0].Index == k {
				bad[i], refused = refused[0].Err.Error(), refused[1:]
			}
			k++
		}
	}
	return bad
}

// errorsByItem returns the errors of bad by index + offset, as text (nil
// when there are none).
func errorsByItem(bad []ItemError, offset int) map[int]string {
	if len(bad) == 0 {
		return nil
	}
	out := map[int]string{}
	for _, it := range bad {
		out[offset+it.Index] = it.Err.Error()
	}
	return out
}

// checkSamePostings commits model, then bt, and checks that every action
// finds the same events (by message and @timestamp) in each.
func checkSamePostings(t *rapid.T, db *DB, model, bt *Batch) {
	am, err := model.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ab, err := bt.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"a", "b"} {
		var fromModel, fromParts []string
		for _, r := range findAllRapid(t, db, FindRequest{Terms: []Term{{Field: "event.action", Values: []string{action}}}}) {
			s := fmt.Sprintf("%s %s", r.Event.Timestamp, r.Event.Message)
			switch {
			case am.Count > 0 && r.Seq >= am.FirstSeq && r.Seq < am.FirstSeq+uint64(am.Count):
				fromModel = append(fromModel, s)
			case ab.Count > 0 && r.Seq >= ab.FirstSeq && r.Seq < ab.FirstSeq+uint64(ab.Count):
				fromParts = append(fromParts, s)
			}
		}
		slices.Sort(fromModel)
		slices.Sort(fromParts)
		if !slices.Equal(fromModel, fromParts) {
			t.Fatalf("action %s finds %q in the parts' events, %q in Add's", action, fromParts, fromModel)
		}
	}
}

// findAllRapid is findAll for a rapid property.
func findAllRapid(t *rapid.T, db *DB, req FindRequest) []Record {
	req.Limit = MaxLimit
	var out []Record
	for {
		it, err := db.Find(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		for it.Next() {
			out = append(out, *it.Record())
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
		req.Cursor = it.Cursor()
		it.Close()
		if req.Cursor == "" {
			return out
		}
	}
}

// TestBatchPartPastMaxBatch: AddPart refuses the events past the limit of
// one batch, by their index in the part, and adds those before it.
func TestBatchPartPastMaxBatch(t *testing.T) {
	db := mustOpen(t, t.TempDir(), Options{AllowUnregistered: true})
	bt := db.NewBatch(0)
	defer bt.Release()
	if bad := bt.Add(ev("p", "a", "2024-05-01T00:00:00Z")); bad != nil {
		t.Fatal(bad)
	}
	var p BatchPart
	bt.StartPart(&p, event.Limits{})
	e := ev("p", "a", "2024-05-01T00:00:01Z")
	for range maxBatch {
		if err := p.Add(&e); err != nil {
			t.Fatal(err)
		}
	}
	bad := bt.AddPart(&p)
	if len(bad) != 1 || bad[0].Index != maxBatch-1 || bt.Len() != maxBatch {
		t.Fatalf("refused %d (first %v), batch holds %d; want the part's last event refused, %d held",
			len(bad), bad[:min(len(bad), 1)], bt.Len(), maxBatch)
	}
	bt.Release()
	p.Drop()
	bt.StartPart(&p, event.Limits{}) // a released batch takes nothing
	if err := p.Add(&e); err != nil {
		t.Fatal(err)
	}
	if bad := bt.AddPart(&p); len(bad) != 1 || !errors.Is(bad[0].Err, errBatchDone) {
		t.Fatalf("AddPart after Release: %v", bad)
	}
}
