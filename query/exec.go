package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/internal/match"
)

// Execute answers req over snap.
func Execute(ctx context.Context, snap Snapshot, req Request, opts Options) (*Result, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	p, err := compile(req, now, opts.ParseFilter)
	if err != nil {
		return nil, err
	}
	if opts.ExpiredBefore != 0 {
		p.minTS = max(p.minTS, opts.ExpiredBefore)
	}
	x := &executor{plan: p, snap: snap, opts: opts, allowPartial: req.AllowPartial, hits: getHits()}
	defer x.release()
	offset, limit := p.window()
	x.k = offset + limit + 1 // one more tells whether a next page exists
	if opts.NoHits {
		x.k = 0
	}
	if err := x.run(ctx); err != nil {
		return nil, err
	}
	res := &Result{Total: x.total, Page: p.page, PerPage: p.perPage, Partial: len(x.warnings) > 0, Warnings: x.warnings}
	if opts.NoTotal {
		res.Total = -1
	}
	if opts.WholeBlocks {
		limit = x.wholeBlocks(offset, limit)
	}
	if res.Hits, err = x.page(offset, limit); err != nil {
		return nil, err
	}
	if len(res.Hits) == limit && len(x.hits) > offset+limit {
		res.Next = encodeCursor(p.keys, &x.hits[offset+limit-1])
	}
	if res.Aggregations, err = x.aggResults(); err != nil {
		return nil, err
	}
	return res, nil
}

// executor runs one plan.
type executor struct {
	plan *plan
	snap Snapshot
	opts Options
	k    int // hits to keep: offset + limit

	total int
	hits  []hit
	// vals is where collect takes its hits' sort values from, a chunk of
	// hits at a time: one allocation per hit was 6 % of an export's
	// bytes (bench IssueQueries/frequent-object-export).
	vals  []value
	valsN int // the hits of the last chunk of vals made
	// sorted reports that hits is sorted and at most k long.
	sorted bool
	aggs   []accumulator
	// scratch holds decoded events; only the decoded fields are cleared
	// between blocks, as zeroing whole events costs more than decoding.
	scratch []event.Event
	ptrs    []*event.Event
	pooled  bool           // scratch came from scratchPool: release returns it
	used    int            // scratch[:used] may hold decoded fields
	evs     []*event.Event // the current block's share of ptrs
	rows    []int          // the current block's rows
	// aggLo and aggHi are the time span aggregations were made for.
	aggLo, aggHi int64
	// counted marks, per source, the accumulators that counted it whole
	// from its postings (countSources).
	counted map[int][]bool
	// allowPartial answers around damaged ranges the query reads, listing
	// them in warnings, instead of failing.
	allowPartial bool
	warnings     []Damage
}

// work is one block to visit.
type work struct {
	src, block int
	b          match.Block
	cand       *roaring.Bitmap
	exact      bool
	visit      int // its place in the order visitAll takes (page)
	// lazy, when set, holds the source's candidates, not yet built, and
	// says that the block's rows are already in the total (countWhole):
	// a visit builds cand from it only to collect hits.
	lazy *lazyCand
}

func (x *executor) run(ctx context.Context) error {
	if _, err := x.damaged(-1, nil); err != nil {
		return err
	}
	plans, err := x.planSources()
	if err != nil {
		return err
	}
	var items []work
	for si, src := range x.snap.Sources {
		blocks := src.Blocks()
		if !plans[si].overlaps {
			continue
		}
		parts, exact := plans[si].parts, plans[si].exact
		if plans[si].countable {
			items = x.countWhole(items, si, blocks, parts, plans[si].count)
			continue
		}
		cand := intersect(parts)
		plans[si].parts = nil // what it intersects can go before the next source's
		bad, err := x.damaged(si, cand)
		if err != nil {
			return err
		}
		cand = withoutHidden(cand, union(x.snap.hidden(si), bad), blocks)
		if cand != nil && cand.IsEmpty() {
			continue
		}
		for bi, b := range blocks {
			items = append(items, work{src: si, block: bi, b: b, cand: cand, exact: exact})
		}
	}
	if x.aggs, err = x.newAccumulators(items); err != nil {
		return err
	}
	if err := x.countSources(items); err != nil {
		return err
	}
	if byTime(x.plan.keys) {
		items = sortByEdge(items, x.plan.keys[0].desc)
	}
	for i := range items {
		items[i].visit = i
	}
	if x.k == 0 && len(x.aggs) > 0 && len(items) >= 2*parallelChunk {
		return x.visitParallel(ctx, items)
	}
	return x.visitAll(ctx, items)
}

