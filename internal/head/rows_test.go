package head

import (
	"testing"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/internal/match"
)

// TestRowPagesMatchSlice appends rows across several pages against a plain
// slice, taking views on the way, and checks that every view still shows
// exactly the rows it was taken with.
func TestRowPagesMatchSlice(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var p rowPages
		var model []Item
		type view struct {
			v rowPages
			n int
		}
		var views []view
		for range rapid.IntRange(0, 12).Draw(rt, "steps") {
			for range rapid.IntRange(0, 2*rowPageSize).Draw(rt, "rows") {
				it := Item{Position: match.Position{Seq: uint64(len(model) + 1)}, Row: uint32(len(model))}
				p.append(it)
				model = append(model, it)
			}
			n := rapid.IntRange(0, len(model)).Draw(rt, "view")
			views = append(views, view{p.prefix(n), n})
		}
		views = append(views, view{p, len(model)})
		for _, v := range views {
			if v.v.len() != v.n {
				rt.Fatalf("view of %d rows has len %d", v.n, v.v.len())
			}
			count := 0
			for i, it := range v.v.all {
				if it.Position != model[i].Position || it.Row != model[i].Row || v.v.at(i) != it {
					rt.Fatalf("view of %d: row %d is %+v, want %+v", v.n, i, *it, model[i])
				}
				count++
			}
			if count != v.n {
				rt.Fatalf("view of %d yielded %d rows", v.n, count)
			}
		}
	})
}
