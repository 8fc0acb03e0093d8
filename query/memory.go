package query

import (
	"runtime"
	"time"
	"unsafe"

	"github.com/eventlogdb/eventlog/event"
)

// The parts of a query's working set that WorkingSet adds up. They are
// estimates of what Execute allocates, erring high.
const (
	// eventStructBytes is one event.Event: the decode scratch holds a
	// chunk of them (maxChunkRows), the page one per hit.
	eventStructBytes = int64(unsafe.Sizeof(event.Event{}))
	// pageEventBytes is one event of the page: its struct, the strings
	// decoded into it, and its encoded answer (the generated events
	// average 756 B of JSON; 2 KiB leaves room for larger ones).
	pageEventBytes = eventStructBytes + 2<<10
	// blockBuffersBytes is a block's decompressed columns and decoded keys
	// while its rows are decoded (a full block's keys alone are ~200 KB).
	blockBuffersBytes = 4 << 20
	// aggStateBytes is one aggregation's buckets, per worker: a terms
	// aggregation counts every distinct value it meets, not just the top
	// Size.
	aggStateBytes = 1 << 20
	// hitBytes is one kept sort position (hit) with its slice header;
	// valueBytes one sort key's value in it.
	hitBytes   = int64(unsafe.Sizeof(hit{}))
	valueBytes = int64(unsafe.Sizeof(value{}))
)

// WorkingSet estimates the most memory Execute holds at once for req under
// opts, beyond what the snapshot's sources hold: the decode scratch (a
// chunk of maxChunkRows events and a block's column buffers, per
// aggregation worker), the column buffers of the page's decoders, the
// aggregations' buckets, the sort positions kept
// for the page (up to twice the window between trims) and the page's
// decoded events. A store charges it to its memory budget before running
// the query, so a query waits for memory, or is refused, instead of
// growing the heap. It fails as Execute would on a request that does not
// compile.
func WorkingSet(req Request, opts Options) (int64, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	p, err := compile(req, now, opts.ParseFilter)
	if err != nil {
		return 0, err
	}
	offset, limit := p.window()
	k := offset + limit + 1
	if opts.NoHits {
		k, limit = 0, 0
	}
	workers := int64(1)
	if k == 0 && len(p.aggs) > 0 { // visitParallel may run one per CPU
		workers = int64(runtime.GOMAXPROCS(0))
	}
	perWorker := maxChunkRows*eventStructBytes + blockBuffersBytes + int64(countAggs(p.aggs))*aggStateBytes
	n := workers * perWorker
	if k > 0 {
		n += int64(2*k+1024) * (hitBytes + int64(len(p.keys))*valueBytes)
		// The page's blocks are decoded on every CPU (pageWorkers), each
		// with its column buffers.
		n += int64(pageWorkers(limit)-1) * blockBuffersBytes
	}
	return n + int64(limit)*pageEventBytes, nil
}

// PageBytes is what a page of n decoded hits holds, the share of
// WorkingSet a caller holds again while it reads one page and the next
// runs (an export's steps, which run a step ahead).
func PageBytes(n int) int64 { return int64(n) * pageEventBytes }

// countAggs counts the aggregations of specs and their sub-aggregations.
func countAggs(specs []*aggSpec) int {
	n := len(specs)
	for _, s := range specs {
		n += countAggs(s.subs)
	}
	return n
}
