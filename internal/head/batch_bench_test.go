package head_test

import (
	"sync/atomic"
	"testing"
	"time"

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

// BenchmarkInsertBatch groups and inserts realistic events into heads as
// the write path does (head.Batch.Add, then Head.InsertBatch), in batches
// of 10,000 into heads of 60,000 (about where the store rolls them), each
// new head sized from the previous one (NewSized). One op is one event.
//
//	go test ./internal/head -run '^$' -bench InsertBatch -benchtime 300000x
func BenchmarkInsertBatch(b *testing.B) {
	const batch, perHead = 10_000, 60_000
	g := bench.NewGenerator(bench.GeneratorConfig{Seed: 1})
	const distinct = 120_000 // two heads' worth: terms differ between heads
	terms := make([][]index.Term, distinct)
	ts := make([]int64, distinct)
	for i := range terms {
		ev := g.Next()
		terms[i] = index.AppendTerms(nil, &ev)
		ts[i] = ev.Timestamp.UnixNano()
	}
	data := []byte("an event's binary form, a few hundred bytes in truth")
	var published atomic.Uint64
	h := head.New(&published)
	var hb head.Batch
	b.ReportAllocs()
	b.ResetTimer()
	seq, inHead, next := uint64(1), 0, 0
	for i := 0; i < b.N; i += batch {
		if inHead == perHead {
			st := h.Stats()
			h = head.NewSized(&published, st.Rows, st.Terms)
			inHead = 0
		}
		n := min(batch, b.N-i)
		hb.Reset()
		for range n {
			hb.Add(ts[next], terms[next])
			next = (next + 1) % distinct
		}
		h.InsertBatch(seq, &hb, func(yield func([]byte) bool) {
			for range n {
				if !yield(data) {
					return
				}
			}
		}, time.Time{})
		seq += uint64(n)
		inHead += n
	}
}
