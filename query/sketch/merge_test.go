package sketch

import (
	"testing"

	"pgregory.net/rapid"
)

// TestMergeEqualsUnion merges sketches of random parts of the values and
// compares with one sketch of all of them: without collapsing, both have
// the same bins and so the same estimates; in all cases the merged sketch
// keeps the bound.
func TestMergeEqualsUnion(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ra := genAccuracy(t)
		vs := genValues(t)
		parts := make([]*Sketch, rapid.IntRange(1, 4).Draw(t, "parts"))
		for i := range parts {
			parts[i] = mustNew(t, ra)
		}
		union := mustNew(t, ra)
		for _, v := range vs {
			parts[rapid.IntRange(0, len(parts)-1).Draw(t, "part")].Add(v)
			union.Add(v)
		}
		merged := mustNew(t, ra)
		for _, i := range rapid.Permutation(rangeInts(len(parts))).Draw(t, "order") {
			if err := merged.Merge(parts[i]); err != nil {
				t.Fatal(err)
			}
		}
		checkQuantiles(t, merged, sortedFinite(vs))
		if merged.pos.collapsed || merged.neg.collapsed || union.pos.collapsed || union.neg.collapsed {
			return
		}
		for _, q := range testQuantiles {
			a, _ := merged.Quantile(q)
			b, _ := union.Quantile(q)
			if a != b {
				t.Fatalf("Quantile(%v): merged %v, union %v", q, a, b)
			}
		}
	})
}

func TestMergeSelf(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := mustNew(t, genAccuracy(t))
		vs := genValues(t)
		for _, v := range vs {
			s.Add(v)
		}
		if err := s.Merge(s); err != nil {
			t.Fatal(err)
		}
		checkQuantiles(t, s, sortedFinite(append(vs, vs...)))
	})
}

func TestMergeAccuracyMismatch(t *testing.T) {
	a, b := mustNew(t, 0.01), mustNew(t, 0.02)
	a.Add(1)
	b.Add(2)
	if err := a.Merge(b); err == nil {
		t.Fatal("Merge of accuracies 0.01 and 0.02: no error")
	}
	if a.Count() != 1 {
		t.Errorf("failed Merge changed the count to %d", a.Count())
	}
	var zero Sketch
	if err := zero.Merge(a); err != nil {
		t.Errorf("zero Sketch (default accuracy) Merge: %v", err)
	}
	if err := a.Merge(nil); err != nil || a.Count() != 1 {
		t.Errorf("Merge(nil) = %v, count %d", err, a.Count())
	}
}

func rangeInts(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
