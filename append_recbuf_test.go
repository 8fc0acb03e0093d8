package eventlog

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// TestLargeRecordBufferOutlivesGC: the WAL record buffer of a batch over
// bigRecMin goes back to the DB's recBufs, stays there across garbage
// collections (batchPool alone would have dropped it), and the next large
// batch is encoded into it; both batches are stored whole and read back as
// sent, so the reused buffer's old bytes never show through.
func TestLargeRecordBufferOutlivesGC(t *testing.T) {
	db := mustOpen(t, t.TempDir(), Options{AllowUnregistered: true})
	appendN := func(from, n int) {
		t.Helper()
		bt := db.NewBatch(n)
		for i := from; i < from+n; i++ {
			e := ev("p", "a", "2024-05-01T10:00:00Z")
			e.User.Name = fmt.Sprintf("user-%06d", i)
			e.Message = strings.Repeat("m", 100) // 20,000 events of over 100 bytes: a record over bigRecMin
			if bad := bt.Add(e); bad != nil {
				t.Fatalf("add: %v", bad)
			}
		}
		if _, err := bt.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	const n = 20000
	appendN(0, n) // grown by appending: the store had no frame size yet
	appendN(n, n) // sized by the first, with room to spare
	runtime.GC()
	runtime.GC()
	if db.recBufs.Len() != 1 {
		t.Fatalf("%d record buffers kept after two collections, want 1", db.recBufs.Len())
	}
	kept := db.recBufs.Get(bigRecMin)
	db.recBufs.Put(kept)
	b := new(batch)
	if db.reserveBatch(b, n); &b.rec[:1][0] != &kept[:1][0] {
		t.Fatal("a large batch is encoded into a new buffer, not the kept one")
	}
	db.putBatch(b)

	appendN(2*n, n/2) // shorter than the last: its tail stays in the buffer
	const total = 2*n + n/2
	seen := map[string]bool{}
	for _, r := range findAll(t, db, FindRequest{Limit: 10000}) {
		seen[r.Event.User.Name] = true
	}
	for i := range total {
		if name := fmt.Sprintf("user-%06d", i); !seen[name] {
			t.Fatalf("event of %s missing", name)
		}
	}
	if len(seen) != total {
		t.Fatalf("%d distinct events stored, want %d", len(seen), total)
	}
}
