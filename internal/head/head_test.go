package head

import (
	"bytes"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/internal/match"
)

// row is the test's own record of what it inserted: an event's position,
// binary form and posting keys (index.AppendTerms).
type row struct {
	pos   match.Position
	data  []byte
	terms []index.Term
}

// eventSetters set the fields behind a pool of posting keys; the last one
// is on few rows.
var eventSetters = []func(e *event.Event){
	func(e *event.Event) { e.Tags.Values = append(e.Tags.Values, "a") },
	func(e *event.Event) { e.Tags.Values = append(e.Tags.Values, "b") },
	func(e *event.Event) { e.User.Name = "x" },
	func(e *event.Event) { e.Event.Outcome = "y" },
	func(e *event.Event) { e.Log.Level = "rare" },
}

// genRow draws the event of row i (sequence number i+1).
func genRow(rt *rapid.T, i int, ts int64) row {
	var e event.Event
	for k, set := range eventSetters {
		odds := 3
		if k == len(eventSetters)-1 {
			odds = 40
		}
		if rapid.IntRange(0, odds).Draw(rt, "has") == 0 {
			set(&e)
		}
	}
	e.Message = fmt.Sprint("row ", i)
	return row{pos: match.Position{TS: ts, Seq: uint64(i + 1)}, data: event.AppendBinary(nil, &e), terms: index.AppendTerms(nil, &e)}
}

// termsOf lists the distinct posting keys of rows.
func termsOf(rows []row) []index.Term {
	var out []index.Term
	for _, r := range rows {
		for _, t := range r.terms {
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out
}

// TestSnapshotSourceMatchesBruteForce checks what the query engine reads
// from a snapshot, with some rows not yet published, against the test's own
// record: one block of the visible rows in arrival order, their keys, and
// for every term exactly the visible rows holding it.
func TestSnapshotSourceMatchesBruteForce(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var published atomic.Uint64
		h := New(&published)
		var grew int64
		h.OnGrow(func(d int64) { grew += d })
		n := rapid.IntRange(0, 300).Draw(rt, "rows")
		var rows []row
		for i := range n {
			rows = append(rows, genRow(rt, i, int64(rapid.IntRange(0, 50).Draw(rt, "ts"))))
		}
		grew += insertInBatches(rt, h, rows)
		for range rapid.IntRange(0, 3).Draw(rt, "postings added before reading") {
			h.IndexPending()
		}
		checkSnapshot(rt, h, &published, rows)
		h.IndexAll() // the snapshot may have read none
		checkMemory(rt, h, rows, grew)
	})
}

// checkSnapshot publishes some of rows, inserted into h, and checks what a
// snapshot of h gives the query engine against them.
func checkSnapshot(rt *rapid.T, h *Head, published *atomic.Uint64, rows []row) {
	n := len(rows)
	pub := rapid.IntRange(0, n).Draw(rt, "published")
	Publish(published, uint64(pub))
	s := h.Snapshot()
	blocks := s.Blocks()
	if pub == 0 {
		if len(blocks) != 0 {
			rt.Fatalf("empty snapshot has blocks %v", blocks)
		}
		return
	}
	if len(blocks) != 1 || blocks[0].Rows != uint32(pub) {
		rt.Fatalf("blocks %+v, want one of %d rows", blocks, pub)
	}
	ts, seq, err := s.Keys(0)
	if err != nil {
		rt.Fatal(err)
	}
	for i := range pub {
		if ts[i] != rows[i].pos.TS || seq[i] != rows[i].pos.Seq {
			rt.Fatalf("row %d: key (%d, %d), want %+v", i, ts[i], seq[i], rows[i].pos)
		}
	}
	for _, term := range termsOf(rows) {
		var want []uint32
		for i := range pub {
			if slices.Contains(rows[i].terms, term) {
				want = append(want, uint32(i))
			}
		}
		bm, err := s.Postings(term)
		if err != nil {
			rt.Fatal(err)
		}
		var got []uint32
		if bm != nil {
			got = bm.ToArray()
		}
		if !slices.Equal(got, want) {
			rt.Fatalf("Postings(%v) = %v, want %v", term, got, want)
		}
	}
}

