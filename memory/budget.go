package memory

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
)

// ErrFull is returned by Acquire when the memory asked for did not free in
// time, or can never fit.
var ErrFull = errors.New("memory budget full")

// Budget is the accountant: a limit, and what each account holds. It is
// safe for concurrent use.
type Budget struct {
	limit int64 // <= 0: unlimited

	mu   sync.Mutex
	used int64
	// peak is the highest used has been; waiting counts the Acquires
	// waiting for room now.
	peak     int64
	waiting  int
	accounts map[string]*Account
	freed    chan struct{} // closed, and replaced, at every Release
}

// New returns a budget of limit bytes; limit <= 0 counts without a limit.
func New(limit int64) *Budget {
	return &Budget{limit: max(limit, 0), accounts: make(map[string]*Account), freed: make(chan struct{})}
}

// Limit returns the budget's limit in bytes, 0 when unlimited.
func (b *Budget) Limit() int64 {
	if b == nil {
		return 0
	}
	return b.limit
}

// Used returns the bytes charged to every account together.
func (b *Budget) Used() int64 {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// Peak returns the most the accounts have held together since New: with
// only TryCharge and Acquire it never exceeds the limit; Charge may take it
// past.
func (b *Budget) Peak() int64 {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.peak
}

// Waiting returns how many Acquires are waiting for room now.
func (b *Budget) Waiting() int {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.waiting
}

// Over reports whether the charges exceed the limit: memory that can wait
// should.
func (b *Budget) Over() bool {
	return b != nil && b.limit > 0 && b.Used() > b.limit
}

// Usage returns the bytes each account holds, by name.
func (b *Budget) Usage() map[string]int64 {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	u := make(map[string]int64, len(b.accounts))
	for name, a := range b.accounts {
		u[name] = a.used
	}
	return u
}

// UsageText lists the charges by account, largest first, for error
// messages: "heads 1048576, bodies 65536".
func (b *Budget) UsageText() string {
	usage := b.Usage()
	names := slices.Collect(maps.Keys(usage))
	slices.SortFunc(names, func(x, y string) int { return cmp.Or(cmp.Compare(usage[y], usage[x]), strings.Compare(x, y)) })
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = fmt.Sprintf("%s %d", name, usage[name])
	}
	return strings.Join(parts, ", ")
}

// Account returns the account called name, creating it at first use; the
// same name always gives the same account, so a consumer may ask again
// rather than keep it.
func (b *Budget) Account(name string) *Account {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	a := b.accounts[name]
	if a == nil {
		a = &Account{b: b, name: name}
		b.accounts[name] = a
	}
	return a
}

// Account is one consumer's share of a Budget.
type Account struct {
	b    *Budget
	name string
	used int64 // guarded by b.mu
}

// Name returns the account's name.
func (a *Account) Name() string {
	if a == nil {
		return ""
	}
	return a.name
}

// Used returns the bytes the account holds.
func (a *Account) Used() int64 {
	if a == nil {
		return 0
	}
	a.b.mu.Lock()
	defer a.b.mu.Unlock()
	return a.used
}

// Charge takes n bytes whatever the budget holds: for memory that is
// already in use or cannot wait. It may put the budget over its limit.
func (a *Account) Charge(n int64) {
	if a == nil || n == 0 {
		return
	}
	a.b.mu.Lock()
	defer a.b.mu.Unlock()
	a.b.add(a, n)
}

// add moves n bytes to account a; b.mu is held.
func (b *Budget) add(a *Account, n int64) {
	a.used += n
	b.used += n
	b.peak = max(b.peak, b.used)
}

// TryCharge takes n bytes if the budget stays within its limit, and
// reports whether it did.
func (a *Account) TryCharge(n int64) bool {
	ok, _ := a.tryCharge(n)
	return ok
}

// tryCharge is TryCharge; when it fails it returns a channel closed at the
// next Release.
func (a *Account) tryCharge(n int64) (bool, <-chan struct{}) {
	if a == nil {
		return true, nil
	}
	b := a.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.limit > 0 && b.used+n > b.limit && n > 0 {
		return false, b.freed
	}
	b.add(a, n)
	return true, nil
}

// Acquire takes n bytes as TryCharge does, waiting at most wait for other
// accounts to release enough. It fails with ErrFull (at once if n is over
// the whole limit) or the context's error.
func (a *Account) Acquire(ctx context.Context, n int64, wait time.Duration) error {
	ok, freed := a.tryCharge(n)
	if ok {
		return nil
	}
	if n > a.b.limit {
		return ErrFull
	}
	a.b.wait(1)
	defer a.b.wait(-1)
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-freed:
		case <-t.C:
			return ErrFull
		case <-ctx.Done():
			return ctx.Err()
		}
		if ok, freed = a.tryCharge(n); ok {
			return nil
		}
	}
}

// wait counts an Acquire that starts (d = 1) or stops (-1) waiting.
func (b *Budget) wait(d int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.waiting += d
}

// Release gives back n bytes charged to the account and wakes those
// waiting in Acquire.
func (a *Account) Release(n int64) {
	if a == nil || n == 0 {
		return
	}
	b := a.b
	b.mu.Lock()
	defer b.mu.Unlock()
	b.add(a, -n)
	close(b.freed)
	b.freed = make(chan struct{})
}
