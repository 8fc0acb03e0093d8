package segment

import (
	"errors"
	"testing"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
)

// TestEachForMerge checks that EachForMerge yields what Each yields, in
// order, and stops at fn's first error, whatever the chunk of rows it
// decodes at a time (MergeChunkRows, or fewer than a block's rows).
func TestEachForMerge(t *testing.T) {
	dir := t.TempDir()
	rapid.Check(t, func(t *rapid.T) {
		rows := genRows(40).Draw(t, "rows")
		r := writeOpen(t, dir, rows, WriteOptions{BlockRows: rapid.IntRange(1, 16).Draw(t, "blockRows")})
		defer r.Close()
		chunk := rapid.SampledFrom([]int{MergeChunkRows, 1, 2, 3, 5, 8}).Draw(t, "chunk")
		pauses, i := 0, 0
		err := r.eachInChunks(chunk, func() { pauses++ }, func(seq uint64, ev *event.Event) error {
			if seq != rows[i].Seq || jsonOf(ev) != jsonOf(rows[i].Event) {
				t.Fatalf("row %d: seq %d %s, want %d %s", i, seq, jsonOf(ev), rows[i].Seq, jsonOf(rows[i].Event))
			}
			i++
			return nil
		})
		if err != nil || i != len(rows) {
			t.Fatalf("EachForMerge: %v after %d of %d rows", err, i, len(rows))
		}
		if cols := len(r.blocks[0].Cols) - 2; pauses < cols {
			t.Fatalf("pause called %d times, fewer than the %d field columns of the first block", pauses, cols)
		}
		stop := errors.New("stop")
		n := rapid.IntRange(1, len(rows)).Draw(t, "stopAfter")
		i = 0
		err = r.eachInChunks(chunk, nil, func(uint64, *event.Event) error {
			if i++; i == n {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || i != n {
			t.Fatalf("EachForMerge returned %v after %d rows, want stop after %d", err, i, n)
		}
	})
}
