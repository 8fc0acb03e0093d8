package index_test

import (
	"runtime"
	"testing"

	"github.com/eventlogdb/eventlog/bench"
	"github.com/eventlogdb/eventlog/index"
)

// TestBuilderMemoryPerRow bounds what a Builder holds per row of realistic
// events. A segment writer keeps its Builder until the segment is done, so
// a compaction merge's memory grows with the rows it writes: with a
// []uint32 per term it held 26 bytes a row here (some 600 MiB for a 1 GiB
// merge of 25 million events); with a bitmap per common term, under 12 on
// the generator's first mix and under 19 on issue 15's (20 spaces rather
// than 5, a saved-object ref on every event: more mid-frequency terms, held
// as lists). LayoutV2's derived terms add the event's spaces (20 values,
// held as roaring arrays at 2 bytes a row) and each ref's rel: 20.8 here.
func TestBuilderMemoryPerRow(t *testing.T) {
	const rows, maxPerRow = 400_000, 23
	pool := termPool(20_000)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&before)
	b := index.NewBuilder()
	for r := range rows {
		if err := b.Add(uint32(r), pool[r%len(pool)]); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	perRow := float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / rows
	t.Logf("%d rows, %d terms: %.1f bytes a row", rows, b.Len(), perRow)
	if perRow > maxPerRow {
		t.Errorf("the builder holds %.1f bytes a row, over %d", perRow, maxPerRow)
	}
	runtime.KeepAlive(b)
	runtime.KeepAlive(pool)
}

// termPool returns the terms of n generated events.
func termPool(n int) [][]index.Term {
	g := bench.NewGenerator(bench.GeneratorConfig{Seed: 3})
	pool := make([][]index.Term, n)
	for i := range pool {
		ev := g.Next()
		pool[i] = index.AppendTerms(nil, &ev)
	}
	return pool
}
