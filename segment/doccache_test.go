package segment

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/memory"
)

// TestDocCacheAnswersLikeTheRows reads random sets of whole rows through
// Decode from segments sharing one DocCache, under random bounds and
// budgets, and checks every answer against the rows written (as JSON, an
// independent rendering), whether it came from the blocks or the cache:
// a cached document is the event decoded from its columns. Reads of more
// than DocCacheRows rows of a block keep nothing; the account always
// holds what the cache holds, within its bound and the budget; hits are
// counted for rows kept; closing a segment gives its documents back.
func TestDocCacheAnswersLikeTheRows(t *testing.T) {
	dir := t.TempDir()
	rapid.Check(t, func(rt *rapid.T) {
		sets := rapid.SliceOfN(genRows(300), 1, 3).Draw(rt, "segments")
		limit := 1024 * rapid.Int64Range(1, 64).Draw(rt, "limit KiB")
		bound := 256 * rapid.Int64Range(1, 64).Draw(rt, "bound")
		budget := memory.New(limit)
		acct, other := budget.Account("doc_cache"), budget.Account("other")
		c := NewDocCache(acct, bound)
		blockRows := rapid.SampledFrom([]int{16, 200}).Draw(rt, "block rows")
		readers := make([]*Reader, len(sets))
		for i, rows := range sets {
			path := filepath.Join(dir, fmt.Sprintf("seg%d", i))
			if _, err := Write(path, rows, WriteOptions{BlockRows: blockRows}); err != nil {
				rt.Fatalf("Write: %v", err)
			}
			r, err := Open(path, OpenOptions{Docs: c})
			if err != nil {
				rt.Fatalf("Open: %v", err)
			}
			readers[i] = r
		}
		var otherHeld int64
		for range rapid.IntRange(1, 30).Draw(rt, "steps") {
			si := rapid.IntRange(0, len(sets)-1).Draw(rt, "segment")
			if rapid.IntRange(0, 5).Draw(rt, "op") == 0 {
				if otherHeld > 0 {
					other.Release(otherHeld)
					otherHeld = 0
				} else if n := rapid.Int64Range(1, limit).Draw(rt, "other"); other.TryCharge(n) {
					otherHeld = n
				}
				continue
			}
			checkDocRead(rt, readers[si], sets[si], c)
			checkDocAccount(rt, c, acct, budget, bound)
		}
		for _, r := range readers {
			r.Close()
		}
		other.Release(otherHeld)
		if acct.Used() != 0 || c.Held() != 0 || len(c.m) != 0 {
			rt.Fatalf("after Close the account holds %d, the cache %d bytes in %d entries", acct.Used(), c.Held(), len(c.m))
		}
	})
}

// checkDocRead decodes a random increasing set of rows of a random block
// of r through Decode, twice, and checks both against rows.
func checkDocRead(t *rapid.T, r *Reader, rows []Row, c *DocCache) {
	blocks := r.Blocks()
	bi := rapid.IntRange(0, len(blocks)-1).Draw(t, "block")
	b := blocks[bi]
	all := make([]int, b.Rows)
	for i := range all {
		all[i] = i
	}
	want := rapid.SliceOfNDistinct(rapid.SampledFrom(all), 1, int(b.Rows), rapid.ID[int]).Draw(t, "rows")
	slices.Sort(want)
	for pass := range 2 {
		hits := c.Hits()
		out := make([]event.Event, len(want))
		ptrs := make([]*event.Event, len(want))
		for i := range out {
			ptrs[i] = &out[i]
		}
		if err := r.Decode(bi, want, nil, ptrs); err != nil {
			t.Fatalf("Decode(block %d, %v): %v", bi, want, err)
		}
		for i, row := range want {
			if got, exp := jsonOf(&out[i]), jsonOf(rows[int(b.FirstRow)+row].Event); got != exp {
				t.Fatalf("pass %d, block %d row %d:\n got %s\nwant %s", pass, bi, row, got, exp)
			}
		}
		if len(want) > DocCacheRows && c.Hits() != hits {
			t.Fatalf("a read of %d rows of a block took %d from the cache", len(want), c.Hits()-hits)
		}
		checkRowKeys(t, r, bi, want, rows)
		// A caller owns what it gets: changing it changes no later answer.
		for i := range out {
			out[i].Message = "changed"
			if len(out[i].Kibana.SavedObjects) > 0 {
				out[i].Kibana.SavedObjects[0].ID = "changed"
			}
		}
	}
}

