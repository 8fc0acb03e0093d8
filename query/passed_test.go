package query

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/segment"
)

// lookupSource counts a source's postings lookups.
type lookupSource struct {
	Source
	mu      sync.Mutex
	lookups int
}

func (l *lookupSource) Postings(t index.Term) (*roaring.Bitmap, error) {
	l.mu.Lock()
	l.lookups++
	l.mu.Unlock()
	return l.Source.Postings(t)
}

// TestPagesWithoutTotalSkipSourcesBehindTheCursor pages through the
// matches of a saved object as an export does (NoTotal, search_after, in
// either time order) over segments that follow each other in time: the
// pages together are every match once, in order, and a step looks up no
// postings of a segment that lies wholly behind its cursor, while a query
// that counts its total still plans every segment.
func TestPagesWithoutTotalSkipSourcesBehindTheCursor(t *testing.T) {
	const segments, perSegment = 4, 30
	rapid.Check(t, func(rt *rapid.T) {
		dir := t.TempDir()
		var evs []event.Event
		var srcs []*lookupSource
		var snap Snapshot
		for s := range segments {
			rows := make([]segment.Row, perSegment)
			for i := range rows {
				n := len(evs)
				var e event.Event
				// Two events a second: equal timestamps meet the cursor.
				e.Timestamp = event.DateOf(time.Date(2024, 5, 1, 0, 0, n/2, 0, time.UTC))
				e.Event.Provider, e.Event.Action = "p", "a"
				if rapid.Bool().Draw(rt, "ref") {
					e.Kibana.SavedObjects = []event.SavedObject{{Rel: "primary", Type: "alert", ID: "A"}}
				}
				evs = append(evs, e)
				rows[i] = segment.Row{Seq: uint64(n + 1), Event: &evs[len(evs)-1]}
			}
			path := filepath.Join(dir, fmt.Sprintf("%d.seg", s))
			if _, err := segment.Write(path, rows, segment.WriteOptions{BlockRows: 8}); err != nil {
				rt.Fatal(err)
			}
			r, err := segment.Open(path, segment.OpenOptions{})
			if err != nil {
				rt.Fatal(err)
			}
			defer r.Close()
			l := &lookupSource{Source: r}
			srcs = append(srcs, l)
			snap.Sources = append(snap.Sources, l)
		}
		snap.MaxSeq = uint64(len(evs))
		desc := rapid.Bool().Draw(rt, "desc")
		var want []uint64
		for i := range evs {
			if len(evs[i].Kibana.SavedObjects) > 0 {
				want = append(want, uint64(i+1))
			}
		}
		order := "asc"
		if desc {
			order = "desc"
			for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
				want[i], want[j] = want[j], want[i]
			}
		}
		req := Request{SavedObjects: &SavedObjects{Type: "alert", IDs: []string{"A"}},
			PerPage: rapid.IntRange(1, 20).Draw(rt, "per"), Sort: []SortField{{Field: "@timestamp", Order: order}}}
		var got []uint64
		for step := 0; ; step++ {
			for _, l := range srcs {
				l.lookups = 0
			}
			res, err := Execute(context.Background(), snap, req, Options{NoTotal: true})
			if err != nil {
				rt.Fatal(err)
			}
			if req.SearchAfter != "" {
				at := evs[got[len(got)-1]-1].Timestamp.UnixNano()
				for s, l := range srcs {
					first := evs[s*perSegment].Timestamp.UnixNano()
					last := evs[(s+1)*perSegment-1].Timestamp.UnixNano()
					if behind := (!desc && last < at) || (desc && first > at); behind && l.lookups > 0 {
						rt.Fatalf("step %d: looked up the postings of segment %d, wholly behind the cursor", step, s)
					}
				}
			}
			for _, h := range res.Hits {
				got = append(got, h.Seq)
			}
			if res.Next == "" {
				break
			}
			req.SearchAfter = res.Next
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			rt.Fatalf("pages gave %v, want %v", got, want)
		}
		// With its total counted, a step plans every segment.
		for _, l := range srcs {
			l.lookups = 0
		}
		res, err := Execute(context.Background(), snap, req, Options{})
		if err != nil {
			rt.Fatal(err)
		}
		if res.Total != len(want) {
			rt.Fatalf("total %d, want %d", res.Total, len(want))
		}
		for s, l := range srcs {
			if l.lookups == 0 {
				rt.Fatalf("a query counting its total skipped segment %d", s)
			}
		}
	})
}
