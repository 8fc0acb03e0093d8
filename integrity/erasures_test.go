package integrity

import (
	"testing"

	"github.com/RoaringBitmap/roaring/v2/roaring64"
	"pgregory.net/rapid"
)

// TestResolveForksModel: ResolveForks and UnrecordedForks against a
// simple model over random record lists. A loss record (eraser 0) takes
// the eraser of the first fork-recorded record naming its ordinal; one
// that nothing names stays 0 and is unrecorded; fork-recorded records
// are left out; every other record is unchanged.
func TestResolveForksModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(0, 12).Draw(t, "n")
		es := make([]Erasure, n)
		for i := range es {
			kind := ErasureKind(rapid.IntRange(1, 5).Draw(t, "kind"))
			e := Erasure{Kind: kind, Eraser: rapid.Uint64Range(0, 3).Draw(t, "eraser"), Seqs: roaring64.New()}
			if kind == ForkRecorded {
				e.Eraser = rapid.Uint64Range(1, 100).Draw(t, "fork")
				e.Seqs.Add(rapid.Uint64Range(0, 14).Draw(t, "ordinal"))
			} else {
				e.Seqs.Add(rapid.Uint64Range(1, 50).Draw(t, "seq"))
			}
			es[i] = e
		}
		var want []Erasure
		var unrecorded []int
		for i, e := range es {
			if e.Kind == ForkRecorded {
				continue
			}
			if e.Kind.IsLoss() && e.Eraser == 0 {
				for _, a := range es {
					if a.Kind == ForkRecorded && a.Seqs.Minimum() == uint64(i) {
						e.Eraser = a.Eraser
						break
					}
				}
				if e.Eraser == 0 {
					unrecorded = append(unrecorded, i)
				}
			}
			want = append(want, e)
		}
		got := ResolveForks(es)
		if len(got) != len(want) {
			t.Fatalf("resolved %d records, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i].Kind != want[i].Kind || got[i].Eraser != want[i].Eraser || !got[i].Seqs.Equals(want[i].Seqs) {
				t.Fatalf("record %d: %+v, want %+v", i, got[i], want[i])
			}
		}
		u := UnrecordedForks(es)
		if len(u) != len(unrecorded) {
			t.Fatalf("unrecorded %v, want %v", u, unrecorded)
		}
		for i := range u {
			if u[i] != unrecorded[i] {
				t.Fatalf("unrecorded %v, want %v", u, unrecorded)
			}
		}
	})
}
