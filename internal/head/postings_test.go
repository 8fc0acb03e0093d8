package head

import (
	"fmt"
	"slices"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/index"
)

// TestPropertyPostingsMatchModel adds rows in ascending batches, as
// InsertBatch does, to terms of a few frequencies (so that frequent ones
// fold their rows into bitmaps, several times, and rare ones never do), and
// checks every term's rows, the iteration over all terms and the union
// against a plain map of the rows added. Terms of several fields share
// values, as the head finds terms by field, then value.
func TestPropertyPostingsMatchModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		p := newPostings(rapid.IntRange(0, 8).Draw(rt, "presize"))
		model := map[index.Term][]uint32{}
		pool := make([]index.Term, rapid.IntRange(1, 12).Draw(rt, "terms"))
		for i := range pool {
			// Three fields share values: a term is its field and value.
			pool[i] = index.Term{Field: fmt.Sprint("f", i%3), Value: fmt.Sprint(i / 3)}
		}
		row := uint32(0)
		for range rapid.IntRange(0, 40).Draw(rt, "batches") {
			n := rapid.IntRange(1, 600).Draw(rt, "batch rows")
			byTerm := map[index.Term][]uint32{}
			for r := row; r < row+uint32(n); r++ {
				for i, term := range pool {
					if r%uint32(1+i*i*7) == 0 { // term i is on every (1+7i²)th row
						byTerm[term] = append(byTerm[term], r)
					}
				}
			}
			row += uint32(n)
			for term, rows := range byTerm {
				if isNew := p.add(term, slices.Clone(rows)); isNew != (model[term] == nil) {
					rt.Fatalf("add(%v) said new %v, the model holds %d rows", term, isNew, len(model[term]))
				}
				model[term] = append(model[term], rows...)
			}
		}
		if p.len() != len(model) {
			rt.Fatalf("%d terms, the model has %d", p.len(), len(model))
		}
		union := roaring.New()
		seen := 0
		for term, rows := range p.all {
			seen++
			if got := rows.bitmap().ToArray(); !slices.Equal(got, model[term]) {
				rt.Fatalf("all: term %v has rows %v, want %v", term, got, model[term])
			}
			if got := rows.appendRows([]uint32{7}); !slices.Equal(got[1:], model[term]) || got[0] != 7 {
				rt.Fatalf("appendRows: term %v has rows %v after the 7 given, want %v", term, got, model[term])
			}
			rows.orInto(union)
		}
		want := roaring.New()
		for _, term := range pool {
			got := p.bitmap(term)
			if model[term] == nil {
				if got != nil {
					rt.Fatalf("term %v never added has rows %v", term, got)
				}
				continue
			}
			if !slices.Equal(got.ToArray(), model[term]) {
				rt.Fatalf("term %v: rows %v, want %v", term, got.ToArray(), model[term])
			}
			want.AddMany(model[term])
		}
		if seen != len(model) || !union.Equals(want) {
			rt.Fatalf("all yielded %d terms, union %d rows; want %d terms, %d rows", seen, union.GetCardinality(), len(model), want.GetCardinality())
		}
	})
}
