package integrity

import (
	"testing"

	"github.com/eventlogdb/eventlog/internal/vfs"
)

// TestLeafLogReusesQueue: once the leaf queue has grown to a batch's size,
// queueing and flushing another batch of that size allocates nothing (the
// queue used to be resliced to nothing at every flush and grown again), and
// the leaves flushed are all in the files, in order, when reopened.
func TestLeafLogReusesQueue(t *testing.T) {
	dir := t.TempDir()
	l, err := openLeafLog(vfs.OS{}, dir, false, nil, func(uint64, Hash, int) {})
	if err != nil {
		t.Fatal(err)
	}
	const batch = 1000
	seq := uint64(0)
	queue := func() {
		for range batch {
			seq++
			l.add(seq, Hash{byte(seq), byte(seq >> 8)})
		}
		if err := l.flush(); err != nil {
			t.Fatal(err)
		}
	}
	queue() // grows the queue
	if n := testing.AllocsPerRun(20, queue); n != 0 {
		t.Fatalf("queueing and flushing %d leaves made %v allocations, want 0", batch, n)
	}
	if err := l.close(); err != nil {
		t.Fatal(err)
	}
	var got uint64
	if _, err := openLeafLog(vfs.OS{}, dir, true, nil, func(s uint64, h Hash, _ int) {
		got++
		if s != got || h != (Hash{byte(s), byte(s >> 8)}) {
			t.Fatalf("leaf %d: seq %d hash %x", got, s, h[:2])
		}
	}); err != nil {
		t.Fatal(err)
	}
	if got != seq {
		t.Fatalf("%d leaves read back, want %d", got, seq)
	}
}
