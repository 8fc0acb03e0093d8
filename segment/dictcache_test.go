package segment

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/memory"
)

// termModel maps every term of rows (in storage order) to the rows
// holding it, from index.Terms, independently of the postings.
func termModel(rows []Row) map[index.Term][]uint32 {
	m := map[index.Term][]uint32{}
	for i, row := range rows {
		for _, term := range index.Terms(row.Event) {
			if l := m[term]; len(l) == 0 || l[len(l)-1] != uint32(i) {
				m[term] = append(l, uint32(i))
			}
		}
	}
	return m
}

// dictSegment is one segment of the cache tests with its model.
type dictSegment struct {
	r     *Reader
	rows  []Row
	terms map[index.Term][]uint32
	keys  []index.Term // terms, sorted, to draw from
}

func openDictSegments(t tb, dir string, sets [][]Row, c *DictCache) []*dictSegment {
	var out []*dictSegment
	for i, rows := range sets {
		path := filepath.Join(dir, fmt.Sprintf("seg%d", i))
		if _, err := Write(path, rows, WriteOptions{BlockRows: 16}); err != nil {
			t.Fatalf("Write: %v", err)
		}
		r, err := Open(path, OpenOptions{Dicts: c})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		s := &dictSegment{r: r, rows: rows, terms: termModel(rows)}
		for term := range s.terms {
			s.keys = append(s.keys, term)
		}
		slices.SortFunc(s.keys, func(a, b index.Term) int {
			return strings.Compare(a.Field+"\x00"+a.Value, b.Field+"\x00"+b.Value)
		})
		out = append(out, s)
	}
	return out
}

// kept reports whether s's dictionary is in its cache now.
func (s *dictSegment) kept() bool {
	c := s.r.dicts
	c.mu.Lock()
	defer c.mu.Unlock()
	return s.r.slot.post != nil
}

// checkLookup compares Postings(term) with the model.
func (s *dictSegment) checkLookup(t *rapid.T, term index.Term) {
	bm, err := s.r.Postings(term)
	if err != nil {
		t.Fatalf("Postings(%v): %v", term, err)
	}
	var got []uint32
	if bm != nil {
		got = bm.ToArray()
	}
	if want := s.terms[term]; !slices.Equal(got, want) {
		t.Fatalf("Postings(%v) = %v, want %v", term, got, want)
	}
}

// checkEachTerm compares EachTerm(field, prefix) with the model's terms
// of field starting with prefix, in value order.
func (s *dictSegment) checkEachTerm(t *rapid.T, field, prefix string) {
	var want []string
	for term := range s.terms {
		if term.Field == field && strings.HasPrefix(term.Value, prefix) {
			want = append(want, term.Value)
		}
	}
	sort.Strings(want)
	var got []string
	err := s.r.EachTerm(field, prefix, func(v string, rows *roaring.Bitmap) error {
		if w := s.terms[index.Term{Field: field, Value: v}]; !slices.Equal(rows.ToArray(), w) {
			return fmt.Errorf("term %s=%q: rows %v, want %v", field, v, rows.ToArray(), w)
		}
		got = append(got, v)
		return nil
	})
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("EachTerm(%s, %q) = %q (%v), want %q", field, prefix, got, err, want)
	}
}

// checkEvents compares the events of some rows with the rows written
// (a version 5 file's refs are resolved through the dictionary).
func (s *dictSegment) checkEvents(t *rapid.T) {
	rows := rapid.SliceOfNDistinct(rapid.Uint32Range(0, uint32(len(s.rows)-1)), 1, 6, rapid.ID).Draw(t, "rows")
	slices.Sort(rows)
	evs, err := s.r.Events(rows)
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	for i, row := range rows {
		if got, want := jsonOf(&evs[i]), jsonOf(s.rows[row].Event); got != want {
			t.Fatalf("row %d:\n got %s\nwant %s", row, got, want)
		}
	}
}

