package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/eventlogdb/eventlog/memory"
)

// byteBudget is a counting semaphore over bytes: it bounds the memory of
// the request bodies being read and held at once (Config.MaxBodyBytesInFlight).
// The same bytes are charged to the store's memory budget (mem, the
// account AccountBodies of eventlog's DB.Memory), so bodies also wait while
// the heads, seals and caches hold the store's memory limit: ingest slows
// under memory pressure instead of the process growing.
type byteBudget struct {
	mu    sync.Mutex
	total int64
	used  int64
	freed chan struct{} // closed, and replaced, whenever bytes are released
	mem   *memory.Account
}

// AccountBodies is the server's account in the store's memory budget: the
// request bodies being read and held.
const AccountBodies = "bodies"

// errBudgetFull: the bytes asked for did not free in time.
var errBudgetFull = errors.New("request body budget full")

// errMemoryFull: the store's memory budget had no room in time.
var errMemoryFull = errors.New("memory budget full")

func newByteBudget(total int64, mem *memory.Account) *byteBudget {
	return &byteBudget{total: total, freed: make(chan struct{}), mem: mem}
}

// acquire takes n bytes, of the body budget and then of the memory budget,
// waiting at most wait in all for them to free. It fails with
// errBudgetFull (at once if n is over the whole budget), errMemoryFull or
// the context's error, holding nothing.
func (b *byteBudget) acquire(ctx context.Context, n int64, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	if err := b.acquireBodies(ctx, n, wait); err != nil {
		return err
	}
	err := b.mem.Acquire(ctx, n, time.Until(deadline))
	if errors.Is(err, memory.ErrFull) {
		err = errMemoryFull
	}
	if err != nil {
		b.releaseBodies(n)
	}
	return err
}

// acquireBodies takes n bytes of the body budget alone, as acquire does.
func (b *byteBudget) acquireBodies(ctx context.Context, n int64, wait time.Duration) error {
	ok, freed := b.tryAcquire(n)
	if ok {
		return nil
	}
	if n > b.total {
		return errBudgetFull
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-freed:
		case <-t.C:
			return errBudgetFull
		case <-ctx.Done():
			return ctx.Err()
		}
		if ok, freed = b.tryAcquire(n); ok {
			return nil
		}
	}
}

// tryAcquire takes n bytes if they are free; else it returns a channel
// closed at the next release.
func (b *byteBudget) tryAcquire(n int64) (bool, <-chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n <= b.total {
		b.used += n
		return true, nil
	}
	return false, b.freed
}

// release gives back n bytes to both budgets and wakes the waiters.
func (b *byteBudget) release(n int64) {
	b.mem.Release(n)
	b.releaseBodies(n)
}

// releaseBodies gives back n bytes of the body budget alone.
func (b *byteBudget) releaseBodies(n int64) {
	if n == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
	close(b.freed)
	b.freed = make(chan struct{})
}

// inUse returns the bytes taken now.
func (b *byteBudget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// usageText lists a memory budget's charges by account, largest first, for
// error messages: "heads 1048576, bodies 65536".
func usageText(usage map[string]int64) string {
	names := slices.Collect(maps.Keys(usage))
	slices.SortFunc(names, func(a, b string) int { return cmp.Or(cmp.Compare(usage[b], usage[a]), strings.Compare(a, b)) })
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = fmt.Sprintf("%s %d", name, usage[name])
	}
	return strings.Join(parts, ", ")
}