// sourcePlan is what the plan says of one source: whether its blocks
// overlap the query's time range, and if so its candidates' conjuncts,
// and whether its share of the total is their count (countable), then
// taken.
type sourcePlan struct {
	overlaps  bool
	parts     []*roaring.Bitmap
	exact     bool
	countable bool
	count     uint64
}

// planSources plans every source whose blocks overlap the query, on every
// CPU: planning looks the query's terms up in each source's postings (a
// source's first lookup decodes its dictionary, the bulk of a cold query
// over a store of many segments), and a newest-N query counts the
// candidates of every source it does not read (andCardinality), the bulk
// of a warm one. Each source's plan is its own, so the order they are
// made in changes nothing.
func (x *executor) planSources() ([]sourcePlan, error) {
	srcs := x.snap.Sources
	plans := make([]sourcePlan, len(srcs))
	workers := pageWorkers(len(srcs))
	// Each worker counts into a scratch bit set of its own.
	scratch := make(chan *[]uint64, workers)
	for range workers {
		scratch <- new([]uint64)
	}
	err := eachParallel(len(srcs), workers, func(si int) error {
		blocks := srcs[si].Blocks()
		if !x.overlaps(blocks) || x.passed(blocks) {
			return nil
		}
		parts, exact, err := x.plan.conjuncts(srcs[si])
		if err != nil {
			return fmt.Errorf("source %d: %w", si, err)
		}
		p := sourcePlan{overlaps: true, parts: parts, exact: exact, countable: x.countable(si, blocks, parts, exact)}
		if p.countable {
			dense := <-scratch
			p.count = andCardinality(parts, dense)
			scratch <- dense
		}
		plans[si] = p
		return nil
	})
	return plans, err
}

// passed reports whether every one of blocks lies before the cursor in
// the sort's time order, when nothing but the page is asked for (NoTotal,
// no aggregations): none of their rows can be a hit (mayHit), so the
// source need not be planned. An export runs a query a step (ExportPage
// hits) and each looked the object up in the postings of every segment,
// loading the dictionaries of those it had read to the end long before
// (bench IssueQueries/frequent-object-export). A damaged range of such a
// source is not reported again: the step that read past it did.
func (x *executor) passed(blocks []match.Block) bool {
	a := x.plan.after
	if !x.opts.NoTotal || len(x.plan.aggs) > 0 || a == nil || !byTime(x.plan.keys) || !a.vals[0].present {
		return false
	}
	desc, at := x.plan.keys[0].desc, a.vals[0].i
	for _, b := range blocks {
		if (!desc && b.MaxTS >= at) || (desc && b.MinTS <= at) {
			return false
		}
	}
	return true
}

// countable reports whether source si's share of the total is the count
// of its candidates, taken without building them (countWhole): they are
// exact and the intersection of at least two sets, no aggregation needs
// its rows, nothing of it is hidden or damaged, and every block is whole
// (within the time range, visible, beyond retention's reach).
func (x *executor) countable(si int, blocks []match.Block, parts []*roaring.Bitmap, exact bool) bool {
	if !exact || len(parts) < 2 || len(x.plan.aggs) > 0 || len(x.snap.Damaged) > 0 || x.snap.hidden(si) != nil {
		return false
	}
	for _, b := range blocks {
		if !x.whole(&work{b: b}) {
			return false
		}
	}
	return true
}

