package memory

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestBudgetMatchesModel runs random charges and releases on a few
// accounts against a plain model: a total, a limit and a map of holdings.
func TestBudgetMatchesModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		limit := rapid.Int64Range(0, 1000).Draw(rt, "limit") // 0: unlimited
		b := New(limit)
		names := []string{"heads", "bodies", "cache"}
		held := map[string]int64{}
		var total, peak int64
		for range rapid.IntRange(0, 60).Draw(rt, "steps") {
			name := rapid.SampledFrom(names).Draw(rt, "account")
			a := b.Account(name)
			n := rapid.Int64Range(0, 400).Draw(rt, "n")
			switch rapid.IntRange(0, 2).Draw(rt, "op") {
			case 0:
				a.Charge(n)
				held[name] += n
				total += n
			case 1:
				fits := limit == 0 || n == 0 || total+n <= limit
				if got := a.TryCharge(n); got != fits {
					rt.Fatalf("TryCharge(%d) with %d of %d used = %v, want %v", n, total, limit, got, fits)
				}
				if fits {
					held[name] += n
					total += n
				}
			case 2:
				n = min(n, held[name])
				a.Release(n)
				held[name] -= n
				total -= n
			}
			peak = max(peak, total)
			if b.Used() != total || a.Used() != held[name] || b.Peak() != peak {
				rt.Fatalf("used %d (account %s %d, peak %d), want %d (%d, peak %d)", b.Used(), name, a.Used(), b.Peak(), total, held[name], peak)
			}
			if over := limit > 0 && total > limit; b.Over() != over {
				rt.Fatalf("Over() = %v with %d of %d", b.Over(), total, limit)
			}
		}
		for name, n := range b.Usage() {
			if n != held[name] {
				rt.Fatalf("Usage()[%s] = %d, want %d", name, n, held[name])
			}
		}
	})
}

func TestAcquireWaitsForRelease(t *testing.T) {
	b := New(100)
	heads, bodies := b.Account("heads"), b.Account("bodies")
	heads.Charge(80)
	released := make(chan struct{})
	go func() {
		defer close(released)
		heads.Release(50)
	}()
	// The wait is long enough never to run out: the release is certain.
	if err := bodies.Acquire(context.Background(), 60, time.Hour); err != nil {
		t.Fatalf("Acquire after a release: %v", err)
	}
	<-released
	if got := b.Used(); got != 90 {
		t.Fatalf("used %d, want 90", got)
	}
}

func TestAcquireRefuses(t *testing.T) {
	b := New(100)
	a := b.Account("bodies")
	if err := a.Acquire(context.Background(), 101, time.Hour); !errors.Is(err, ErrFull) {
		t.Fatalf("Acquire over the whole limit: %v, want ErrFull at once", err)
	}
	b.Account("heads").Charge(100)
	if err := a.Acquire(context.Background(), 1, 0); !errors.Is(err, ErrFull) {
		t.Fatalf("Acquire with nothing free and no wait: %v, want ErrFull", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := a.Acquire(ctx, 1, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Acquire with a cancelled context: %v", err)
	}
	if a.Used() != 0 {
		t.Fatalf("refused acquires charged %d", a.Used())
	}
}

func TestNilBudgetIsUnlimited(t *testing.T) {
	var b *Budget
	a := b.Account("x")
	a.Charge(1 << 40)
	if !a.TryCharge(1<<62) || a.Acquire(context.Background(), 1<<62, 0) != nil {
		t.Fatal("a nil account refused a charge")
	}
	a.Release(5)
	if b.Used() != 0 || b.Limit() != 0 || b.Over() || a.Used() != 0 || b.Usage() != nil {
		t.Fatal("a nil budget counted something")
	}
}

func TestSetGoLimitLeavesAnExistingOne(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(prev)
	debug.SetMemoryLimit(math.MaxInt64)
	set, undo := SetGoLimit(256 << 20)
	if !set || debug.SetMemoryLimit(-1) != 256<<20 {
		t.Fatalf("SetGoLimit on an unset runtime: set %v, limit %d", set, debug.SetMemoryLimit(-1))
	}
	if again, _ := SetGoLimit(64 << 20); again || debug.SetMemoryLimit(-1) != 256<<20 {
		t.Fatal("a second SetGoLimit replaced the first")
	}
	undo()
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("undo left %d", got)
	}
	debug.SetMemoryLimit(1 << 30) // as GOMEMLIMIT would
	if set, undo := SetGoLimit(256 << 20); set || debug.SetMemoryLimit(-1) != 1<<30 {
		t.Fatal("SetGoLimit replaced the program's own limit")
	} else {
		undo()
	}
}

// TestAcquireNeverExceedsLimit runs goroutines that acquire and release at
// random, as queries, compactions and request bodies do, and checks the
// budget's invariant: what waits for room never takes the total past the
// limit, each account ends with what it was given back, and no waiter is
// left counted.
func TestAcquireNeverExceedsLimit(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		limit := rapid.Int64Range(1, 1000).Draw(rt, "limit")
		workers := rapid.IntRange(2, 6).Draw(rt, "workers")
		plans := make([][]int64, workers)
		for i := range plans {
			plans[i] = rapid.SliceOfN(rapid.Int64Range(1, limit), 1, 20).Draw(rt, fmt.Sprintf("sizes%d", i))
		}
		b := New(limit)
		names := []string{"queries", "compaction", "bodies"}
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for i, sizes := range plans {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a := b.Account(names[i%len(names)])
				for _, n := range sizes {
					// Every holder releases soon, so a long wait always ends.
					if err := a.Acquire(context.Background(), n, time.Hour); err != nil {
						errs <- fmt.Errorf("Acquire(%d) of %d: %w", n, limit, err)
						return
					}
					if u := b.Used(); u > limit {
						errs <- fmt.Errorf("used %d of %d after an Acquire", u, limit)
					}
					a.Release(n)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			rt.Fatal(err)
		}
		if b.Peak() > limit || b.Used() != 0 || b.Waiting() != 0 {
			rt.Fatalf("peak %d of %d, %d still used, %d waiting", b.Peak(), limit, b.Used(), b.Waiting())
		}
		for name, n := range b.Usage() {
			if n != 0 {
				rt.Fatalf("account %s holds %d after every release", name, n)
			}
		}
	})
}

// TestWaitingCountsWaiters: an Acquire waiting for room is counted until
// it gets it.
func TestWaitingCountsWaiters(t *testing.T) {
	b := New(10)
	b.Account("heads").Charge(10)
	done := make(chan error)
	go func() { done <- b.Account("queries").Acquire(context.Background(), 5, time.Hour) }()
	for b.Waiting() != 1 {
		time.Sleep(time.Millisecond)
	}
	b.Account("heads").Release(10)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if b.Waiting() != 0 || b.Account("queries").Used() != 5 {
		t.Fatalf("waiting %d, queries hold %d", b.Waiting(), b.Account("queries").Used())
	}
}
