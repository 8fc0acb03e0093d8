package sketch

import (
	"fmt"
	"math"
)

// Sketch summarises a multiset of float64 values for quantile queries.
// The zero Sketch is an empty sketch with DefaultRelativeAccuracy; New
// chooses another accuracy.
type Sketch struct {
	m        mapping
	pos, neg store  // bins of positive values and of negated negative values
	zero     uint64 // values counted as zero
	count    uint64 // of all values, so AddN need not sum the stores
	min, max float64
}

// New returns an empty sketch whose quantiles are within relativeAccuracy
// of the true value (see the package documentation). It returns an error
// unless 1e-6 <= relativeAccuracy < 1; smaller accuracies cannot be
// promised in float64 arithmetic.
func New(relativeAccuracy float64) (*Sketch, error) {
	m, err := newMapping(relativeAccuracy)
	if err != nil {
		return nil, err
	}
	return &Sketch{m: m}, nil
}

// mapping returns the sketch's mapping, giving the zero Sketch the default
// one on first use.
func (s *Sketch) mapping() *mapping {
	if s.m.multiplier == 0 {
		// Cannot fail: the default is in range.
		s.m, _ = newMapping(DefaultRelativeAccuracy)
	}
	return &s.m
}

// RelativeAccuracy returns the accuracy the sketch was created with.
func (s *Sketch) RelativeAccuracy() float64 {
	if s.m.multiplier == 0 {
		return DefaultRelativeAccuracy
	}
	return s.m.ra
}

// Add adds one value. NaN and ±Inf are ignored: they have no bin, and a
// single one would otherwise poison every quantile.
func (s *Sketch) Add(v float64) {
	s.AddN(v, 1)
}

// AddN adds n copies of v (a pre-aggregated value). NaN, ±Inf and n == 0
// are ignored.
func (s *Sketch) AddN(v float64, n uint64) {
	if n == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return
	}
	if v == 0 {
		v = 0 // -0 would come back out of Quantile as "-0"
	}
	m := s.mapping()
	if s.count == 0 {
		s.min, s.max = v, v
	} else {
		s.min, s.max = min(s.min, v), max(s.max, v)
	}
	s.count = satAdd(s.count, n)
	switch {
	case v >= m.minIndexable:
		s.pos.add(m.index(v), n)
	case v <= -m.minIndexable:
		s.neg.add(m.index(-v), n)
	default:
		s.zero = satAdd(s.zero, n)
	}
}

// Count returns the number of values added (saturating at 2^64-1).
func (s *Sketch) Count() uint64 {
	return s.count
}

// Merge adds every value of o to s, as if they had been added to s
// directly; o is not modified and may be s itself. It returns an error, and
// leaves s unchanged, when the two sketches have different relative
// accuracies: their bins do not line up. A nil o is an empty sketch.
func (s *Sketch) Merge(o *Sketch) error {
	if o == nil {
		return nil
	}
	if a, b := s.RelativeAccuracy(), o.RelativeAccuracy(); a != b {
		return fmt.Errorf("sketch: merge sketches of relative accuracy %v and %v", a, b)
	}
	if o.count == 0 {
		return nil
	}
	if o == s {
		c := s.clone()
		o = &c
	}
	s.mapping()
	if s.count == 0 {
		s.min, s.max = o.min, o.max
	} else {
		s.min, s.max = min(s.min, o.min), max(s.max, o.max)
	}
	s.count = satAdd(s.count, o.count)
	s.pos.merge(&o.pos)
	s.neg.merge(&o.neg)
	s.zero = satAdd(s.zero, o.zero)
	return nil
}

// clone returns a deep copy of s.
func (s *Sketch) clone() Sketch {
	c := *s
	c.pos, c.neg = s.pos.clone(), s.neg.clone()
	return c
}
