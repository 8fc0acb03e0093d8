package sketch

import (
	"math"
	"math/rand/v2"
	"testing"
)

// durations returns n log-normal event durations in nanoseconds (median
// about 20ms, long tail), as float64 like the aggregation feeds them.
func durations(n int) []float64 {
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]float64, n)
	for i := range out {
		out[i] = math.Round(math.Exp(17 + 2*rng.NormFloat64()))
	}
	return out
}

func BenchmarkAdd(b *testing.B) {
	vs := durations(1 << 12)
	s := mustNew(b, DefaultRelativeAccuracy)
	for _, v := range vs {
		s.Add(v) // settle the bins: steady state allocates nothing
	}
	b.ReportAllocs()
	b.SetBytes(8)
	i := 0
	for b.Loop() {
		s.Add(vs[i&(len(vs)-1)])
		i++
	}
}

func BenchmarkQuantile(b *testing.B) {
	s := mustNew(b, DefaultRelativeAccuracy)
	for _, v := range durations(1 << 16) {
		s.Add(v)
	}
	b.ReportAllocs()
	for b.Loop() {
		s.Quantile(0.99)
	}
}

func BenchmarkMerge(b *testing.B) {
	vs := durations(1 << 16)
	parts := make([]*Sketch, 16)
	for i := range parts {
		parts[i] = mustNew(b, DefaultRelativeAccuracy)
		for _, v := range vs[i*len(vs)/16 : (i+1)*len(vs)/16] {
			parts[i].Add(v)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		m := mustNew(b, DefaultRelativeAccuracy)
		for _, p := range parts {
			if err := m.Merge(p); err != nil {
				b.Fatal(err)
			}
		}
	}
}
