package sketch

import (
	"math"
	"testing"

	"pgregory.net/rapid"
)

func TestQuantileBound(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := mustNew(t, genAccuracy(t))
		vs := genValues(t)
		for _, v := range vs {
			s.Add(v)
		}
		checkQuantiles(t, s, sortedFinite(vs))
	})
}

func TestAddNEqualsRepeatedAdd(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ra := genAccuracy(t)
		a, b := mustNew(t, ra), mustNew(t, ra)
		var all []float64
		vs := genValues(t)
		for _, v := range vs[:min(50, len(vs))] {
			n := rapid.Uint64Range(0, 20).Draw(t, "n")
			a.AddN(v, n)
			for range n {
				b.Add(v)
				all = append(all, v)
			}
		}
		for _, q := range testQuantiles {
			ga, oka := a.Quantile(q)
			gb, okb := b.Quantile(q)
			if ga != gb || oka != okb {
				t.Fatalf("Quantile(%v): AddN %v %v, Add %v %v", q, ga, oka, gb, okb)
			}
		}
		checkQuantiles(t, a, sortedFinite(all))
	})
}

func TestNewRejectsAccuracy(t *testing.T) {
	for _, ra := range []float64{0, -0.01, 1, 1.5, 1e-7, math.NaN(), math.Inf(1)} {
		if s, err := New(ra); err == nil {
			t.Errorf("New(%v) = %v, nil; want an error", ra, s)
		}
	}
	for _, ra := range []float64{minRelativeAccuracy, DefaultRelativeAccuracy, 0.999} {
		s, err := New(ra)
		if err != nil {
			t.Fatalf("New(%v): %v", ra, err)
		}
		if got := s.RelativeAccuracy(); got != ra {
			t.Errorf("RelativeAccuracy() = %v, want %v", got, ra)
		}
	}
}

func TestQuantileOutOfRange(t *testing.T) {
	s := mustNew(t, DefaultRelativeAccuracy)
	if v, ok := s.Quantile(0.5); ok {
		t.Errorf("empty: Quantile(0.5) = %v, true", v)
	}
	s.Add(42)
	for _, q := range []float64{-0.1, 1.1, math.NaN(), math.Inf(-1)} {
		if v, ok := s.Quantile(q); ok {
			t.Errorf("Quantile(%v) = %v, true", q, v)
		}
	}
	for _, q := range []float64{0, 0.3, 1} {
		if v, ok := s.Quantile(q); !ok || v != 42 {
			t.Errorf("Quantile(%v) = %v, %v; want 42, true", q, v, ok)
		}
	}
}

func TestSpecialValues(t *testing.T) {
	var s Sketch // the zero Sketch works, with the default accuracy
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		s.Add(v)
	}
	s.AddN(5, 0)
	if s.Count() != 0 {
		t.Fatalf("Count() = %d after NaN, ±Inf and AddN(_, 0); want 0", s.Count())
	}
	s.Add(math.Copysign(0, -1))
	s.Add(0)
	s.Add(0)
	if v, _ := s.Quantile(0.5); v != 0 || math.Signbit(v) {
		t.Errorf("median of zeros = %v, want 0", v)
	}
	if s.RelativeAccuracy() != DefaultRelativeAccuracy {
		t.Errorf("zero Sketch accuracy = %v", s.RelativeAccuracy())
	}
	s.Add(math.MaxFloat64)
	s.Add(-math.MaxFloat64)
	s.Add(math.SmallestNonzeroFloat64)
	if v, _ := s.Quantile(1); v != math.MaxFloat64 {
		t.Errorf("Quantile(1) = %v, want MaxFloat64", v)
	}
	if v, _ := s.Quantile(0); v != -math.MaxFloat64 {
		t.Errorf("Quantile(0) = %v, want -MaxFloat64", v)
	}
}

func TestCountSaturates(t *testing.T) {
	s := mustNew(t, DefaultRelativeAccuracy)
	s.AddN(1, math.MaxUint64)
	s.AddN(-1, math.MaxUint64)
	s.Add(0)
	if s.Count() != math.MaxUint64 {
		t.Errorf("Count() = %d, want MaxUint64", s.Count())
	}
	for _, q := range testQuantiles {
		if v, ok := s.Quantile(q); !ok || math.Abs(v) > 1 {
			t.Errorf("Quantile(%v) = %v, %v", q, v, ok)
		}
	}
}

// TestTopBinRepresentative: a value low in the top bin, whose true
// representative would overflow, is still estimated within the accuracy
// (rapid found 1.395e308 estimated as MaxFloat64 at ra 0.25: 29% off).
func TestTopBinRepresentative(t *testing.T) {
	for _, ra := range []float64{0.25, 0.5, 0.9, DefaultRelativeAccuracy} {
		s := mustNew(t, ra)
		low := 1.3953911559525078e+308
		s.AddN(low, 2) // two of each: the extremes are kept exactly, ranks 1 and 2 are estimated
		s.AddN(math.MaxFloat64, 2)
		for q, want := range map[float64]float64{0.5: low, 0.7: math.MaxFloat64} {
			got, _ := s.Quantile(q)
			if math.Abs(got-want) > ra*want {
				t.Errorf("ra %v: Quantile(%v) = %v, want within %v of %v", ra, q, got, ra, want)
			}
		}
	}
}
