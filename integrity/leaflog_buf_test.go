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
	// Every complete tile comes back by its hash (none was recorded, so
	// it is hashed from its entries); the entries are all there, in order.
	r, err := openLeafLog(vfs.OS{}, dir, true, nil, func(uint64, Hash, int) {})
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	if r.size != seq {
		t.Fatalf("%d leaves read back, want %d", r.size, seq)
	}
	if err := r.read(0, r.size, func(idx, s uint64, h Hash) {
		if s != idx+1 || h != (Hash{byte(s), byte(s >> 8)}) {
			t.Fatalf("leaf %d: seq %d hash %x", idx, s, h[:2])
		}
	}); err != nil {
		t.Fatal(err)
	}
}
