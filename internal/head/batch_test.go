package head

import (
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/index"
)

// TestPropertyBatchGroupsTerms adds events with terms of fields with few
// values and with many (more than fewTerms, so that a field's terms move
// from its short list into its map partway through a batch), some
// repeated within an event, to one Batch used again after Reset, and
// checks its postings against a plain map of each term's rows.
func TestPropertyBatchGroupsTerms(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var b Batch
		for range rapid.IntRange(1, 4).Draw(rt, "batches") {
			b.Reset()
			model := map[index.Term][]uint32{}
			events := rapid.IntRange(0, 60).Draw(rt, "events")
			for row := range uint32(events) {
				var terms []index.Term
				for range rapid.IntRange(0, 6).Draw(rt, "terms") {
					f := rapid.IntRange(0, 2).Draw(rt, "field")
					// Field k has 3+12k values: 3, 15 and 27.
					v := rapid.IntRange(0, 2+12*f).Draw(rt, "value")
					term := index.Term{Field: fmt.Sprint("f", f), Value: fmt.Sprint(v)}
					terms = append(terms, term)
					if rows := model[term]; len(rows) == 0 || rows[len(rows)-1] != row {
						model[term] = append(rows, row)
					}
				}
				b.Add(int64(row), terms)
			}
			if b.Len() != events || b.terms != len(model) {
				rt.Fatalf("%d events, %d terms; want %d, %d", b.Len(), b.terms, events, len(model))
			}
			for _, p := range b.postings[:b.terms] {
				if !slices.Equal(p.rows, model[p.term]) {
					rt.Fatalf("term %v: rows %v, want %v", p.term, p.rows, model[p.term])
				}
				if got := b.byField[p.field].field; got != p.term.Field {
					rt.Fatalf("term %v: posting names field %q", p.term, got)
				}
			}
		}
	})
}
