package segment_test

import (
	"fmt"
	"testing"

	. "github.com/eventlogdb/eventlog/segment"
)

// BenchmarkWriteRefKeys writes the same realistic events as format 4 (refs
// by id) and format 5 (refs by key number, VersionRefKeys), at the seal's
// level: the cost of numbering the keys, and the bytes it saves.
func BenchmarkWriteRefKeys(b *testing.B) {
	rows, jsonBytes := benchRows(benchEvents)
	for _, v := range []int{VersionRefKeys - 1, VersionRefKeys} {
		b.Run(fmt.Sprintf("v%d", v), func(b *testing.B) {
			benchWriteVersion(b, rows, jsonBytes, v)
		})
	}
}
