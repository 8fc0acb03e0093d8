package timespan

// cellID identifies a bucket among all buckets of an interval, whatever
// the zone period: for calendar units the local day, week, month or year
// number; for fixed units the phase of the grid (offset mod length) and the
// grid cell. Two zone periods continue each other's bucket exactly when
// they give it the same cellID.
type cellID struct {
	phase, n int64
}

// cell is one bucket as seen by the wall clock of a single UTC offset.
type cell struct {
	id cellID
	// start and end bound the instants [start, end) this clock gives the
	// bucket (clamped to the int64 range); the zone period in effect may
	// cover only part of them.
	start, end int64
}

// cellAt returns the cell holding ns for a clock off seconds east of UTC.
func (b Bucketer) cellAt(ns, off int64) cell {
	if length, ok := b.iv.fixedLength(); ok {
		return fixedCell(ns, off, length)
	}
	return b.calendarCell(ns, off)
}

// fixedCell is the grid cell start = ns - mod(ns+offset, length) of a fixed
// interval, computed without forming ns+offset, which can overflow.
func fixedCell(ns, off, length int64) cell {
	phase := mod(off*1e9, length)
	r := uint64(mod(ns, length)) + uint64(phase) // < 2*length, fits uint64
	n := floorDiv(ns, length)
	if r >= uint64(length) {
		r -= uint64(length)
		n++
	}
	return cell{
		id:    cellID{phase: phase, n: n},
		start: addClamp(ns, -int64(r)),
		end:   addClamp(ns, length-int64(r)),
	}
}

// calendarCell returns the local day, week, month or year of ns for a
// clock off seconds east of UTC, with its first and next local midnights
// as instants of that clock.
func (b Bucketer) calendarCell(ns, off int64) cell {
	day := floorDiv(floorDiv(ns, 1e9)+off, 86400)
	var n, first, next int64 // bucket number, its first day, the next one's
	switch b.iv.unit {
	case unitDay:
		size := b.iv.count()
		n = floorDiv(day, size)
		first, next = n*size, n*size+size
	case unitWeek:
		// 1970-01-01 was a Thursday: day -3 is the Monday before.
		n = floorDiv(day+3, 7)
		first, next = n*7-3, n*7+4
	case unitMonth:
		y, m, _ := civilFromDays(day)
		n = y*12 + m - 1
		first, next = daysFromCivil(y, m, 1), daysFromCivil(y+m/12, m%12+1, 1)
	default: // unitYear
		y, _, _ := civilFromDays(day)
		n = y
		first, next = daysFromCivil(y, 1, 1), daysFromCivil(y+1, 1, 1)
	}
	return cell{
		id:    cellID{n: n},
		start: secToNs(first*86400-off, 0),
		end:   secToNs(next*86400-off, 0),
	}
}
