package query

import (
	"context"
	"reflect"
	"testing"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
)

// TestWholeBlocksPages pages through the matches of a store of
// time-ordered segments as an export does (Options.WholeBlocks, each page
// decoded into the slots of the one before) and checks that the pages
// together are exactly the matches of one query asking for all of them,
// in order, and that a block is decoded in two steps only when all but one
// of them decoded nothing else: a page whose matches are all in one block
// cannot end before it.
func TestWholeBlocksPages(t *testing.T) {
	const segments, perSegment, blockRows = 3, 40, 8
	rapid.Check(t, func(rt *rapid.T) {
		every := rapid.IntRange(1, 4).Draw(rt, "every")
		evs, srcs, snap := writeCountingStore(rt, t.TempDir(), segments, perSegment, blockRows, func(e *event.Event) {
			if rapid.IntRange(0, every-1).Draw(rt, "match") == 0 {
				e.Event.Outcome = "failure"
			}
		})
		req := Request{Filter: "event.outcome:failure", PerPage: rapid.IntRange(1, 20).Draw(rt, "per_page")}
		if rapid.Bool().Draw(rt, "desc") {
			req.Sort = []SortField{{Field: "@timestamp", Order: "desc"}}
		}
		ctx := context.Background()
		all := req
		all.PerPage = len(evs)
		want, err := Execute(ctx, snap, all, Options{})
		if err != nil {
			rt.Fatal(err)
		}
		type place struct{ seg, block int }
		steps := map[place][]int{} // the steps that decoded each block
		var single []bool          // whether each step decoded one block only
		var got []Hit
		opts := Options{WholeBlocks: true}
		for step := 0; ; step++ {
			for _, c := range srcs {
				clear(c.decoded)
			}
			res, err := Execute(ctx, snap, req, opts)
			if err != nil {
				rt.Fatal(err)
			}
			if len(res.Hits) == 0 && len(want.Hits) > 0 {
				rt.Fatalf("step %d: no hits", step)
			}
			n := 0
			for s, c := range srcs {
				for b := range c.decoded {
					steps[place{s, b}] = append(steps[place{s, b}], step)
					n++
				}
			}
			single = append(single, n == 1)
			got = append(got, res.Hits...)
			if res.Next == "" {
				break
			}
			req.SearchAfter, opts.Hits = res.Next, res.Hits
		}
		if !reflect.DeepEqual(got, want.Hits) && (len(got) > 0 || len(want.Hits) > 0) {
			rt.Fatalf("pages hold %d hits, want the %d of one query, equal", len(got), len(want.Hits))
		}
		for p, ss := range steps {
			others := 0
			for _, s := range ss {
				if !single[s] {
					others++
				}
			}
			if others > 1 {
				rt.Fatalf("segment %d block %d decoded in steps %v, %d of them decoding other blocks too", p.seg, p.block, ss, others)
			}
		}
	})
}
