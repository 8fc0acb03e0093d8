package sketch

import "math"

const (
	// maxBins bounds the bins of one sign: 32 KiB of counters.
	maxBins = 4096
	// initialBins is the first allocation; most sketches of a real
	// duration distribution settle within a few hundred bins.
	initialBins = 128
)

// store counts values per bin index for one sign. bins[i] counts index
// offset+i. Once collapsed, bins[0] also counts every index below offset,
// and offset never moves down again.
type store struct {
	bins      []uint64
	offset    int64
	count     uint64
	collapsed bool
}

// add counts n values in bin idx. The common case, a bin inside the
// allocated window, is a bounds check and two additions.
func (st *store) add(idx int64, n uint64) {
	i := uint64(idx - st.offset)
	if i < uint64(len(st.bins)) {
		st.bins[i] = satAdd(st.bins[i], n)
		st.count = satAdd(st.count, n)
		return
	}
	st.addSlow(idx, n)
}

// addSlow handles an index outside the window: it folds it into the
// collapsed bin, or moves/grows the window (collapsing when the values
// would need more than maxBins bins).
func (st *store) addSlow(idx int64, n uint64) {
	if st.collapsed && idx < st.offset {
		st.bins[0] = satAdd(st.bins[0], n)
		st.count = satAdd(st.count, n)
		return
	}
	dlo, dhi, ok := st.dataRange()
	if !ok {
		// First value: centre it, as the next may be on either side.
		st.moveTo(idx-initialBins/2, initialBins)
		st.add(idx, n)
		return
	}
	lo, hi := min(idx, dlo), max(idx, dhi)
	st.reframe(lo, hi, idx == hi)
	st.add(idx, n)
}

// dataRange returns the lowest and highest index holding values (the fold
// bin counts as holding values once collapsed).
func (st *store) dataRange() (lo, hi int64, ok bool) {
	first, last := -1, -1
	for i, c := range st.bins {
		if c != 0 || (i == 0 && st.collapsed) {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return 0, 0, false
	}
	return st.offset + int64(first), st.offset + int64(last), true
}

// reframe replaces the window by one covering [lo, hi], collapsing the
// lowest indices when that is wider than maxBins. Spare room goes on the
// side the values grow towards (up when growUp), so that a stream drifting
// one way reallocates only logarithmically often.
func (st *store) reframe(lo, hi int64, growUp bool) {
	if st.collapsed {
		lo = st.offset
	}
	if hi-lo+1 > maxBins {
		lo = hi - maxBins + 1
		st.collapsed = true
	}
	width := hi - lo + 1
	size := min(maxBins, max(initialBins, 2*width))
	offset := lo
	if !growUp && !st.collapsed {
		offset = hi - size + 1
	}
	if size == int64(len(st.bins)) && st.collapsed && offset > st.offset {
		st.shiftUp(offset)
		return
	}
	st.moveTo(offset, size)
}

// moveTo copies the counters into a new window of size bins at offset,
// folding indices below it into its first bin.
func (st *store) moveTo(offset, size int64) {
	nb := make([]uint64, size)
	for i, c := range st.bins {
		if c == 0 {
			continue // spare room, possibly outside the new window
		}
		j := st.offset + int64(i) - offset
		if j < 0 {
			j = 0
		}
		nb[j] = satAdd(nb[j], c)
	}
	st.bins, st.offset = nb, offset
}

// shiftUp slides a full collapsed window up in place to start at offset:
// this happens on every new maximum once collapsed, so it does not
// allocate.
func (st *store) shiftUp(offset int64) {
	k := offset - st.offset
	if k >= int64(len(st.bins)) {
		var folded uint64
		for _, c := range st.bins {
			folded = satAdd(folded, c)
		}
		clear(st.bins)
		st.bins[0] = folded
		st.offset = offset
		return
	}
	for _, c := range st.bins[:k] {
		st.bins[k] = satAdd(st.bins[k], c)
	}
	n := copy(st.bins, st.bins[k:])
	clear(st.bins[n:])
	st.offset = offset
}

// collapseBelow makes every index below b fold into bin b (or a higher
// one): Merge uses it so that the merged sketch never claims accuracy that
// one of its inputs has already given up.
func (st *store) collapseBelow(b int64) {
	if st.collapsed && st.offset >= b {
		return
	}
	hi := b
	if _, dhi, ok := st.dataRange(); ok {
		hi = max(hi, dhi)
	}
	lo := b
	if hi-lo+1 > maxBins {
		lo = hi - maxBins + 1
	}
	st.collapsed = true
	st.moveTo(lo, min(maxBins, max(initialBins, 2*(hi-lo+1))))
}

// merge adds the counts of o.
func (st *store) merge(o *store) {
	if o.count == 0 {
		return
	}
	if o.collapsed {
		st.collapseBelow(o.offset)
	}
	// Highest first: the window is then grown downwards, where the
	// collapse (if any) happens, at most logarithmically often.
	for i := len(o.bins) - 1; i >= 0; i-- {
		if c := o.bins[i]; c != 0 {
			st.add(o.offset+int64(i), c)
		}
	}
}

// clone returns a deep copy.
func (st *store) clone() store {
	c := *st
	c.bins = append([]uint64(nil), st.bins...)
	return c
}

// indexAtRank returns the index of the bin holding the value of 0-based
// rank r in ascending index order (descending when fromTop). If the
// counters saturated and r is past them all, it returns the last bin.
func (st *store) indexAtRank(r uint64, fromTop bool) int64 {
	var seen uint64
	last := int64(0)
	for k := range st.bins {
		i := k
		if fromTop {
			i = len(st.bins) - 1 - k
		}
		c := st.bins[i]
		if c == 0 {
			continue
		}
		last = st.offset + int64(i)
		seen = satAdd(seen, c)
		if r < seen {
			break
		}
	}
	return last
}

// satAdd adds without wrapping: a count of 2^64 values is not reachable by
// adding one at a time, but AddN takes n from outside.
func satAdd(a, b uint64) uint64 {
	s := a + b
	if s < a {
		return math.MaxUint64
	}
	return s
}
