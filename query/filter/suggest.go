package filter

import (
	"cmp"
	"slices"
	"strings"

	"github.com/eventlogdb/eventlog/event"
)

// maxSuggestLen bounds the part of an unknown name compared with field names,
// so the edit distances stay cheap for any input (the longest field name is
// under 70 bytes).
const maxSuggestLen = 128

// nearest returns the k names a filter may use (every event field and the
// flat saved-object properties) closest to name by edit distance, ties in
// name order.
func nearest(name string, k int) []string {
	if len(name) > maxSuggestLen {
		name = name[:maxSuggestLen]
	}
	names := event.FieldNames()
	for _, p := range refProps {
		names = append(names, refsName+"."+p)
	}
	type scored struct {
		name string
		dist int
	}
	all := make([]scored, len(names))
	for i, n := range names {
		all[i] = scored{n, editDistance(name, n)}
	}
	slices.SortFunc(all, func(a, b scored) int {
		return cmp.Or(cmp.Compare(a.dist, b.dist), strings.Compare(a.name, b.name))
	})
	out := make([]string, 0, k)
	for _, s := range all[:min(k, len(all))] {
		out = append(out, s.name)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, in bytes (field
// names are ASCII), with two rows of memory.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