// TestDictCacheAnswersLikeTheModel reads several segments sharing one
// DictCache, under a random budget and bound, while another consumer
// takes and gives back room and dictionaries are dropped at random: every
// term lookup, term enumeration and event read answers as the model of
// the rows written says; a read of a kept dictionary decodes nothing and
// one of a dropped dictionary decodes it again; the account always holds
// exactly the kept dictionaries, never more than the bound, never takes
// the budget past its limit, and is empty once the readers are closed.
func TestDictCacheAnswersLikeTheModel(t *testing.T) {
	dir := t.TempDir()
	rapid.Check(t, func(rt *rapid.T) {
		sets := rapid.SliceOfN(genRows(60), 1, 4).Draw(rt, "segments")
		// In units of 512 bytes: a dictionary of these rows takes from
		// tens of bytes to a few KB, so that some fit and some do not.
		limit := 512 * rapid.Int64Range(1, 32).Draw(rt, "limit")
		bound := 512 * rapid.Int64Range(0, 16).Draw(rt, "bound")
		budget := memory.New(limit)
		acct, other := budget.Account("postings_dicts"), budget.Account("other")
		c := NewDictCache(acct, bound)
		segs := openDictSegments(rt, dir, sets, c)
		var otherHeld int64
		for range rapid.IntRange(1, 40).Draw(rt, "steps") {
			s := segs[rapid.IntRange(0, len(segs)-1).Draw(rt, "segment")]
			wasKept, loads := s.kept(), c.Loads()
			needsDict, decided := true, true
			switch op := rapid.IntRange(0, 5).Draw(rt, "op"); op {
			case 0, 1:
				var term index.Term
				if len(s.keys) == 0 || rapid.IntRange(0, 4).Draw(rt, "absent") == 0 {
					term = index.Term{Field: "event.action", Value: rapid.StringN(0, 4, -1).Draw(rt, "value")}
				} else {
					term = rapid.SampledFrom(s.keys).Draw(rt, "term")
				}
				needsDict = !(term.Field == event.ClientIDField && s.r.Layout() >= index.LayoutV4)
				s.checkLookup(rt, term)
			case 2:
				if len(s.keys) == 0 {
					continue
				}
				term := rapid.SampledFrom(s.keys).Draw(rt, "term")
				prefix := term.Value[:rapid.IntRange(0, len(term.Value)).Draw(rt, "prefix")]
				needsDict = !(term.Field == event.ClientIDField && s.r.Layout() >= index.LayoutV4)
				s.checkEachTerm(rt, term.Field, prefix)

			case 3:
				s.checkEvents(rt)
				decided = false // the dictionary is needed only for a block with refs
			case 4:
				c.drop(&s.r.slot)
				needsDict = false
			case 5:
				if otherHeld > 0 {
					other.Release(otherHeld)
					otherHeld = 0
				} else if n := rapid.Int64Range(1, limit).Draw(rt, "other"); other.TryCharge(n) {
					otherHeld = n
				}
				needsDict = false
			}
			switch {
			case !decided:
			case needsDict && wasKept && c.Loads() != loads:
				rt.Fatalf("a read of a kept dictionary decoded it again")
			case needsDict && !wasKept && c.Loads() != loads+1:
				rt.Fatalf("a read of a dropped dictionary decoded %d, want 1", c.Loads()-loads)
			case !needsDict && c.Loads() != loads:
				rt.Fatalf("a read that needs no dictionary decoded one")
			}
			checkDictAccount(rt, c, acct, budget, bound)
		}
		for _, s := range segs {
			s.r.Close()
		}
		other.Release(otherHeld)
		if acct.Used() != 0 || c.Held() != 0 || c.lru.Len() != 0 {
			rt.Fatalf("after Close the account holds %d, the cache %d bytes in %d entries", acct.Used(), c.Held(), c.lru.Len())
		}
	})
}

// checkDictAccount checks the account against the kept dictionaries.
func checkDictAccount(t tb, c *DictCache, acct *memory.Account, budget *memory.Budget, bound int64) {
	c.mu.Lock()
	var sum int64
	for e := c.lru.Front(); e != nil; e = e.Next() {
		s := e.Value.(*dictSlot)
		if s.post == nil || s.bytes != s.post.DictBytes() {
			t.Fatalf("a cache entry of %d bytes holds %v", s.bytes, s.post)
		}
		sum += s.bytes
	}
	c.mu.Unlock()
	if acct.Used() != sum || c.Held() != sum {
		t.Fatalf("the account holds %d, the cache %d, its entries %d", acct.Used(), c.Held(), sum)
	}
	if (bound > 0 && sum > bound) || budget.Used() > budget.Limit() {
		t.Fatalf("the cache holds %d (bound %d), the budget %d of %d", sum, bound, budget.Used(), budget.Limit())
	}
}

// concurrentSegments writes n segments of example rows, opened over c.
func concurrentSegments(t *testing.T, n, rows int, c *DictCache) []*dictSegment {
	sets := make([][]Row, n)
	for i := range sets {
		sets[i] = genRows(rows).Example(i)
	}
	segs := openDictSegments(t, t.TempDir(), sets, c)
	t.Cleanup(func() {
		for _, s := range segs {
			s.r.Close()
		}
	})
	return segs
}

