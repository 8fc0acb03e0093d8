package server

import (
	"context"
	"errors"
	"time"

	"github.com/eventlogdb/eventlog/memory"
)

// byteBudget bounds the memory of the request bodies being read and held
// at once (Config.MaxBodyBytesInFlight): its own memory.Budget of that
// size. The same bytes are charged to the store's memory budget (mem, the
// account AccountBodies of eventlog's DB.Memory), so bodies also wait while
// the heads, seals and caches hold the store's memory limit: ingest slows
// under memory pressure instead of the process growing.
type byteBudget struct {
	bodies *memory.Account // of a budget of Config.MaxBodyBytesInFlight
	mem    *memory.Account
}

// AccountBodies is the server's account in the store's memory budget: the
// request bodies being read and held.
const AccountBodies = "bodies"

// errBudgetFull: the bytes asked for did not free in time.
var errBudgetFull = errors.New("request body budget full")

// errMemoryFull: the store's memory budget had no room in time.
var errMemoryFull = errors.New("memory budget full")

func newByteBudget(total int64, mem *memory.Account) *byteBudget {
	return &byteBudget{bodies: memory.New(total).Account(AccountBodies), mem: mem}
}

// acquire takes n bytes, of the body budget and then of the memory budget,
// waiting at most wait in all for them to free. It fails with
// errBudgetFull (at once if n is over the whole budget), errMemoryFull or
// the context's error, holding nothing.
func (b *byteBudget) acquire(ctx context.Context, n int64, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	if err := b.bodies.Acquire(ctx, n, wait); err != nil {
		if errors.Is(err, memory.ErrFull) {
			err = errBudgetFull
		}
		return err
	}
	err := b.mem.Acquire(ctx, n, time.Until(deadline))
	if errors.Is(err, memory.ErrFull) {
		err = errMemoryFull
	}
	if err != nil {
		b.bodies.Release(n)
	}
	return err
}

// release gives back n bytes to both budgets and wakes the waiters.
func (b *byteBudget) release(n int64) {
	b.mem.Release(n)
	b.bodies.Release(n)
}

// inUse returns the bytes taken now.
func (b *byteBudget) inUse() int64 { return b.bodies.Used() }
