package event

// slabs hold the values behind an event's pointers and list slices, so that
// decoding an event costs a few allocations rather than one per value. A
// full slab is replaced, not grown: values already handed out keep the old
// backing array and never change.
type slabs struct {
	ints   []int64
	floats []float64
	strs   []string
}

func (s *slabs) newInt(v int64) *int64 {
	if len(s.ints) == cap(s.ints) {
		s.ints = make([]int64, 0, 8)
	}
	s.ints = append(s.ints, v)
	return &s.ints[len(s.ints)-1]
}

func (s *slabs) newFloat(v float64) *float64 {
	if len(s.floats) == cap(s.floats) {
		s.floats = make([]float64, 0, 4)
	}
	s.floats = append(s.floats, v)
	return &s.floats[len(s.floats)-1]
}
