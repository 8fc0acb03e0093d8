package query

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/segment"
)

// TestHitsReused pages through a segment whose events alternate between
// many fields and none, each page decoded into the slots of the page
// before (Options.Hits, as an export does), so that every slot that held
// a full event next receives a bare one. Each page must equal the same
// page decoded into new hits, and the hits copied out of earlier pages
// must be unchanged by the later ones.
func TestHitsReused(t *testing.T) {
	const n, perPage = 40, 3 // an odd page: a slot alternates full and bare
	evs := make([]event.Event, n)
	rows := make([]segment.Row, n)
	for i := range evs {
		e := &evs[i]
		e.Timestamp = event.DateOf(time.Date(2024, 5, 1, 0, 0, i, 0, time.UTC))
		e.Event.Provider, e.Event.Action = "p", "a"
		if i%2 == 0 {
			e.Message = "full"
			e.Event.Outcome = "failure"
			e.Labels = map[string]string{"k": "v"}
			e.Kibana.SavedObjects = []event.SavedObject{{Rel: "primary", Type: "alert", ID: "A", Namespace: "s1"}}
		}
		rows[i] = segment.Row{Seq: uint64(i + 1), Event: e}
	}
	path := filepath.Join(t.TempDir(), "0.seg")
	if _, err := segment.Write(path, rows, segment.WriteOptions{BlockRows: 8}); err != nil {
		t.Fatal(err)
	}
	r, err := segment.Open(path, segment.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	snap := Snapshot{Sources: []Source{r}, MaxSeq: n}
	ctx := context.Background()
	req := Request{PerPage: perPage, Sort: []SortField{{Field: "@timestamp"}}}
	var kept, fresh []Hit
	var opts Options
	for {
		want, err := Execute(ctx, snap, req, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := Execute(ctx, snap, req, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Hits, want.Hits) {
			t.Fatalf("after %d hits: decoded into the last page's slots\n%+v\nwant\n%+v", len(kept), got.Hits, want.Hits)
		}
		kept = append(kept, got.Hits...)
		fresh = append(fresh, want.Hits...)
		if got.Next == "" {
			break
		}
		req.SearchAfter, opts.Hits = got.Next, got.Hits
	}
	if len(kept) != n {
		t.Fatalf("%d hits, want %d", len(kept), n)
	}
	for i := range kept {
		if kept[i].Seq != uint64(i+1) || (kept[i].Event.Message == "full") != (i%2 == 0) {
			t.Fatalf("hit %d: seq %d, message %q", i, kept[i].Seq, kept[i].Event.Message)
		}
		if !reflect.DeepEqual(kept[i], fresh[i]) {
			t.Fatalf("hit %d changed after its page: %+v, want %+v", i, kept[i], fresh[i])
		}
	}
}
