package sketch

import "math"

// Quantile returns an estimate of the value of rank floor(q*(n-1)) among
// the n added values in ascending order, within the relative accuracy (see
// the package documentation): q = 0.5 is the median, q = 0.99 the 99th
// percentile. It returns false when the sketch is empty or q is outside
// [0, 1] (or NaN).
func (s *Sketch) Quantile(q float64) (float64, bool) {
	n := s.Count()
	if n == 0 || !(q >= 0 && q <= 1) {
		return 0, false
	}
	r := rank(q, n)
	// The extremes are kept exactly; clamping the others to them can only
	// bring an estimate closer to the true value, which lies between.
	switch r {
	case 0:
		return s.min, true
	case n - 1:
		return s.max, true
	}
	return min(max(s.estimate(r), s.min), s.max), true
}

// rank returns floor(q*(n-1)) for q in [0, 1], kept below n where float64
// rounding of huge counts would reach it.
func rank(q float64, n uint64) uint64 {
	f := math.Floor(q * float64(n-1))
	if f >= float64(n-1) {
		return n - 1
	}
	return uint64(f)
}

// estimate returns the representative of the bin holding rank r: the
// negative values come first (largest magnitude first), then the zeros,
// then the positive values.
func (s *Sketch) estimate(r uint64) float64 {
	if r < s.neg.count {
		return -s.m.value(s.neg.indexAtRank(r, true))
	}
	r -= s.neg.count
	if r < s.zero {
		return 0
	}
	r -= s.zero
	return s.m.value(s.pos.indexAtRank(r, false))
}