// lookupAll looks up every term of s, returning the first answer that
// differs from the model.
func (s *dictSegment) lookupAll() error {
	for _, term := range s.keys {
		bm, err := s.r.Postings(term)
		if err != nil {
			return fmt.Errorf("Postings(%v): %w", term, err)
		}
		if got, want := bm.ToArray(), s.terms[term]; !slices.Equal(got, want) {
			return fmt.Errorf("Postings(%v) = %v, want %v", term, got, want)
		}
	}
	return nil
}

// TestDictCacheConcurrentReads has goroutines look up every term of
// segments that share a cache too small for all their dictionaries while
// another drops dictionaries as fast as it can: a read whose dictionary
// is dropped under it keeps using it, so every answer matches the model
// (run it with -race), and the account ends empty.
func TestDictCacheConcurrentReads(t *testing.T) {
	budget := memory.New(1 << 30)
	acct := budget.Account("postings_dicts")
	c := NewDictCache(acct, 1) // set below, once the sizes are known
	segs := concurrentSegments(t, 4, 300, c)
	var sizes []int64
	for _, s := range segs {
		p, err := s.r.postings()
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, p.DictBytes())
	}
	c.max = slices.Max(sizes) * 2 // at most two of the four kept
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	stop := make(chan struct{})
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				if err := segs[(g+i)%len(segs)].lookupAll(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var dropper sync.WaitGroup
	dropper.Add(1)
	go func() {
		defer dropper.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
				c.drop(&segs[i%len(segs)].r.slot)
			}
		}
	}()
	wg.Wait()
	close(stop)
	dropper.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	checkDictAccount(t, c, acct, budget, c.max)
	for _, s := range segs {
		s.r.Close()
	}
	if acct.Used() != 0 {
		t.Fatalf("after Close the account holds %d", acct.Used())
	}
}

// TestDictCacheLoadsOnceForConcurrentReads starts many reads of a
// segment whose dictionary is not loaded at the same moment: they decode
// it once and share it. A client id lookup in a file that pages its ids
// decodes nothing.
func TestDictCacheLoadsOnceForConcurrentReads(t *testing.T) {
	c := NewDictCache(nil, 0)
	s := concurrentSegments(t, 1, 2000, c)[0]
	if s.r.Layout() < index.LayoutV4 {
		t.Fatalf("the writer wrote layout %d, want paged client ids", s.r.Layout())
	}
	var ids, others []index.Term
	for _, term := range s.keys {
		if term.Field == event.ClientIDField {
			ids = append(ids, term)
		} else {
			others = append(others, term)
		}
	}
	if len(ids) == 0 || len(others) == 0 {
		t.Fatalf("example rows hold %d client ids and %d other terms", len(ids), len(others))
	}
	for _, term := range ids {
		if _, err := s.r.Postings(term); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.Loads(); n != 0 {
		t.Fatalf("client id lookups decoded %d dictionaries", n)
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			term := others[g%len(others)]
			bm, err := s.r.Postings(term)
			if err == nil && !slices.Equal(bm.ToArray(), s.terms[term]) {
				err = fmt.Errorf("Postings(%v) = %v, want %v", term, bm.ToArray(), s.terms[term])
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := c.Loads(); n != 1 {
		t.Fatalf("16 concurrent reads decoded the dictionary %d times, want 1", n)
	}
}

// TestShareDicts moves a Reader that has loaded its dictionary in its own
// cache to a shared one: the next read loads it there, charged to the
// shared cache's account, and Close gives the charge back.
func TestShareDicts(t *testing.T) {
	s := concurrentSegments(t, 1, 300, nil)[0]
	var term index.Term
	for _, k := range s.keys {
		if k.Field != event.ClientIDField {
			term = k
			break
		}
	}
	own := s.r.dicts
	if err := s.lookupAll(); err != nil {
		t.Fatal(err)
	}
	budget := memory.New(1 << 30)
	acct := budget.Account("postings_dicts")
	c := NewDictCache(acct, 0)
	s.r.ShareDicts(c)
	if own.Held() != 0 {
		t.Fatalf("the reader's own cache still holds %d bytes", own.Held())
	}
	if _, err := s.r.Postings(term); err != nil {
		t.Fatal(err)
	}
	if c.Loads() != 1 || acct.Used() == 0 || acct.Used() != c.Held() {
		t.Fatalf("shared cache: %d loads, account %d, held %d; want 1 load charged", c.Loads(), acct.Used(), c.Held())
	}
	s.r.Close()
	if acct.Used() != 0 {
		t.Fatalf("after Close the account holds %d", acct.Used())
	}
}