// countWhole adds source si's candidates to the total, n, counted from
// the sets parts intersects (planSources), and appends its blocks to
// items with the candidates left to build (lazyCand) for the first block
// whose rows the page needs: a newest-N query reads the rows of a source
// or two and counts the rest.
func (x *executor) countWhole(items []work, si int, blocks []match.Block, parts []*roaring.Bitmap, n uint64) []work {
	if n == 0 {
		return items
	}
	if !x.opts.NoTotal {
		x.total += int(n)
	}
	lc := &lazyCand{parts: parts}
	for bi, b := range blocks {
		items = append(items, work{src: si, block: bi, b: b, exact: true, lazy: lc})
	}
	return items
}

// lazyCand is a source's candidates, built on first use.
type lazyCand struct {
	parts []*roaring.Bitmap
	bm    *roaring.Bitmap
}

func (c *lazyCand) get() *roaring.Bitmap {
	if c.bm == nil {
		c.bm = intersect(c.parts)
	}
	return c.bm
}

// sortByEdge returns items stably sorted by the first position each block
// can hold in the sort's direction (edge). It sorts their indices and
// edges, not the items, which are large: moving them was a tenth of a
// newest-N query over 250 blocks.
func sortByEdge(items []work, desc bool) []work {
	type keyed struct {
		e match.Position
		i int
	}
	order := make([]keyed, len(items))
	for i := range items {
		order[i] = keyed{edge(items[i].b, desc), i}
	}
	slices.SortStableFunc(order, func(a, b keyed) int { return compareEdges(a.e, b.e, desc) })
	out := make([]work, len(items))
	for i, k := range order {
		out[i] = items[k.i]
	}
	return out
}

// withoutHidden removes the hidden rows from the candidates (nil: every
// row of blocks), returning a new bitmap: candidates may be a source's own.
func withoutHidden(cand, hidden *roaring.Bitmap, blocks []match.Block) *roaring.Bitmap {
	if hidden == nil {
		return cand
	}
	if cand == nil {
		last := blocks[len(blocks)-1]
		cand = roaring.New()
		cand.AddRange(0, uint64(last.FirstRow)+uint64(last.Rows))
		cand.AndNot(hidden)
		return cand
	}
	return roaring.AndNot(cand, hidden)
}

func (x *executor) visitAll(ctx context.Context, items []work) error {
	for i := range items {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := x.visit(&items[i]); err != nil {
			return fmt.Errorf("source %d: block %d: %w", items[i].src, items[i].block, err)
		}
	}
	return nil
}

// sourceCounter is an accumulator that can take a whole source's matches
// from its postings.
type sourceCounter interface {
	countSource(src Source, rows *roaring.Bitmap) (bool, error)
}

// countSources lets accumulators that can count whole sources from their
// postings do so, for the sources whose matches the bitmaps give exactly
// and whose rows are all within the time range; visits then skip those
// accumulators for those sources.
func (x *executor) countSources(items []work) error {
	x.counted = map[int][]bool{}
	for i := 0; i < len(items); {
		si, whole := items[i].src, true
		j := i
		for ; j < len(items) && items[j].src == si; j++ {
			whole = whole && items[j].exact && x.whole(&items[j])
		}
		if whole {
			for ai, a := range x.aggs {
				sc, ok := a.(sourceCounter)
				if !ok {
					continue
				}
				done, err := sc.countSource(x.snap.Sources[si], items[i].cand)
				if err != nil {
					return fmt.Errorf("source %d: %w", si, err)
				}
				if done {
					if x.counted[si] == nil {
						x.counted[si] = make([]bool, len(x.aggs))
					}
					x.counted[si][ai] = true
				}
			}
		}
		i = j
	}
	return nil
}

// parallelChunk is how many blocks an aggregation worker takes at a time.
const parallelChunk = 8

