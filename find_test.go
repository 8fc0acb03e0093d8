package eventlog

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/event"
)

func TestFindOrderRangeAndCursor(t *testing.T) {
	db := mustOpen(t, t.TempDir(), Options{AllowUnregistered: true})
	// Out of arrival order, with a timestamp tie broken by sequence.
	whens := []string{"2024-01-01T00:00:03Z", "2024-01-01T00:00:01Z", "2024-01-01T00:00:02Z", "2024-01-01T00:00:01Z", "2024-01-01T01:00:01+01:00"}
	for _, w := range whens {
		if _, err := db.Append(ctx, ev("p", "a", w)); err != nil {
			t.Fatal(err)
		}
	}
	// The last one is 00:00:01Z written with an offset: seqs 2, 4, 5 tie.
	asc := seqs(findAll(t, db, FindRequest{Limit: 2}))
	if want := []uint64{2, 4, 5, 3, 1}; !slices.Equal(asc, want) {
		t.Fatalf("ascending = %v, want %v", asc, want)
	}
	desc := seqs(findAll(t, db, FindRequest{Limit: 2, Order: Descending}))
	if want := []uint64{1, 3, 5, 4, 2}; !slices.Equal(desc, want) {
		t.Fatalf("descending = %v, want %v", desc, want)
	}
	// Both ends inclusive.
	r := seqs(findAll(t, db, FindRequest{Start: ts("2024-01-01T00:00:02Z").Time(), End: ts("2024-01-01T00:00:03Z").Time()}))
	if want := []uint64{3, 1}; !slices.Equal(r, want) {
		t.Fatalf("range = %v, want %v", r, want)
	}
	got := findAll(t, db, FindRequest{Start: ts("2024-01-01T00:00:01Z").Time(), End: ts("2024-01-01T00:00:01Z").Time()})
	if len(got) != 3 || got[2].Event.Timestamp.String() != "2024-01-01T01:00:01+01:00" {
		t.Fatalf("a one-instant range gave %v", seqs(got))
	}
}

func TestCursorContinuesAcrossAppends(t *testing.T) {
	db := mustOpen(t, t.TempDir(), Options{AllowUnregistered: true})
	for i := range 4 {
		db.Append(ctx, ev("p", "a", fmt.Sprintf("2024-01-01T00:00:0%dZ", i*2)))
	}
	it, err := db.Find(ctx, FindRequest{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	cur := it.Cursor()
	// An event sorting before the cursor must not appear on the next page;
	// one after it must.
	db.Append(ctx, ev("p", "a", "2024-01-01T00:00:01Z"), ev("p", "a", "2024-01-01T00:00:03Z"))
	rest := findAll(t, db, FindRequest{Limit: 2, Cursor: cur})
	var got []string
	for _, r := range rest {
		got = append(got, r.Event.Timestamp.String())
	}
	want := []string{"2024-01-01T00:00:03Z", "2024-01-01T00:00:04Z", "2024-01-01T00:00:06Z"}
	if !slices.Equal(got, want) {
		t.Fatalf("next pages = %v, want %v", got, want)
	}
	if _, err := db.Find(ctx, FindRequest{Cursor: cur, Order: Descending}); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("cursor with the other order: %v", err)
	}
	if _, err := db.Find(ctx, FindRequest{Cursor: "garbage!"}); !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("garbage cursor: %v", err)
	}
}

func ref(rel, ns, typ, id string) event.SavedObject {
	return event.SavedObject{Rel: rel, Namespace: ns, Type: typ, ID: id}
}

