package event

// slabs hold the values behind an event's pointers and list slices, so that
// decoding an event costs a few allocations rather than one per value. A
// full slab is replaced, not grown: values already handed out keep the old
// backing array and never change.
//
// A decoder that reuses its slabs from event to event (RowDecoder) sets
// grow: a replacement slab is then twice the size of the one it replaces,
// so that after a few events one slab of each kind holds a whole event and
// decoding allocates nothing.
type slabs struct {
	ints   []int64
	floats []float64
	strs   []string
	durs   []Duration
	// refSlab holds decoded JSON documents' saved-object refs (the binary
	// decoder has a buffer of its own, binDecoder.refBuf).
	refSlab []SavedObject
	grow    bool
}

// slabCap is the capacity of a replacement slab that must hold n more
// values and had capacity was; min is the usual size.
func (s *slabs) slabCap(n, was, min int) int {
	c := max(n, min)
	if s.grow {
		c = max(c, 2*was)
	}
	return c
}

func (s *slabs) newInt(v int64) *int64 {
	if len(s.ints) == cap(s.ints) {
		s.ints = make([]int64, 0, s.slabCap(1, cap(s.ints), 8))
	}
	s.ints = append(s.ints, v)
	return &s.ints[len(s.ints)-1]
}

func (s *slabs) newFloat(v float64) *float64 {
	if len(s.floats) == cap(s.floats) {
		s.floats = make([]float64, 0, s.slabCap(1, cap(s.floats), 4))
	}
	s.floats = append(s.floats, v)
	return &s.floats[len(s.floats)-1]
}

// newDuration returns a pointer to v: a new one, or with grow a place in
// a reused slab.
func (s *slabs) newDuration(v Duration) *Duration {
	if !s.grow {
		p := new(Duration) // not &v: v would then be on the heap even with grow
		*p = v
		return p
	}
	if len(s.durs) == cap(s.durs) {
		s.durs = make([]Duration, 0, s.slabCap(1, cap(s.durs), 1))
	}
	s.durs = append(s.durs, v)
	return &s.durs[len(s.durs)-1]
}

// reuse empties the slabs for the next event, keeping their memory: the
// values handed out for the last event are overwritten.
func (s *slabs) reuse() {
	s.ints, s.floats, s.strs, s.durs, s.refSlab = s.ints[:0], s.floats[:0], s.strs[:0], s.durs[:0], s.refSlab[:0]
	s.grow = true
}
