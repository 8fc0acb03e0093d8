package filter

import (
	"cmp"
	"slices"
	"strings"

	"github.com/agnivade/levenshtein"

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
		all[i] = scored{n, levenshtein.ComputeDistance(name, n)}
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
