// Package nearsort sorts slices that are nearly sorted already: a head's
// rows arrive nearly in @timestamp order (the realistic generator moves
// 2 % of its events back by up to 5 s, which at BenchmarkSeal's 1,000
// events a second of event time is up to a few thousand rows), so a
// segment's sequence numbers in (@timestamp, sequence) order, and the row
// numbers of one posting term mapped to that order, are sorted but for a
// few displaced elements. A binary insertion sort
// takes one binary search per element out of place and one memmove of the
// elements it passes; slices.Sort's pattern-defeating quicksort gives up
// its own insertion pass after a few moves and partitions the whole
// slice. Each function hands the rest to the slices package once the
// elements moved pass a budget proportional to the length, so no input
// costs much more than slices.Sort.
package nearsort

import (
	"cmp"
	"slices"
)

// moveBudget is how many element moves per element (plus moveSlack) the
// insertion sort may make before it hands the rest to slices.Sort: moving
// 64 elements of 4 or 8 bytes costs about what slices.Sort spends per
// element.
const (
	moveBudget = 64
	moveSlack  = 1024
)

// Sort sorts s in ascending order, like slices.Sort.
func Sort[T cmp.Ordered](s []T) { SortFunc(s, cmp.Compare[T]) }

// SortFunc sorts s in ascending order as determined by cmp, like
// slices.SortFunc (so not stable: equal elements may come in any order).
func SortFunc[E any](s []E, cmp func(a, b E) int) {
	budget := moveBudget*len(s) + moveSlack
	for i := 1; i < len(s); i++ {
		v := s[i]
		if cmp(s[i-1], v) <= 0 {
			continue
		}
		j := insertAt(s[:i-1], v, cmp)
		if budget -= i - j; budget < 0 {
			slices.SortFunc(s, cmp)
			return
		}
		copy(s[j+1:i+1], s[j:i])
		s[j] = v
	}
}

// insertAt returns where v goes in sorted s: before the first element
// greater than v. Since v is seldom far from the end, it gallops back from
// there (1, 2, 4, ... elements) before it searches by halves.
func insertAt[E any](s []E, v E, cmp func(a, b E) int) int {
	hi, step := len(s), 1 // s[hi:] are all greater than v
	lo := hi - step
	for lo > 0 && cmp(s[lo], v) > 0 {
		hi = lo
		step *= 2
		lo = hi - step
	}
	lo = max(lo, 0) // s[lo-1] (if any) is not greater than v
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if cmp(s[m], v) > 0 {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}