// TestSortedOrdersEveryRow checks Sorted against the test's own record of
// the rows sorted by (@timestamp, sequence), published or not.
func TestSortedOrdersEveryRow(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var published atomic.Uint64
		h := New(&published)
		n := rapid.IntRange(0, 300).Draw(rt, "rows")
		want := make([]match.Position, n)
		rows := make([]row, n)
		for i := range n {
			want[i] = match.Position{TS: int64(rapid.IntRange(-20, 50).Draw(rt, "ts")), Seq: uint64(i + 1)}
			rows[i] = genRow(rt, i, want[i].TS)
		}
		insertInBatches(rt, h, rows)
		slices.SortFunc(want, func(a, b match.Position) int {
			if a.TS != b.TS {
				return int(a.TS - b.TS)
			}
			return int(a.Seq) - int(b.Seq)
		})
		got := h.Sorted()
		if len(got) != n {
			rt.Fatalf("Sorted returned %d rows, want %d", len(got), n)
		}
		for i, it := range got {
			if it.Position != want[i] || !bytes.Equal(it.Data, rows[it.Seq-1].data) {
				rt.Fatalf("row %d: %+v, want %+v", i, it, want[i])
			}
		}
	})
}

// TestEachPostingGivesEveryTermsRows checks EachPosting against the test's
// own record of each term's rows: it refuses while some postings are
// deferred, and once IndexAll added them gives every term once, with its
// rows ascending.
func TestEachPostingGivesEveryTermsRows(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var published atomic.Uint64
		h := New(&published)
		n := rapid.IntRange(0, 300).Draw(rt, "rows")
		rows := make([]row, n)
		for i := range n {
			rows[i] = genRow(rt, i, int64(rapid.IntRange(0, 50).Draw(rt, "ts")))
		}
		insertInBatches(rt, h, rows)
		got := map[index.Term][]uint32{}
		each := func(t index.Term, rows []uint32) {
			if got[t] != nil {
				rt.Fatalf("term %v given twice", t)
			}
			got[t] = slices.Clone(rows)
		}
		if deferred := h.unindexed.Load(); h.EachPosting(each) == deferred {
			rt.Fatalf("EachPosting reported %v with postings deferred %v", !deferred, deferred)
		}
		h.IndexAll()
		clear(got)
		if !h.EachPosting(each) {
			rt.Fatal("EachPosting refused once every posting was added")
		}
		want := map[index.Term][]uint32{}
		for i, r := range rows {
			for _, t := range r.terms {
				if w := want[t]; len(w) == 0 || w[len(w)-1] != uint32(i) {
					want[t] = append(w, uint32(i))
				}
			}
		}
		if len(got) != len(want) {
			rt.Fatalf("%d terms given, want %d", len(got), len(want))
		}
		for t, w := range want {
			if !slices.Equal(got[t], w) {
				rt.Fatalf("term %v: rows %v, want %v", t, got[t], w)
			}
		}
	})
}

// insertInBatches inserts rows (whose sequence numbers are 1, 2, ...) in
// batches of random sizes through one reused Batch. The first batches may
// defer their postings, as replay's do (Batch.Defer: their keys are not
// given).
func insertInBatches(rt *rapid.T, h *Head, rows []row) (grew int64) {
	var b Batch
	deferring := rapid.Bool().Draw(rt, "replayed")
	for start := 0; start < len(rows); {
		end := min(len(rows), start+rapid.IntRange(1, 40).Draw(rt, "batch"))
		b.Reset()
		deferring = deferring && rapid.Bool().Draw(rt, "still replaying")
		b.Adopt, b.Defer = deferring, deferring
		for _, r := range rows[start:end] {
			terms := r.terms
			if len(terms) > 0 && rapid.Bool().Draw(rt, "repeat a term") {
				terms = append(slices.Clip(terms), terms[0]) // Add tolerates repeats
			}
			if deferring {
				terms = nil
			}
			b.Add(r.pos.TS, terms)
		}
		data := func(yield func([]byte) bool) {
			for i := start; i < end+1; i++ { // one frame too many is ignored
				d := []byte{1}
				if i < len(rows) {
					d = slices.Clone(rows[i].data)
				}
				if !yield(d) {
					return
				}
			}
		}
		grew += h.InsertBatch(uint64(start+1), &b, data, time.Time{})
		start = end
	}
	return grew
}

