package head_test

import (
	"testing"

	"github.com/eventlogdb/eventlog/bench"
	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/internal/head"
)

// BenchmarkBatchAdd groups the posting keys of realistic events as an
// append of 10,000 of them does (head.Batch.Add, under no lock). One op
// is one event.
//
//	go test ./internal/head -run '^$' -bench BatchAdd
func BenchmarkBatchAdd(b *testing.B) {
	const batch = 10_000
	g := bench.NewGenerator(bench.GeneratorConfig{Seed: 1})
	terms := make([][]index.Term, batch)
	for i := range terms {
		ev := g.Next()
		terms[i] = index.AppendTerms(nil, &ev)
	}
	var hb head.Batch
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == batch {
			hb.Reset()
			i = 0
		}
		hb.Add(int64(i), terms[i])
		i++
	}
}
