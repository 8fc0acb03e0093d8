package eventlog

import (
	"context"
	"fmt"

	"github.com/eventlogdb/eventlog/memory"
	"github.com/eventlogdb/eventlog/query"
)

// AccountQueries holds, in the memory budget, the working sets of the
// queries running now (Query, Aggregate, Find, Count, Export): each takes
// its estimate (query.WorkingSet) before it reads anything and gives it
// back when it returns.
const AccountQueries = "queries"

// acquireQueryMemory takes the working set of req under opts from the
// memory budget, waiting at most Options.QueryMemoryWait, and returns the
// function that gives it back. A request that does not compile fails as
// the query would. What waits for room is at most half of what the budget
// can free (takeMemory), so that under a small limit a big query waits for
// a quiet moment instead of never running. When the memory does not free
// in time it fails with ErrMemoryFull, naming what the query needs and
// what holds the budget.
func (db *DB) acquireQueryMemory(ctx context.Context, req query.Request, opts query.Options) (release func(), err error) {
	n, err := query.WorkingSet(req, opts)
	if err != nil {
		return nil, fmt.Errorf("eventlog: query: %w", err)
	}
	return db.acquireWorkingSet(ctx, n)
}

// acquireWorkingSet is acquireQueryMemory for a working set of n bytes.
func (db *DB) acquireWorkingSet(ctx context.Context, n int64) (release func(), err error) {
	release, err = db.takeMemory(ctx, db.mem.Account(AccountQueries), n, db.opts.QueryMemoryWait)
	if err != nil {
		return nil, db.memoryFull(err, "query", n)
	}
	return release, nil
}

// memoryFull wraps err, an Acquire's failure of n bytes for op, saying
// what holds the budget when it is ErrMemoryFull.
func (db *DB) memoryFull(err error, op string, n int64) error {
	if err != memory.ErrFull {
		return fmt.Errorf("eventlog: %s: waiting for memory: %w", op, err)
	}
	return fmt.Errorf("eventlog: %s: %w: it needs about %d bytes, and the memory limit of %d bytes had %d charged (%s) with not enough freed within %s; retry later",
		op, ErrMemoryFull, n, db.mem.Limit(), db.mem.Used(), db.mem.UsageText(), db.opts.QueryMemoryWait)
}
