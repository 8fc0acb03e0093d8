package eventlog

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/eventlogdb/eventlog/privacy"
	"github.com/eventlogdb/eventlog/query"
)

// Query answers req — filter, time range, sort, page or cursor, scope and
// aggregations — over a consistent snapshot (every event up to one
// sequence watermark, in the heads and segments of one state). Errors in
// the request wrap ErrInvalidRequest and say what and where.
//
// A query that reaches damaged stored events fails with a
// *CorruptionError (ErrCorrupt) naming the file and block, unless
// req.AllowPartial asks for an answer from the rest (Result.Partial,
// Result.Warnings). Damage found by the query itself is confirmed and its
// segment quarantined first (see Stats.Quarantined).
func (db *DB) Query(ctx context.Context, req query.Request) (*query.Result, error) {
	return db.execute(ctx, req, db.queryOptions())
}

// execute runs req over a snapshot, its working set charged to the memory
// budget (AccountQueries) while it runs. A partial query that meets damage
// not yet known (checkDamage then sets it aside) runs again over a new
// snapshot, which knows it, for as long as each run finds more.
func (db *DB) execute(ctx context.Context, req query.Request, opts query.Options) (*query.Result, error) {
	release, err := db.acquireQueryMemory(ctx, req, opts)
	if err != nil {
		return nil, err
	}
	defer release()
	var res *query.Result
	run := func(snap query.Snapshot) error {
		var err error
		res, err = query.Execute(ctx, snap, req, opts)
		return err
	}
	known := len(db.damage.load())
	err = db.withSnapshot(ctx, run)
	for req.AllowPartial && errors.Is(err, ErrCorrupt) && len(db.damage.load()) > known {
		known = len(db.damage.load())
		err = db.withSnapshot(ctx, run)
	}
	return res, err
}

// queryOptions are the options every query of the store runs with: its
// clock, retention's visibility rule and its filter parser (Pseudonymizer).
func (db *DB) queryOptions() query.Options {
	opts := query.Options{Now: db.opts.Now(), ParseFilter: db.opts.Pseudonymizer.ParseFilter}
	db.retention.Load().queryOptions(&opts)
	holdQueryOptions(&opts, db.liveHolds())
	return opts
}

// CheckQuery reports whether req can be run, as Query would (an error
// matching query.ErrInvalid says what is wrong), without running it.
func (db *DB) CheckQuery(req query.Request) error {
	return query.Check(req, db.queryOptions())
}

// Aggregate is Query without the page: it returns the total and the
// aggregations only, and counts without decoding where the bitmaps answer
// the filter.
func (db *DB) Aggregate(ctx context.Context, req query.Request) (*query.Result, error) {
	opts := db.queryOptions()
	opts.NoHits = true
	return db.execute(ctx, req, opts)
}

// ExportPage is how many events Export reads per step, at most: a step
// ends before the block of its last hit when the next hit is in that block
// too (query.Options.WholeBlocks), so that no block is decoded twice. Each
// step plans the query over every segment again: with 1,000 a step, an
// export of a saved object with a match in every 16 rows (bench
// IssueQueries/frequent-object-export) planned its 125 steps over every
// segment; 4,096 (half a block's rows) plans a quarter as many, for 14 MiB
// of working set.
const ExportPage = 4096

// Export calls fn with every event req selects, in req's sort order,
// ignoring its page: it walks the matches a page at a time over one
// snapshot, so memory stays constant however many there are. Aggregations
// are ignored. A non-nil error from fn stops the export and is returned.
// An export is complete or fails: one that reaches damaged stored events
// returns a *CorruptionError (ErrCorrupt), after the events before them,
// and req.AllowPartial is refused. The working set is charged
// to the memory budget (AccountQueries) until Export returns; when it does
// not fit in time Export fails with ErrMemoryFull before calling fn. The
// working set is a step's and the page before it, which fn is given while
// the step runs (exportPages).
func (db *DB) Export(ctx context.Context, req query.Request, fn func(query.Hit) error) error {
	return db.ExportHits(ctx, req, func(h *query.Hit) error { return fn(*h) })
}

// ExportHits is Export giving fn each hit in place rather than a copy (a
// hit is some 1.3 KB): *h, and what it points to, is valid only until fn
// returns; fn copies what it keeps. The server's _export writes each hit
// as JSON and keeps nothing.
func (db *DB) ExportHits(ctx context.Context, req query.Request, fn func(*query.Hit) error) error {
	if req.AllowPartial {
		return fmt.Errorf("eventlog: export: %w: allow_partial: an export is complete or fails; page through search for a partial answer", ErrInvalidRequest)
	}
	page := req
	page.Page, page.PerPage, page.Aggs = 0, ExportPage, nil
	opts := db.queryOptions()
	opts.NoTotal = true
	n, err := query.WorkingSet(page, opts)
	if err != nil {
		return fmt.Errorf("eventlog: query: %w", err)
	}
	release, err := db.acquireWorkingSet(ctx, n+query.PageBytes(ExportPage))
	if err != nil {
		return err
	}
	defer release()
	return db.exportPages(ctx, req, fn)
}

