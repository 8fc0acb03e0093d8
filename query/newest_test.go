package query

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/segment"
)

// countingSource records which blocks a query reads keys of and decodes.
// A page's blocks are decoded concurrently, so it locks.
type countingSource struct {
	Source
	mu            sync.Mutex
	keys, decoded map[int]bool
}

// writeCounting writes rows as a segment file at path, in blocks of
// blockRows, and opens it as a countingSource, closed when rt ends.
func writeCounting(rt *rapid.T, path string, rows []segment.Row, blockRows int) *countingSource {
	if _, err := segment.Write(path, rows, segment.WriteOptions{BlockRows: blockRows}); err != nil {
		rt.Fatal(err)
	}
	r, err := segment.Open(path, segment.OpenOptions{})
	if err != nil {
		rt.Fatal(err)
	}
	rt.Cleanup(func() { r.Close() })
	return &countingSource{Source: r, keys: map[int]bool{}, decoded: map[int]bool{}}
}

// writeCountingStore writes segments segment files into dir (writeCounting)
// of perSegment rows each, in time order: events one second apart from
// 2024-05-01, of provider "p" and action "a", each then changed by fill,
// the row of event n with sequence number n+1. It returns the events, the
// files and a snapshot of them.
func writeCountingStore(rt *rapid.T, dir string, segments, perSegment, blockRows int, fill func(e *event.Event)) ([]event.Event, []*countingSource, Snapshot) {
	var evs []event.Event
	var srcs []*countingSource
	var snap Snapshot
	for s := range segments {
		rows := make([]segment.Row, perSegment)
		for i := range rows {
			n := len(evs)
			var e event.Event
			e.Timestamp = event.DateOf(time.Date(2024, 5, 1, 0, 0, n, 0, time.UTC))
			e.Event.Provider, e.Event.Action = "p", "a"
			fill(&e)
			evs = append(evs, e)
			rows[i] = segment.Row{Seq: uint64(n + 1), Event: &evs[len(evs)-1]}
		}
		c := writeCounting(rt, filepath.Join(dir, fmt.Sprintf("%d.seg", s)), rows, blockRows)
		srcs = append(srcs, c)
		snap.Sources = append(snap.Sources, c)
	}
	snap.MaxSeq = uint64(len(evs))
	return evs, srcs, snap
}

func (c *countingSource) Keys(block int) ([]int64, []uint64, error) {
	c.mu.Lock()
	c.keys[block] = true
	c.mu.Unlock()
	return c.Source.Keys(block)
}

func (c *countingSource) Decode(block int, want []int, fields []*event.Field, out []*event.Event) error {
	c.mu.Lock()
	c.decoded[block] = true
	c.mu.Unlock()
	return c.Source.Decode(block, want, fields, out)
}

// TestNewestStopsAfterN checks that "the newest N" of a condition the
// postings answer (a term, a space, a saved object) reads the keys of only
// the blocks holding the first N+1 matches, newest first (the one more
// tells whether a next page exists), and decodes only the blocks of the
// page, while its total still counts every match.
func TestNewestStopsAfterN(t *testing.T) {
	const segments, perSegment, blockRows = 4, 40, 8
	rapid.Check(t, func(rt *rapid.T) {
		evs, srcs, snap := writeCountingStore(rt, t.TempDir(), segments, perSegment, blockRows, func(e *event.Event) {
			if rapid.IntRange(0, 3).Draw(rt, "failed") == 0 {
				e.Event.Outcome = "failure"
			}
			if rapid.Bool().Draw(rt, "in_s1") {
				e.Kibana.SavedObjects = []event.SavedObject{{Rel: "primary", Type: "alert", ID: "A", Namespace: "s1"}}
			}
		})
		n := rapid.IntRange(1, 12).Draw(rt, "n")
		req := Request{Filter: "event.outcome:failure", PerPage: n, Sort: []SortField{{Field: "@timestamp", Order: "desc"}}}
		match := func(e *event.Event) bool { return e.Event.Outcome == "failure" }
		switch rapid.IntRange(0, 2).Draw(rt, "scope") {
		case 1:
			req.Space = "s1"
			match = func(e *event.Event) bool { return e.Event.Outcome == "failure" && e.InSpace("s1") }
		case 2:
			req.Filter = ""
			req.SavedObjects = &SavedObjects{Type: "alert", IDs: []string{"A"}, Space: "s1"}
			match = func(e *event.Event) bool { return len(e.Kibana.SavedObjects) > 0 }
		}
		// The matches newest first, as (segment, block) of each.
		type place struct{ seg, block int }
		var matches []place
		for i := len(evs) - 1; i >= 0; i-- {
			if match(&evs[i]) {
				matches = append(matches, place{i / perSegment, i % perSegment / blockRows})
			}
		}
		res, err := Execute(context.Background(), snap, req, Options{})
		if err != nil {
			rt.Fatal(err)
		}
		if res.Total != len(matches) || len(res.Hits) != min(n, len(matches)) {
			rt.Fatalf("total %d, %d hits; want %d, %d", res.Total, len(res.Hits), len(matches), min(n, len(matches)))
		}
		blocksOf := func(ps []place) map[place]bool {
			m := map[place]bool{}
			for _, p := range ps {
				m[p] = true
			}
			return m
		}
		wantKeys := blocksOf(matches[:min(n+1, len(matches))])
		page := blocksOf(matches[:min(n, len(matches))])
		for s, c := range srcs {
			for b := range c.keys {
				if !wantKeys[place{s, b}] {
					rt.Fatalf("read the keys of segment %d block %d, which holds none of the newest %d matches %v", s, b, n+1, slices.Collect(maps.Keys(wantKeys)))
				}
			}
			for b := range c.decoded {
				if !page[place{s, b}] {
					rt.Fatalf("decoded segment %d block %d, which holds no hit of the page", s, b)
				}
			}
		}
	})
}
