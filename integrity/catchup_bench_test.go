package integrity

import (
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/internal/cputime"
)

// BenchmarkCatchUp measures what the log's goroutine spends per leaf at
// ingest: batches of 10,000 committed digests made durable and given
// leaves (salt, leaf hash, tree, leaf log entry and write, tile hash
// records), in CPU time per leaf. Its floor is the SHA-256 blocks: two
// for the salt, two for the leaf hash and about two for the tree's nodes.
func BenchmarkCatchUp(b *testing.B) {
	const batch = 10_000
	ds := numberedDigests(batch)
	l, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	b.ReportAllocs()
	var cpu time.Duration
	next := uint64(1)
	for b.Loop() {
		c0 := cputime.Process()
		l.Commit(next, ds)
		next += batch
		l.Durable(next - 1)
		if err := l.CatchUp(); err != nil {
			b.Fatal(err)
		}
		cpu += cputime.Process() - c0
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*batch), "cpu-ns/leaf")
}