// exportPages is Export, also with req.AllowPartial: then damaged stored
// events are left out (a delete notes the client ids it erases this way,
// since an erasure must not wait for a repair).
//
// The steps run one ahead of fn (exportSteps): the next page's blocks are
// decoded while fn takes the hits of this one, so that a server writing
// them as JSON (one goroutine) keeps the other CPU busy decoding. Each
// step ends at a block boundary (query.Options.WholeBlocks), so no block
// is decoded in two steps.
func (db *DB) exportPages(ctx context.Context, req query.Request, fn func(*query.Hit) error) error {
	req.Page, req.PerPage, req.Aggs = 0, ExportPage, nil
	return db.withSnapshot(ctx, func(snap query.Snapshot) error {
		opts := db.queryOptions()
		opts.NoTotal, opts.WholeBlocks = true, true
		steps := startExportSteps(ctx, snap, req, opts)
		defer steps.stop()
		for {
			res, err := steps.next()
			if err != nil {
				return err
			}
			err = eachHit(res.Hits, fn)
			steps.done(res.Hits)
			if err != nil || res.Next == "" {
				return err
			}
		}
	})
}

// eachHit calls fn with each of hits, in place, until it fails: a Hit is
// some 1.3 KB, and a copy for the loop and one for the call were 4 % of a
// server's export.
func eachHit(hits []query.Hit, fn func(*query.Hit) error) error {
	for i := range hits {
		if err := fn(&hits[i]); err != nil {
			return err
		}
	}
	return nil
}

// exportSteps runs an export's queries a step ahead of their reader, on a
// goroutine of its own: at most two pages are held, the one read and the
// one decoded, each decoded into the slots of the page read two steps
// before (query.Options.Hits, about 4.6 MiB a page).
type exportSteps struct {
	results chan exportStep
	free    chan []query.Hit // pages read, whose slots the next step decodes into
	quit    chan struct{}
	wg      sync.WaitGroup
}

type exportStep struct {
	res *query.Result
	err error
}

// startExportSteps starts the steps of req's export over snap, the first
// from req's cursor; they end after the step that has no next page, or at
// the first error.
func startExportSteps(ctx context.Context, snap query.Snapshot, req query.Request, opts query.Options) *exportSteps {
	s := &exportSteps{results: make(chan exportStep, 1), free: make(chan []query.Hit, 2), quit: make(chan struct{})}
	s.free <- getExportPage()
	s.free <- getExportPage()
	s.wg.Go(func() {
		for {
			select {
			case opts.Hits = <-s.free:
			case <-s.quit:
				return
			}
			res, err := query.Execute(ctx, snap, req, opts)
			select {
			case s.results <- exportStep{res, err}:
			case <-s.quit:
				return
			}
			if err != nil || res.Next == "" {
				return
			}
			req.SearchAfter = res.Next
		}
	})
	return s
}

// next returns the next step's page.
func (s *exportSteps) next() (*query.Result, error) {
	st := <-s.results
	return st.res, st.err
}

// done gives back the slots of a page read, for a later step to decode
// into; its hits must no longer be used (copies of them stay valid).
func (s *exportSteps) done(hits []query.Hit) {
	s.free <- hits
}

// stop ends the steps and waits for the one running: the snapshot they
// read must outlive them. The pages they decoded into are kept for the
// next export (exportPagePool).
func (s *exportSteps) stop() {
	close(s.quit)
	s.wg.Wait()
	for {
		select {
		case hits := <-s.free:
			putExportPage(hits)
		case st := <-s.results:
			if st.res != nil {
				putExportPage(st.res.Hits)
			}
		default:
			return
		}
	}
}

// exportPagePool holds the hit slots of finished exports, cleared: each
// export made two pages of them (ExportPage hits, some 5 MiB each) that
// it dropped at its end.
var exportPagePool sync.Pool

// getExportPage returns kept slots, nil when there are none.
func getExportPage() []query.Hit {
	if p, ok := exportPagePool.Get().(*[]query.Hit); ok {
		return *p
	}
	return nil
}

// putExportPage clears the slots of hits, so that they hold nothing
// decoded, and keeps them.
func putExportPage(hits []query.Hit) {
	if cap(hits) == 0 {
		return
	}
	hits = hits[:cap(hits)]
	clear(hits)
	exportPagePool.Put(&hits)
}

// withSnapshot runs fn over a snapshot of the store, holding its segments
// until fn returns.
func (db *DB) withSnapshot(ctx context.Context, fn func(query.Snapshot) error) error {
	return db.read(ctx, "query", func(rs *readSnapshot) error { return fn(rs.query()) })
}

// read runs fn over a snapshot of the store (acquireSnapshot), holding it
// until fn returns; Close waits for it. ErrClosed and ctx's error come as
// they are; a segment's damage is confirmed and answered as a
// *CorruptionError (checkDamage); the snapshot's and fn's errors are
// wrapped as "eventlog: op:", unless op is "".
func (db *DB) read(ctx context.Context, op string, fn func(*readSnapshot) error) error {
	db.readers.RLock()
	defer db.readers.RUnlock()
	if db.closed.Load() {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	wrap := func(err error) error {
		if err == nil || op == "" {
			return err
		}
		return fmt.Errorf("eventlog: %s: %w", op, err)
	}
	db.reads.Add(1) // background merges wait for quiet (compact_memory.go)
	defer db.endRead()
	rs, err := db.acquireSnapshot(ctx)
	if err != nil {
		return wrap(err)
	}
	defer rs.close()
	return wrap(db.checkDamage(fn(rs)))
}

// Pseudonymizer returns Options.Pseudonymizer, which the store reads
// every filter through: equality conditions on pseudonymised fields get
// the value's pseudonym, and a prefix, wildcard, range or CIDR block on
// such a field is a *filter.Error saying why it cannot match. Code that
// filters events of the store itself (destinations) or stores a filter
// uses it too (ParseFilter, FilterText). Nil: nothing is pseudonymised;
// its methods still work.
func (db *DB) Pseudonymizer() *privacy.Pseudonymizer { return db.opts.Pseudonymizer }