// checkRowKeys checks RowKeys, when it answers, against the rows' own
// positions, and that it answers for rows a read just kept.
func checkRowKeys(t *rapid.T, r *Reader, bi int, want []int, rows []Row) {
	ts, seq, ok := r.RowKeys(bi, want)
	if !ok {
		return
	}
	first := int(r.Blocks()[bi].FirstRow)
	for i, row := range want {
		e := rows[first+row]
		if ts[i] != e.Event.Timestamp.UnixNano() || seq[i] != e.Seq {
			t.Fatalf("block %d row %d: RowKeys (%d, %d), want (%d, %d)", bi, row, ts[i], seq[i], e.Event.Timestamp.UnixNano(), e.Seq)
		}
	}
}

// checkDocAccount checks the account against the kept documents.
func checkDocAccount(t tb, c *DocCache, acct *memory.Account, budget *memory.Budget, bound int64) {
	c.mu.Lock()
	var sum int64
	for e := c.lru.Front(); e != nil; e = e.Next() {
		d := e.Value.(*docEntry)
		if c.m[d.key] != e {
			t.Fatalf("the entry of %v is not the map's", d.key)
		}
		sum += int64(len(d.doc)) + docEntryOverhead
	}
	n := len(c.m)
	c.mu.Unlock()
	if n != c.lru.Len() {
		t.Fatalf("the map holds %d entries, the list %d", n, c.lru.Len())
	}
	if acct.Used() != sum || c.Held() != sum {
		t.Fatalf("the account holds %d, the cache %d, its entries %d", acct.Used(), c.Held(), sum)
	}
	if sum > bound || budget.Used() > budget.Limit() {
		t.Fatalf("the cache holds %d (bound %d), the budget %d of %d", sum, bound, budget.Used(), budget.Limit())
	}
}

// TestDocCacheServesRepeatedReads checks where a sparse read's rows come
// from: the first read of a row decodes its block, the next ones take it
// from the cache, and rows are told apart by block and row.
func TestDocCacheServesRepeatedReads(t *testing.T) {
	ev := func(i int) *event.Event {
		e := &event.Event{Message: fmt.Sprintf("event %d", i)}
		e.Timestamp, _ = event.DateFromParts(int64(1_700_000_000_000_000_000+i*1_000_000), 0)
		return e
	}
	rows := make([]Row, 100)
	for i := range rows {
		rows[i] = Row{Seq: uint64(i + 1), Event: ev(i)}
	}
	c := NewDocCache(nil, 1<<20)
	path := filepath.Join(t.TempDir(), "seg")
	if _, err := Write(path, rows, WriteOptions{BlockRows: 50}); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path, OpenOptions{Docs: c})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	read := func(bi int, want []int) {
		t.Helper()
		out := make([]event.Event, len(want))
		ptrs := make([]*event.Event, len(want))
		for i := range out {
			ptrs[i] = &out[i]
		}
		if err := r.Decode(bi, want, nil, ptrs); err != nil {
			t.Fatal(err)
		}
		for i, row := range want {
			if got, exp := out[i].Message, rows[50*bi+row].Event.Message; got != exp {
				t.Fatalf("block %d row %d: %q, want %q", bi, row, got, exp)
			}
		}
	}
	read(1, []int{3, 7})
	if c.Hits() != 0 || c.Misses() != 2 {
		t.Fatalf("first read: %d hits, %d misses; want 0, 2", c.Hits(), c.Misses())
	}
	read(1, []int{3, 5, 7})
	if c.Hits() != 2 || c.Misses() != 3 {
		t.Fatalf("second read: %d hits, %d misses; want 2, 3", c.Hits(), c.Misses())
	}
	read(0, []int{3}) // row 3 of block 0 is another row than row 3 of block 1
	if c.Hits() != 2 || c.Misses() != 4 {
		t.Fatalf("third read: %d hits, %d misses; want 2, 4", c.Hits(), c.Misses())
	}
	// The keys of kept rows, and only of kept rows.
	if ts, seq, ok := r.RowKeys(1, []int{3, 5}); !ok || seq[0] != 54 || seq[1] != 56 || ts[1] != rows[55].Event.Timestamp.UnixNano() {
		t.Fatalf("RowKeys of kept rows: %v %v %v", ts, seq, ok)
	}
	if _, _, ok := r.RowKeys(1, []int{3, 4}); ok {
		t.Fatal("RowKeys answered for a row never read")
	}
}

