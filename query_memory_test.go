package eventlog

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/query"
)

// keepGoLimit stops Open from setting the Go runtime's soft limit to the
// small MemoryLimit of a test, which would make the collector run all the
// time.
func keepGoLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(math.MaxInt64 - 1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
}

// queryMemoryStore opens a store under limit with 3000 events, part in
// segments and part in the active head.
func queryMemoryStore(t *testing.T, limit int64, wait time.Duration) *DB {
	keepGoLimit(t)
	db := mustOpen(t, t.TempDir(), Options{AllowUnregistered: true, MemoryLimit: limit, QueryMemoryWait: wait, MaintenanceInterval: -1})
	appendDistinct(t, db, 2000, 500)
	if err := db.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	appendDistinct(t, db, 1000, 500)
	return db
}

// memoryQueries are one of each way to query, each returning what it read.
var memoryQueries = map[string]func(db *DB) (any, error){
	"Query": func(db *DB) (any, error) {
		return db.Query(ctx, query.Request{PerPage: 100, Sort: []query.SortField{{Field: "@timestamp", Order: "desc"}}})
	},
	"Aggregate": func(db *DB) (any, error) {
		return db.Aggregate(ctx, query.Request{Aggs: map[string]query.Agg{"users": {Terms: &query.TermsAgg{Field: "user.name", Size: 5}}}})
	},
	"Export": func(db *DB) (any, error) {
		var seqs []uint64
		err := db.Export(ctx, query.Request{Filter: "user.name:user-1*"}, func(h query.Hit) error {
			seqs = append(seqs, h.Seq)
			return nil
		})
		return seqs, err
	},
	"Count": func(db *DB) (any, error) { return db.Count(ctx, FindRequest{}) },
}

// TestQueryRefusedWhenMemoryIsTaken checks that with the budget taken by
// others, every way to query fails with ErrMemoryFull naming the limit and
// what holds it, charges nothing and reads nothing (Export never calls its
// function); and that once the memory is given back the same queries
// answer as they did before.
func TestQueryRefusedWhenMemoryIsTaken(t *testing.T) {
	const limit = 64 << 20
	db := queryMemoryStore(t, limit, time.Millisecond)
	before := map[string]any{}
	for name, q := range memoryQueries {
		res, err := q(db)
		if err != nil {
			t.Fatalf("%s with the budget free: %v", name, err)
		}
		before[name] = res
	}
	stats := db.Stats()
	other := db.Memory().Account("other")
	other.Charge(limit)
	for name, q := range memoryQueries {
		res, err := q(db)
		if !errors.Is(err, ErrMemoryFull) {
			t.Fatalf("%s with the budget taken: %v, want ErrMemoryFull", name, err)
		}
		if msg := err.Error(); !strings.Contains(msg, fmt.Sprint(limit)) || !strings.Contains(msg, "other ") {
			t.Fatalf("%s: the error does not name the limit and what holds it: %s", name, msg)
		}
		if seqs, ok := res.([]uint64); ok && len(seqs) > 0 {
			t.Fatalf("%s read %d events before it was refused", name, len(seqs))
		}
	}
	if got := db.Memory().Account(AccountQueries).Used(); got != 0 {
		t.Fatalf("refused queries left %d bytes charged", got)
	}
	if after := db.Stats(); after.SegmentEvents != stats.SegmentEvents || after.Segments != stats.Segments || after.HeadEvents != stats.HeadEvents {
		t.Fatalf("refused queries changed the store: %+v, was %+v", after, stats)
	}
	other.Release(limit)
	for name, q := range memoryQueries {
		res, err := q(db)
		if err != nil {
			t.Fatalf("%s once memory is free: %v", name, err)
		}
		if !reflect.DeepEqual(res, before[name]) {
			t.Fatalf("%s answers %v once memory is free, %v before", name, res, before[name])
		}
	}
}

// TestQueryWaitsForMemory checks that a query finding no room waits, and
// answers once another consumer gives memory back.
func TestQueryWaitsForMemory(t *testing.T) {
	const limit = 64 << 20
	db := queryMemoryStore(t, limit, time.Hour) // the release below always comes
	want, err := db.Count(ctx, FindRequest{})
	if err != nil {
		t.Fatal(err)
	}
	other := db.Memory().Account("other")
	other.Charge(limit)
	type answer struct {
		n   int
		err error
	}
	done := make(chan answer)
	go func() {
		n, err := db.Count(ctx, FindRequest{})
		done <- answer{n, err}
	}()
	for db.Memory().Waiting() != 1 {
		time.Sleep(time.Millisecond)
	}
	other.Release(limit)
	if a := <-done; a.err != nil || a.n != want {
		t.Fatalf("the waiting count answered %d, %v; want %d", a.n, a.err, want)
	}
	if got := db.Memory().Account(AccountQueries).Used(); got != 0 {
		t.Fatalf("a finished query left %d bytes charged", got)
	}
}

// TestQueriesAndIngestShareTheBudget runs queries of every kind beside
// appends under a limit that holds about two queries' working sets at
// once: every query answers, with every event acknowledged before it
// started and none that did not exist yet, or is refused with
// ErrMemoryFull; what the queries charge never passes the limit; and
// when all is done the queries' account is empty and nobody waits.
func TestQueriesAndIngestShareTheBudget(t *testing.T) {
	ws, err := query.WorkingSet(query.Request{}, query.Options{NoHits: true})
	if err != nil {
		t.Fatal(err)
	}
	limit := 2*ws + 16<<20 // two counts and the heads' share
	db := queryMemoryStore(t, limit, 10*time.Millisecond)
	var acked atomic.Int64 // events acknowledged
	acked.Store(3000)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 8)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(stop)
		for i := range 20 {
			events := make([]Event, 100)
			for j := range events {
				events[j] = ev("p", "a", "2024-05-01T10:00:00Z")
				events[j].User.Name = fmt.Sprintf("concurrent-%d-%d", i, j)
			}
			if _, err := db.Append(ctx, events...); err != nil {
				errs <- err
				return
			}
			acked.Add(100)
		}
	}()
	var mu sync.Mutex
	var answered, refused int
	var peak int64
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				lo := acked.Load()
				n, err := db.Count(ctx, FindRequest{})
				hi := acked.Load()
				q := db.Memory().Account(AccountQueries).Used()
				mu.Lock()
				peak = max(peak, q)
				switch {
				case errors.Is(err, ErrMemoryFull):
					refused++
				case err != nil:
					errs <- err
				case int64(n) < lo || int64(n) > hi+100: // +100: a batch in flight
					errs <- fmt.Errorf("count %d while %d to %d events were acknowledged", n, lo, hi)
				default:
					answered++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d queries answered, %d refused", answered, refused)
	if answered == 0 {
		t.Fatalf("no query answered (%d refused)", refused)
	}
	if peak > limit {
		t.Fatalf("the queries held %d bytes, over the limit of %d", peak, limit)
	}
	if q, w := db.Memory().Account(AccountQueries).Used(), db.Memory().Waiting(); q != 0 || w != 0 {
		t.Fatalf("after every query: %d bytes charged to queries, %d waiting", q, w)
	}
}
