package server

import (
	"context"
	"errors"
	"sync"
	"time"
)

// byteBudget is a counting semaphore over bytes: it bounds the memory of
// the request bodies being read and held at once (Config.MaxBodyBytesInFlight).
type byteBudget struct {
	mu    sync.Mutex
	total int64
	used  int64
	freed chan struct{} // closed, and replaced, whenever bytes are released
}

// errBudgetFull: the bytes asked for did not free in time.
var errBudgetFull = errors.New("request body budget full")

func newByteBudget(total int64) *byteBudget {
	return &byteBudget{total: total, freed: make(chan struct{})}
}

// acquire takes n bytes, waiting at most wait for them to free. It fails
// with errBudgetFull (at once if n is over the whole budget) or the
// context's error.
func (b *byteBudget) acquire(ctx context.Context, n int64, wait time.Duration) error {
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

// release gives back n bytes and wakes the waiters.
func (b *byteBudget) release(n int64) {
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
