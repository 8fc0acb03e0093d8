// Package memory is a store's memory budget: one limit (eventlog's
// Options.MemoryLimit, the server's --memory-limit) on the Go heap and other
// anonymous memory it holds, shared by every big consumer so that under
// pressure ingest slows instead of the process growing.
//
// A Budget is the accountant; each consumer charges it through an Account
// of its own name, which is how the usage is reported (Usage, the store's
// Stats and the server's /metrics). There are two ways to charge:
//
//   - Charge takes memory that is already held or must be (the rows of an
//     in-memory head, a seal's working set): it always succeeds and may
//     push the budget over its limit, which is the pressure the others see.
//   - TryCharge and Acquire take memory that can wait or be refused (a
//     request body, a query's or a merge's working set, a cache entry):
//     only while the total stays within the limit. Acquire waits for
//     Release up to a deadline; the server answers 429 with Retry-After
//     when it gives up. Peak and Waiting say how high the charges went and
//     who waits now.
//
// The budget counts what its consumers say, not what the runtime sees:
// estimates are fine, and what it does not count (goroutine stacks, small
// allocations, garbage not yet collected) is what the rest of the limit is
// for. The Go runtime's own limit (runtime/debug.SetMemoryLimit) is set to
// the same figure so the collector works harder before the heap grows past
// it. Mapped segment files are page cache, reclaimable by the kernel, and
// are reported beside the budget, never charged to it.
//
// A nil *Budget and a nil *Account are valid and unlimited: charges succeed
// and count nothing, so code can charge whether a limit is set or not.
package memory