func TestFindTermsAndRefs(t *testing.T) {
	db := mustOpen(t, t.TempDir(), Options{AllowUnregistered: true})
	mk := func(provider, outcome string, refs ...event.SavedObject) Event {
		e := ev(provider, "execute", "")
		e.Event.Outcome = outcome
		e.Kibana.SavedObjects = refs
		return e
	}
	db.Append(ctx,
		mk("alerting", "success", ref("primary", "", "alert", "A"), ref("", "", "action", "B")), // 1
		mk("alerting", "failure", ref("primary", "s1", "alert", "A")),                           // 2
		mk("actions", "failure", ref("primary", "default", "action", "B")),                      // 3
		mk("actions", "success", ref("primary", "", "alert", "B"), ref("", "", "action", "A")),  // 4: type/id swapped: no false hit
	)
	cases := map[string]struct {
		req  FindRequest
		want []uint64
	}{
		"one term":                  {FindRequest{Terms: []Term{{"event.outcome", []string{"failure"}}}}, []uint64{2, 3}},
		"or within a term":          {FindRequest{Terms: []Term{{"event.provider", []string{"actions", "nope"}}}}, []uint64{3, 4}},
		"and across terms":          {FindRequest{Terms: []Term{{"event.provider", []string{"alerting"}}, {"event.outcome", []string{"failure"}}}}, []uint64{2}},
		"ref default space primary": {FindRequest{SavedObjects: &RefFilter{Type: "alert", IDs: []string{"A"}, PrimaryOnly: true}}, []uint64{1}},
		"ref other space":           {FindRequest{SavedObjects: &RefFilter{Type: "alert", IDs: []string{"A"}, Space: "s1"}}, []uint64{2}},
		"ref any rel":               {FindRequest{SavedObjects: &RefFilter{Type: "action", IDs: []string{"B"}}}, []uint64{1, 3}},
		"ref primary only":          {FindRequest{SavedObjects: &RefFilter{Type: "action", IDs: []string{"B"}, PrimaryOnly: true}}, []uint64{3}},
		"ref several ids":           {FindRequest{SavedObjects: &RefFilter{Type: "alert", IDs: []string{"A", "B"}}}, []uint64{1, 4}},
		"ref and term":              {FindRequest{Terms: []Term{{"event.outcome", []string{"success"}}}, SavedObjects: &RefFilter{Type: "action", IDs: []string{"B"}}}, []uint64{1}},
		"nothing matches":           {FindRequest{Terms: []Term{{"user.name", []string{"nobody"}}}}, nil},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if got := seqs(findAll(t, db, c.req)); !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
	_, err := db.Find(ctx, FindRequest{Terms: []Term{{"message", []string{"x"}}}})
	if !errors.Is(err, ErrInvalidRequest) {
		t.Fatalf("term on an unindexed field: %v", err)
	}
}

// TestSnapshotsPublishInSequenceOrder checks, while writers append
// concurrently, that every head snapshot holds exactly the events 1..N for some N:
// never an event before all lower-numbered ones.
func TestSnapshotsPublishInSequenceOrder(t *testing.T) {
	for _, policy := range []SyncPolicy{SyncAlways, SyncNone} {
		t.Run(policy.String(), func(t *testing.T) {
			db := mustOpen(t, t.TempDir(), Options{AllowUnregistered: true, Sync: policy})
			var wg sync.WaitGroup
			stop := make(chan struct{})
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						default:
						}
						// Timestamps go backwards so time order differs from arrival.
						e := ev("p", "a", "")
						e.Timestamp = event.DateOf(time.Unix(int64(1e6-i*4-w), 0))
						if _, err := db.Append(ctx, e, e); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			for checks := 0; checks < 50 || db.Stats().HeadEvents < 5000; checks++ {
				// The whole snapshot of the head, as every read takes it.
				var got []uint64
				if snap := db.state.Load().active.Snapshot(); len(snap.Blocks()) > 0 {
					_, seq, err := snap.Keys(0)
					if err != nil {
						t.Fatal(err)
					}
					got = slices.Clone(seq)
				}
				slices.Sort(got)
				for i, s := range got {
					if s != uint64(i+1) {
						t.Fatalf("a snapshot holds seq %d at position %d: a lower-numbered event is missing", s, i)
					}
				}
			}
			close(stop)
			wg.Wait()
		})
	}
}