// visitParallel aggregates the blocks on every CPU: aggregations do not
// depend on the order rows arrive in, and each worker's partial results
// merge exactly (counts and sums add, sketches merge). Pages are collected
// sequentially, as their early stop depends on the order.
func (x *executor) visitParallel(ctx context.Context, items []work) error {
	workers := min(runtime.GOMAXPROCS(0), (len(items)+parallelChunk-1)/parallelChunk)
	var next atomic.Int64
	children := make([]*executor, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for i := range children {
		c := &executor{plan: x.plan, snap: x.snap, opts: x.opts, counted: x.counted}
		c.aggs = make([]accumulator, len(x.aggs))
		for j, s := range x.plan.aggs {
			c.aggs[j] = s.accumulator(x.aggLo, x.aggHi)
		}
		children[i] = c
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.release()
			for {
				lo := int(next.Add(parallelChunk)) - parallelChunk
				if lo >= len(items) || errs[i] != nil {
					return
				}
				errs[i] = c.visitAll(ctx, items[lo:min(lo+parallelChunk, len(items))])
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, c := range children {
		x.total += c.total
		for j, a := range x.aggs {
			a.merge(c.aggs[j])
		}
	}
	return nil
}

func (x *executor) overlaps(blocks []match.Block) bool {
	for _, b := range blocks {
		if b.MaxTS >= x.plan.minTS && b.MinTS <= x.plan.maxTS {
			return true
		}
	}
	return false
}

// edge is the first position a block can hold in the sort's direction.
func edge(b match.Block, desc bool) match.Position {
	if desc {
		return match.Position{TS: b.MaxTS, Seq: b.MaxSeq}
	}
	return match.Position{TS: b.MinTS, Seq: b.MinSeq}
}

func compareEdges(a, b match.Position, desc bool) int {
	if desc {
		return match.Compare(b, a)
	}
	return match.Compare(a, b)
}

// visit counts, aggregates and collects the matches of one block.
func (x *executor) visit(w *work) error {
	p, b := x.plan, w.b
	if b.MaxTS < p.minTS || b.MinTS > p.maxTS {
		return nil
	}
	if w.lazy != nil {
		if !x.mayHit(b) {
			return nil // counted by countWhole
		}
		w.cand = w.lazy.get()
	}
	lo, hi := uint64(b.FirstRow), uint64(b.FirstRow)+uint64(b.Rows)
	if w.cand != nil && !w.cand.IntersectsWithInterval(lo, hi) {
		return nil
	}
	collect := x.mayHit(b)
	whole := x.whole(w)
	aggs := x.aggsFor(w.src)
	if !collect && len(aggs) == 0 && (x.opts.NoTotal || (w.exact && whole)) {
		if !x.opts.NoTotal && w.lazy == nil {
			x.total += blockCount(w)
		}
		return nil
	}
	src := x.snap.Sources[w.src]
	var keys *rowKeys
	if collect || !whole { // positions are needed to place hits or cut the range
		k, err := keysOf(w, src)
		if err != nil {
			return err
		}
		keys = &k
	}
	all := x.blockRows(w, keys)
	fields := p.fields(w.exact, collect, len(aggs) > 0)
	expiry := x.mayExpire(b)
	if expiry {
		fields = addFields(fields, x.opts.ExpiredFields)
	}
	// Without fields to decode, a residual to check or aggregations to
	// feed, the rows need no events: the hits' sort values are then all
	// @timestamp, from the keys (plan.fields). Handing out scratch events
	// regardless took a pooled chunk of them (11 MiB, see scratchPool) for
	// every block of more than pooledRows matches, nearly every block of
	// an export of the most referenced object (bench IssueQueries/
	// frequent-object-export), which the collections in between dropped.
	needEvents := len(fields) > 0 || len(aggs) > 0 || !w.exact || expiry
	// A head's block can hold any number of rows: decode in chunks so the
	// scratch events stay small.
	for len(all) > 0 {
		rows := all[:min(len(all), maxChunkRows)]
		all = all[len(rows):]
		var evs []*event.Event
		if needEvents {
			evs = x.events(len(rows))
		}
		if len(fields) > 0 {
			for _, ev := range evs {
				clearFields(ev, fields)
			}
			if err := src.Decode(w.block, rows, fields, evs); err != nil {
				return err
			}
		}
		if !w.exact || expiry {
			rows, evs = x.residual(rows, evs, !w.exact, expiry)
		}
		if w.lazy == nil {
			x.total += len(rows)
		}
		for _, ev := range evs {
			for _, a := range aggs {
				a.add(ev)
			}
		}
		if collect {
			x.collect(w, rows, evs, keys)
		}
	}
	return nil
}

// maxChunkRows is how many rows are decoded at a time: a segment block.
const maxChunkRows = 8192

// aggsFor returns the accumulators that take source si's rows one by one.
func (x *executor) aggsFor(si int) []accumulator {
	done := x.counted[si]
	if done == nil {
		return x.aggs
	}
	var out []accumulator
	for i, a := range x.aggs {
		if !done[i] {
			out = append(out, a)
		}
	}
	return out
}

// whole reports whether every row of block w is within the time range,
// visible at the snapshot's watermark and beyond any retention rule's
// reach.
func (x *executor) whole(w *work) bool {
	b := w.b
	return b.MinTS >= x.plan.minTS && b.MaxTS <= x.plan.maxTS && b.MaxSeq <= x.snap.MaxSeq && !x.mayExpire(b)
}

// mayExpire reports whether block b can hold events a retention rule hides.
func (x *executor) mayExpire(b match.Block) bool {
	return x.opts.Expired != nil && b.MinTS < x.opts.MaybeExpiredBefore
}

// addFields returns fields plus those of more it lacks.
func addFields(fields, more []*event.Field) []*event.Field {
	for _, f := range more {
		if !slices.Contains(fields, f) {
			fields = append(fields, f)
		}
	}
	return fields
}

func blockCount(w *work) int {
	if w.cand == nil {
		return int(w.b.Rows)
	}
	lo := w.b.FirstRow
	n := w.cand.Rank(lo + w.b.Rows - 1)
	if lo > 0 {
		n -= w.cand.Rank(lo - 1)
	}
	return int(n)
}

// blockRows returns the block's candidate rows (relative to the block)
// within the time range and visible at the snapshot's watermark; k is nil
// when the whole block is.
func (x *executor) blockRows(w *work, k *rowKeys) []int {
	p := x.plan
	rows := x.rows[:0]
	keep := func(ts int64, seq uint64) bool { return ts >= p.minTS && ts <= p.maxTS && seq <= x.snap.MaxSeq }
	switch {
	case k == nil && w.cand == nil:
		for i := range int(w.b.Rows) {
			rows = append(rows, i)
		}
	case k == nil:
		rows = candidateRows(w, rows)
	case k.rows != nil: // the candidates' keys alone (keysOf)
		for i, r := range k.rows {
			if keep(k.ts[i], k.seq[i]) {
				rows = append(rows, r)
			}
		}
	case w.cand == nil:
		for i := range k.ts {
			if keep(k.ts[i], k.seq[i]) {
				rows = append(rows, i)
			}
		}
	default:
		// The candidates within the block, rather than a lookup for each
		// of its rows: a saved object's rows are a few of a block's 8,192.
		it := w.cand.Iterator()
		it.AdvanceIfNeeded(w.b.FirstRow)
		for end := w.b.FirstRow + w.b.Rows; it.HasNext() && it.PeekNext() < end; {
			if i := int(it.Next() - w.b.FirstRow); keep(k.ts[i], k.seq[i]) {
				rows = append(rows, i)
			}
		}
	}
	x.rows = rows
	return rows
}

// residual keeps the rows whose decoded events match what the bitmaps
// could not decide (filter) and that retention does not hide (expiry).
func (x *executor) residual(rows []int, evs []*event.Event, filter, expiry bool) ([]int, []*event.Event) {
	n := 0
	for i, ev := range evs {
		if (!filter || x.plan.filter.Match(ev) && x.plan.inSpaces(ev)) &&
			(!expiry || !x.opts.Expired(ev)) {
			rows[n], evs[n] = rows[i], ev
			n++
		}
	}
	return rows[:n], evs[:n]
}

// events returns n scratch events to decode into. Past pooledRows it
// takes a full chunk's worth from scratchPool; release gives it back.
func (x *executor) events(n int) []*event.Event {
	if n > len(x.scratch) {
		x.putScratch()
		if n > pooledRows {
			sc := scratchPool.Get().(*scratchEvents)
			x.scratch, x.ptrs, x.pooled = sc.evs, sc.ptrs, true
		} else {
			x.scratch = make([]event.Event, max(n, 2*len(x.scratch)))
			x.ptrs = pointersTo(x.scratch)
		}
	}
	x.used = max(x.used, n)
	x.evs = append(x.evs[:0], x.ptrs[:n]...)
	return x.evs
}

// pooledRows is the most scratch events an executor makes itself; above
// it, it takes maxChunkRows of them from scratchPool.
const pooledRows = 512

// scratchEvents is maxChunkRows zero events and pointers to them.
type scratchEvents struct {
	evs  []event.Event
	ptrs []*event.Event
}

// scratchPool recycles scratch events between queries. A full chunk of
// them is some 11 MiB (event.Event is large), which every query that
// decoded a full block used to allocate (each aggregation worker too) and
// drop: at a few queries a second that garbage, not what the store keeps,
// set the height of the heap and so the server's RSS.
var scratchPool = sync.Pool{New: func() any {
	evs := make([]event.Event, maxChunkRows)
	return &scratchEvents{evs: evs, ptrs: pointersTo(evs)}
}}

func pointersTo(evs []event.Event) []*event.Event {
	ptrs := make([]*event.Event, len(evs))
	for i := range evs {
		ptrs[i] = &evs[i]
	}
	return ptrs
}

// release gives the executor's pooled scratch back. It zeroes the events
// it used first: the next query may decode other fields, and counts on the
// rest being zero, as in new events; it also lets go of what they point
// to. The events past the used ones are still zero: clearing all of them
// (some 11 MiB) cost an export, which runs a query per page of
// ExportPage hits, 5 % of its CPU.
func (x *executor) release() {
	x.putScratch()
	x.scratch, x.ptrs, x.evs = nil, nil, nil
	putHits(x.hits)
	x.hits = nil
}

// hitsPool holds executors' hit lists, empty and cleared (trim clears what
// it cuts off): each step of an export grew one to 2k+1024 hits (9,216,
// 0.6 MB) by doubling, 10 % of its bytes (bench IssueQueries/
// frequent-object-export).
var hitsPool = sync.Pool{New: func() any { return new([]hit) }}

func getHits() []hit { return *hitsPool.Get().(*[]hit) }

func putHits(h []hit) {
	if cap(h) == 0 {
		return
	}
	clear(h) // its sort values
	h = h[:0]
	hitsPool.Put(&h)
}

func (x *executor) putScratch() {
	if !x.pooled {
		return
	}
	clear(x.scratch[:x.used])
	x.used = 0
	scratchPool.Put(&scratchEvents{evs: x.scratch, ptrs: x.ptrs})
	x.pooled = false
}

// clearFields resets the fields a decode will write, which it leaves alone
// for rows where they are absent.
func clearFields(ev *event.Event, fields []*event.Field) {
	for _, f := range fields {
		switch f.Kind {
		case event.KindString, event.KindIP, event.KindExtra:
			*f.Str(ev) = ""
		case event.KindStrings:
			*f.List(ev) = event.StringList{}
		case event.KindDate:
			*f.Date(ev) = event.Date{}
		case event.KindInt:
			*f.Int(ev) = nil
		case event.KindFloat:
			*f.Float(ev) = nil
		case event.KindDuration:
			ev.Event.Duration = nil
		case event.KindLabels:
			ev.Labels = nil
		case event.KindRefs:
			ev.Kibana.SavedObjects = nil
		}
	}
}

// mayHit reports whether block b can hold a hit of the page: the page is
// not full yet, or (sorting by time) the block's edge comes before the
// worst hit kept, and the block is not wholly before the cursor.
func (x *executor) mayHit(b match.Block) bool {
	if x.k == 0 {
		return false
	}
	if !byTime(x.plan.keys) {
		return true
	}
	desc := x.plan.keys[0].desc
	if a := x.plan.after; a != nil && a.vals[0].present {
		if (!desc && b.MaxTS < a.vals[0].i) || (desc && b.MinTS > a.vals[0].i) {
			return false
		}
	}
	if len(x.hits) < x.k {
		return true // trim would keep them all: no need to sort them yet
	}
	x.trim()
	if len(x.hits) < x.k {
		return true
	}
	worst := &x.hits[len(x.hits)-1]
	e := edge(b, desc)
	if len(x.plan.keys) > 1 {
		e.Seq = 0 // later keys decide ties: only the time can rule the block out
		if desc {
			e.Seq = math.MaxUint64
		}
		return compareEdges(e, match.Position{TS: worst.vals[0].i, Seq: worst.seq}, desc) <= 0
	}
	return compareEdges(e, match.Position{TS: worst.vals[0].i, Seq: worst.seq}, desc) < 0
}

// collect adds the block's matches after the cursor to the hits. evs is
// nil when every sort key is @timestamp, which the keys rk give.
func (x *executor) collect(w *work, rows []int, evs []*event.Event, rk *rowKeys) {
	keys := x.plan.keys
	for i, r := range rows {
		ts, seq := rk.at(r)
		if len(x.vals) < len(keys) {
			// The chunks grow from a few hits' values to valsChunk: a
			// first chunk of valsChunk was most of what a query of a
			// few hits allocated (12 KB for the 2 events of a rare
			// object).
			x.valsN = min(max(2*x.valsN, valsFirst), valsChunk)
			x.vals = make([]value, len(keys)*x.valsN)
		}
		h := hit{vals: x.vals[:len(keys):len(keys)], seq: seq, src: w.src, block: w.block, row: r, visit: w.visit}
		var ev *event.Event // nil when every key is @timestamp (visit)
		if evs != nil {
			ev = evs[i]
		}
		for j, k := range keys {
			h.vals[j] = valueOf(k.field, ev, ts)
		}
		if a := x.plan.after; a != nil && compareHits(keys, &h, &hit{vals: a.vals, seq: a.seq}) <= 0 {
			continue // its values are overwritten by the next hit
		}
		x.vals = x.vals[len(keys):]
		x.hits = append(x.hits, h)
		x.sorted = false
		if len(x.hits) >= 2*x.k+1024 {
			x.trim()
		}
	}
}

// valsChunk is how many hits' sort values collect allocates at once, at
// most; valsFirst at first.
const (
	valsChunk = 512
	valsFirst = 8
)

// trim sorts the hits and keeps the best k.
func (x *executor) trim() {
	if x.sorted {
		return
	}
	slices.SortFunc(x.hits, func(a, b hit) int { return compareHits(x.plan.keys, &a, &b) })
	if len(x.hits) > x.k {
		clear(x.hits[x.k:]) // hold no sort values past len (hitsPool)
		x.hits = x.hits[:x.k]
	}
	x.sorted = true
}

// wholeBlocks returns how many of the limit hits from offset the page
// keeps under Options.WholeBlocks: those before the first hit in the block
// of the last, when the hit after the page is in that block too (x.k
// keeps one hit past the page) and a hit of another block comes first.
func (x *executor) wholeBlocks(offset, limit int) int {
	x.trim()
	end := offset + limit
	if len(x.hits) <= end {
		return limit
	}
	last, next := &x.hits[end-1], &x.hits[end]
	if next.src != last.src || next.block != last.block {
		return limit
	}
	for j := offset; j < end; j++ {
		if h := &x.hits[j]; h.src == last.src && h.block == last.block {
			if j == offset {
				return limit
			}
			return j - offset
		}
	}
	return limit
}

// page decodes the whole events of hits[offset:offset+limit], reading each
// block once, in the reverse of the order the visit read them: a segment
// reader caches the keys of the few blocks it read last (which Decode
// needs again for the timestamps), so the blocks visited last are decoded
// first, while their keys are still cached. In the order of the sources'
// blocks, a read of hits in more blocks of a segment than its cache holds
// decoded every block's keys a second time: reading the 991 events of an
// object scattered over 2,000,000 (41 segments; bench IssueQueries/
// mid-object) allocated 100.5 MB a query that way, 70.0 MB this way.
//
// The blocks are decoded on every CPU (pageWorkers): each hit has its slot
// in the answer, so the order does not depend on which block is decoded
// first, and decoding a block is nearly all of a full-document read's
// time.
func (x *executor) page(offset, limit int) ([]Hit, error) {
	x.trim()
	if offset >= len(x.hits) {
		return nil, nil
	}
	sel := x.hits[offset:min(offset+limit, len(x.hits))]
	out := x.opts.Hits[:0]
	if cap(out) < len(sel) {
		size := len(sel)
		if x.opts.WholeBlocks && len(x.hits) > offset+len(sel) {
			// Room for a whole page: this one may have ended before a
			// block, and the next, decoded into its slots, not. Only
			// then: a page of a few hits of a query asking for up to
			// 10,000 would make 14 MB of slots.
			size = max(size, x.plan.perPage)
		}
		out = make([]Hit, len(sel), size)
	} else {
		out = out[:len(sel)]
		clear(out) // Decode sets only the fields the document holds
	}
	order := make([]int, len(sel))
	for i := range order {
		order[i] = i
		out[i].Seq = sel[i].seq
	}
	slices.SortFunc(order, func(a, b int) int {
		ha, hb := &sel[a], &sel[b]
		if ha.visit != hb.visit {
			return hb.visit - ha.visit
		}
		return ha.row - hb.row
	})
	var groups [][]int // runs of order in one block each
	for s := 0; s < len(order); {
		h, e := &sel[order[s]], s+1
		for e < len(order) && sel[order[e]].src == h.src && sel[order[e]].block == h.block {
			e++
		}
		groups = append(groups, order[s:e])
		s = e
	}
	decode := func(g []int) error {
		h := &sel[g[0]]
		rows := make([]int, len(g))
		dst := make([]*event.Event, len(g))
		for j, i := range g {
			rows[j], dst[j] = sel[i].row, &out[i].Event
		}
		if err := x.snap.Sources[h.src].Decode(h.block, rows, nil, dst); err != nil {
			return fmt.Errorf("source %d: block %d: %w", h.src, h.block, err)
		}
		return nil
	}
	if err := eachParallel(len(groups), pageWorkers(len(groups)), func(i int) error { return decode(groups[i]) }); err != nil {
		return nil, err
	}
	return out, nil
}

// pageWorkers is how many goroutines decode a page's blocks: one per CPU,
// at most one per block.
func pageWorkers(blocks int) int {
	return max(1, min(runtime.GOMAXPROCS(0), blocks))
}

// eachParallel calls fn(i) for every i in [0, n) on workers goroutines,
// taking the next i as each finishes (the calling goroutine is one of
// them). It stops starting calls after the first error and returns the
// error of the lowest i that failed, so that which error a caller sees
// does not depend on timing more than it must.
func eachParallel(n, workers int, fn func(i int) error) error {
	if workers <= 1 || n <= 1 {
		for i := range n {
			if err := fn(i); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make([]error, n)
	var next atomic.Int64
	var failed atomic.Bool
	work := func() {
		for !failed.Load() {
			i := int(next.Add(1)) - 1
			if i >= n {
				return
			}
			if errs[i] = fn(i); errs[i] != nil {
				failed.Store(true)
			}
		}
	}
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