// TestDocCacheConcurrentReads has goroutines read sparse rows of segments
// sharing a cache too small for all of them, so that entries are kept,
// hit and dropped while others read: every answer matches the rows
// written (run it with -race), and the cache ends empty once the segments
// close.
func TestDocCacheConcurrentReads(t *testing.T) {
	acct := memory.New(1 << 30).Account("doc_cache")
	c := NewDocCache(acct, 16<<10)
	dir := t.TempDir()
	var readers []*Reader
	var sets [][]Row
	for i := range 3 {
		rows := genRows(200).Example(i)
		path := filepath.Join(dir, fmt.Sprintf("seg%d", i))
		if _, err := Write(path, rows, WriteOptions{BlockRows: 32}); err != nil {
			t.Fatal(err)
		}
		r, err := Open(path, OpenOptions{Docs: c})
		if err != nil {
			t.Fatal(err)
		}
		readers, sets = append(readers, r), append(sets, rows)
	}
	errs := make(chan error, 4)
	for g := range 4 {
		go func() {
			errs <- func() error {
				for i := range 300 {
					si := (g + i) % len(readers)
					r, rows := readers[si], sets[si]
					blocks := r.Blocks()
					bi := (g*7 + i) % len(blocks)
					b := blocks[bi]
					want := []int{i % int(b.Rows)}
					if j := (i*3 + g) % int(b.Rows); j > want[0] {
						want = append(want, j)
					}
					out := make([]event.Event, len(want))
					ptrs := []*event.Event{&out[0]}
					if len(want) > 1 {
						ptrs = append(ptrs, &out[1])
					}
					if err := r.Decode(bi, want, nil, ptrs); err != nil {
						return err
					}
					for k, row := range want {
						if got, exp := jsonOf(&out[k]), jsonOf(rows[int(b.FirstRow)+row].Event); got != exp {
							return fmt.Errorf("segment %d block %d row %d:\n got %s\nwant %s", si, bi, row, got, exp)
						}
					}
					if ts, seq, ok := r.RowKeys(bi, want); ok {
						for k, row := range want {
							e := rows[int(b.FirstRow)+row]
							if ts[k] != e.Event.Timestamp.UnixNano() || seq[k] != e.Seq {
								return fmt.Errorf("segment %d block %d row %d: RowKeys (%d, %d)", si, bi, row, ts[k], seq[k])
							}
						}
					}
				}
				return nil
			}()
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if c.Hits() == 0 {
		t.Fatal("no read took a row from the cache")
	}
	for _, r := range readers {
		r.Close()
	}
	if acct.Used() != 0 || c.Held() != 0 {
		t.Fatalf("after Close the account holds %d, the cache %d", acct.Used(), c.Held())
	}
}