// checkMemory checks the head's memory estimate, once every deferred
// posting is added, against the formula its doc states, computed from the
// test's record of the rows, and against what the inserts and OnGrow said
// it changed by.
func checkMemory(rt *rapid.T, h *Head, rows []row, grew int64) {
	distinct := map[index.Term]bool{}
	want := int64(len(rows)) * rowMemory
	for _, r := range rows {
		want += int64(len(r.data))
		seen := map[index.Term]bool{}
		for _, t := range r.terms {
			if !seen[t] {
				want += postingMemory
			}
			if !distinct[t] {
				want += termMemory + int64(len(t.Value))
			}
			seen[t], distinct[t] = true, true
		}
	}
	if got := h.Stats().Memory; got != want || grew != want {
		rt.Fatalf("memory estimate %d, inserts said %d, want %d", got, grew, want)
	}
}

// TestAdoptKeepsTheCallersBytes: with Adopt the head keeps the slices it is
// given; without, copies that later changes to the caller's buffer do not
// reach.
func TestAdoptKeepsTheCallersBytes(t *testing.T) {
	for _, adopt := range []bool{false, true} {
		var published atomic.Uint64
		h := New(&published)
		b := Batch{Adopt: adopt}
		b.Add(1, nil)
		buf := []byte{7, 8}
		h.InsertBatch(1, &b, func(yield func([]byte) bool) { yield(buf) }, time.Time{})
		buf[0] = 9
		if got := h.Sorted()[0].Data; (got[0] == 9) != adopt || len(got) != 2 {
			t.Errorf("Adopt %v: the head holds %v after the caller changed its buffer to %v", adopt, got, buf)
		}
	}
}

// TestOwnedBytesAreMappedNotMemory: bytes adopted with an Owner (a WAL
// file's mapping) are counted as mapped, not in the memory estimate, and
// bytes adopted or copied without one as memory.
func TestOwnedBytesAreMappedNotMemory(t *testing.T) {
	var published atomic.Uint64
	h := New(&published)
	insert := func(first uint64, owner any, adopt bool, data ...[]byte) {
		b := Batch{Adopt: adopt, Owner: owner}
		for range data {
			b.Add(1, nil)
		}
		h.InsertBatch(first, &b, slices.Values(data), time.Time{})
	}
	owner := new(int)
	insert(1, owner, true, make([]byte, 100), make([]byte, 50))
	insert(3, owner, true, make([]byte, 7))
	insert(4, nil, true, make([]byte, 11))
	insert(5, nil, false, make([]byte, 13))
	st := h.Stats()
	if st.Bytes != 181 || st.Mapped != 157 || st.Memory != 24+5*rowMemory {
		t.Fatalf("bytes %d mapped %d memory %d, want 181, 157 and %d", st.Bytes, st.Mapped, st.Memory, 24+5*rowMemory)
	}
	if len(h.owners) != 1 || h.owners[0] != owner {
		t.Fatalf("head keeps owners %v, want the one", h.owners)
	}
}

// TestDeferredPostingsUnderConcurrentReaders: while the store adds a
// replayed head's deferred postings in the background and the writer
// inserts more rows, every snapshot's postings hold exactly the rows of
// its events with the term: never a posting without all its rows. Run it
// with -race.
func TestDeferredPostingsUnderConcurrentReaders(t *testing.T) {
	var published atomic.Uint64
	h := New(&published)
	term := func(i int) index.Term { return index.Term{Field: "tags", Value: fmt.Sprint(i % 7)} }
	insert := func(first, n int, deferred bool) {
		b := Batch{Adopt: deferred, Defer: deferred}
		var data [][]byte
		for i := first; i < first+n; i++ {
			var e event.Event
			e.Tags = event.Strings(term(i).Value)
			b.Add(int64(i), []index.Term{term(i)})
			data = append(data, event.AppendBinary(nil, &e))
		}
		h.InsertBatch(uint64(first), &b, slices.Values(data), time.Time{})
		Publish(&published, uint64(first+n-1))
	}
	for first := 1; first <= 2000; first += 100 {
		insert(first, 100, true)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for h.IndexPending() {
		}
	})
	for range 2 {
		wg.Go(func() {
			for range 20 {
				s := h.Snapshot()
				n := uint64(s.rows.len())
				for k := range 7 {
					bm, err := s.Postings(term(k))
					if err != nil {
						t.Error(err)
						return
					}
					for seq := uint64(1); seq <= n; seq++ {
						if has := bm.Contains(uint32(seq - 1)); has != (int(seq)%7 == k) {
							t.Errorf("snapshot of %d rows: term %d on row %d is %v", n, k, seq-1, has)
							return
						}
					}
				}
			}
		})
	}
	for first := 2001; first <= 4000; first += 100 {
		insert(first, 100, false)
	}
	wg.Wait()
}
