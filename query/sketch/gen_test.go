package sketch

import (
	"math"
	"math/rand/v2"
	"slices"

	"pgregory.net/rapid"
)

// genValues draws a multiset of values from one of the distributions the
// sketch meets in practice (and a few it should survive): uniform
// durations, a log-normal heavy tail, a constant, any of them with zeros
// and negatives mixed in, and arbitrary float64s (tiny, huge, NaN, ±Inf),
// which also drive the stores into collapsing.
func genValues(t *rapid.T) []float64 {
	kind := rapid.SampledFrom([]string{"uniform", "lognormal", "constant", "durations", "arbitrary"}).Draw(t, "kind")
	if kind == "arbitrary" {
		return rapid.SliceOfN(rapid.Float64(), 1, 200).Draw(t, "values")
	}
	n := rapid.IntRange(1, 2000).Draw(t, "n")
	zeros := rapid.SampledFrom([]float64{0, 0, 0.1, 0.5}).Draw(t, "zeroFraction")
	negs := rapid.SampledFrom([]float64{0, 0, 0.3, 1}).Draw(t, "negativeFraction")
	// The values come from a seeded generator: drawing thousands of them
	// through rapid would be slow, and the parameters above shrink anyway.
	rng := rand.New(rand.NewPCG(rapid.Uint64().Draw(t, "seed"), 1))
	var draw func() float64
	switch kind {
	case "uniform":
		hi := rapid.Float64Range(1, 1e12).Draw(t, "hi")
		draw = func() float64 { return rng.Float64() * hi }
	case "lognormal":
		mu := rapid.Float64Range(-5, 20).Draw(t, "mu")
		sigma := rapid.Float64Range(0, 4).Draw(t, "sigma")
		draw = func() float64 { return math.Exp(mu + sigma*rng.NormFloat64()) }
	case "constant":
		c := rapid.Float64Range(-1e9, 1e9).Draw(t, "c")
		draw = func() float64 { return c }
	case "durations":
		draw = func() float64 { return float64(rng.Int64N(math.MaxInt64)) }
	}
	vs := make([]float64, n)
	for i := range vs {
		switch f := rng.Float64(); {
		case f < zeros:
			vs[i] = 0
		case rng.Float64() < negs:
			vs[i] = -draw()
		default:
			vs[i] = draw()
		}
	}
	return vs
}

// sortedFinite returns the values a sketch keeps, in order.
func sortedFinite(vs []float64) []float64 {
	out := make([]float64, 0, len(vs))
	for _, v := range vs {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// covered reports whether the guarantee applies to x in s: it does not
// for magnitudes counted as zero, nor for those below a collapsed range.
func covered(s *Sketch, x float64) bool {
	if x == 0 {
		return true
	}
	st := &s.pos
	if x < 0 {
		st, x = &s.neg, -x
	}
	if x < s.m.minIndexable {
		return false
	}
	return !st.collapsed || s.m.index(x) >= st.offset
}

// testQuantiles are the quantiles every property test checks, besides
// random ones.
var testQuantiles = []float64{0, 0.5, 0.9, 0.95, 0.99, 1}

// checkQuantiles checks the documented bound of s against the sorted
// values for testQuantiles and a few random q.
func checkQuantiles(t *rapid.T, s *Sketch, sorted []float64) {
	qs := append(slices.Clone(testQuantiles), rapid.SliceOfN(rapid.Float64Range(0, 1), 0, 5).Draw(t, "q")...)
	if uint64(len(sorted)) != s.Count() {
		t.Fatalf("Count() = %d, want %d", s.Count(), len(sorted))
	}
	for _, q := range qs {
		got, ok := s.Quantile(q)
		if len(sorted) == 0 {
			if ok {
				t.Fatalf("Quantile(%v) of empty sketch = %v, true", q, got)
			}
			continue
		}
		r := int(math.Floor(q * float64(len(sorted)-1)))
		want := sorted[r]
		if !ok {
			t.Fatalf("Quantile(%v) not ok with %d values", q, len(sorted))
		}
		if !covered(s, want) {
			continue
		}
		if err := math.Abs(got - want); err > s.RelativeAccuracy()*math.Abs(want) {
			t.Fatalf("Quantile(%v) = %v, rank %d value %v: error %v > %v*|x|",
				q, got, r, want, err, s.RelativeAccuracy())
		}
	}
}

// genAccuracy draws a relative accuracy: the usual ones and random ones.
func genAccuracy(t *rapid.T) float64 {
	return rapid.OneOf(
		rapid.SampledFrom([]float64{0.001, 0.005, DefaultRelativeAccuracy, 0.02, 0.05, 0.1}),
		rapid.Float64Range(minRelativeAccuracy, 0.99),
	).Draw(t, "ra")
}

func mustNew(t interface{ Fatal(...any) }, ra float64) *Sketch {
	s, err := New(ra)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
