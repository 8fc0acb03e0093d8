package sketch

import (
	"fmt"
	"math"
)

// DefaultRelativeAccuracy is the relative accuracy used for percentiles when
// the request does not ask for another: 1%, i.e. a p99 of 200ms is reported
// between 198ms and 202ms.
const DefaultRelativeAccuracy = 0.01

// minRelativeAccuracy is the smallest accuracy New accepts. Below it the
// rounding of math.Log and math.Exp (about 1e-13 relative) eats the margin
// kept by mapping, so the bound could no longer be promised, and the 4096
// bins would span less than a factor of 1.01 anyway.
const minRelativeAccuracy = 1e-6

// safetyFactor shrinks the accuracy the bins are built for a little below
// the requested one, so that floating-point rounding at a bin boundary
// cannot push an estimate past the documented bound.
const safetyFactor = 1 - 1e-5

// mapping maps positive magnitudes to bin indices and back.
type mapping struct {
	ra           float64 // as requested, reported by RelativeAccuracy
	lnGamma      float64 // ln(gamma) for the internal (slightly tighter) accuracy
	multiplier   float64 // 1/lnGamma
	lnRep        float64 // ln(1-alpha): bin i is represented by (1-alpha)*gamma^i
	minIndexable float64 // smaller magnitudes are counted as zero
}

func newMapping(ra float64) (mapping, error) {
	if !(ra >= minRelativeAccuracy && ra < 1) {
		return mapping{}, fmt.Errorf("sketch: relative accuracy %v out of range [%v, 1)", ra, minRelativeAccuracy)
	}
	alpha := ra * safetyFactor
	// gamma = (1+alpha)/(1-alpha) = 1 + 2alpha/(1-alpha); Log1p keeps
	// precision for small alpha.
	lnGamma := math.Log1p(2 * alpha / (1 - alpha))
	return mapping{
		ra:         ra,
		lnGamma:    lnGamma,
		multiplier: 1 / lnGamma,
		lnRep:      math.Log1p(-alpha),
		// Keeps representatives normal floats, whose relative precision
		// the bound relies on.
		minIndexable: math.Exp(lnGamma) * 0x1p-1022,
	}, nil
}

// index returns the bin of magnitude v >= minIndexable.
func (m *mapping) index(v float64) int64 {
	return int64(math.Ceil(fastLn(v) * m.multiplier))
}

// lnTableBits sizes the table of fastLn: 2^13 intervals over [1, 2).
const lnTableBits = 13

// lnTable holds ln(1 + i/2^lnTableBits); computed once, never modified.
var lnTable = func() (t [1<<lnTableBits + 1]float64) {
	for i := range t {
		t[i] = math.Log1p(float64(i) / (1 << lnTableBits))
	}
	return t
}()

// fastLn is ln(v) for a normal positive v, from its binary exponent and a
// linear interpolation of ln over the mantissa: about three times faster
// than math.Log, with an absolute error below 2e-9. A value that close to a
// bin boundary may land in the neighbouring bin; its estimate is then off
// by at most the error on top of alpha, which the safety factor (1e-5 of
// alpha) absorbs, so the documented bound still holds.
func fastLn(v float64) float64 {
	b := math.Float64bits(v)
	exp := int64(b>>52&0x7ff) - 1023
	const shift = 52 - lnTableBits
	mant := b & (1<<52 - 1)
	i := mant >> shift
	frac := float64(mant&(1<<shift-1)) / (1 << shift)
	lo := lnTable[i]
	return float64(exp)*math.Ln2 + lo + (lnTable[i+1]-lo)*frac
}

// value returns the representative of bin i: within alpha of every
// magnitude in (gamma^(i-1), gamma^i]. It is computed in the log domain so
// that the top bin does not overflow. Where the representative itself
// would overflow, the bin's magnitudes end at MaxFloat64, and the value
// within alpha of all of (lo, MaxFloat64] is their harmonic midpoint
// 2·lo·max/(lo+max): MaxFloat64 itself is not, for magnitudes low in the
// bin.
func (m *mapping) value(i int64) float64 {
	v := bigExp(float64(i)*m.lnGamma + m.lnRep)
	if v <= math.MaxFloat64 {
		return v
	}
	lo := bigExp(float64(i-1) * m.lnGamma)
	if lo >= math.MaxFloat64 {
		return math.MaxFloat64 // no finite magnitude falls in this bin
	}
	// Scaled by 2^-1000 so that neither the sum nor the product overflows.
	const scale = 0x1p-1000
	a, b := lo*scale, math.MaxFloat64*scale
	return 2 * a * b / (a + b) / scale
}

// bigExp is e^x, finite wherever the result is: math.Exp here (go1.26,
// amd64) overflows to +Inf from x ≈ 709.436, short of ln(MaxFloat64) ≈
// 709.783,
// which turned the top bins' representatives into +Inf. Squaring e^(x/2)
// costs one more rounding, far inside the safety factor.
func bigExp(x float64) float64 {
	h := math.Exp(x / 2)
	return h * h
}
