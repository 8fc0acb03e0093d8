package eventlog

import (
	"fmt"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/index"
	"github.com/eventlogdb/eventlog/integrity"
)

// BatchPart is a piece of a Batch checked and encoded by a goroutine of its
// own, for a caller that decodes a large request on several CPUs: each
// goroutine adds the events it decoded to its part at once (Add), while
// they are in its cache, and the parts then join the Batch in their order
// (Batch.AddPart), which copies their encoded events. Encoding every event
// in the one goroutine that adds to the Batch left the other CPU idle for
// a third of a _bulk request.
//
// Distinct parts may be filled concurrently; one part is not safe for
// concurrent use. The zero value is ready for Batch.StartPart.
type BatchPart struct {
	db      *DB
	now     event.Date // the Batch's arrival time
	decoded bool       // skip Validate: see Batch.AddDecoded
	latest  int64      // db.latestTimestamp at StartPart

	rec      []byte           // the events' frames, in order
	ends     []int            // ends[i] is where event i's frame ends in rec
	ts       []int64          // the events' @timestamps (Unix ns)
	terms    []index.Term     // the events' posting keys, one after another
	termEnds []int            // termEnds[i] is where event i's terms end
	digests  []integrity.Hash // with Options.Integrity
}

// StartPart empties p for events to be added to bt, decoded with limits
// lim (as for AddDecoded: what decoding checked is not checked again when
// lim is within the DB's Options.Limits). Call it in the goroutine that
// adds to bt, before the part's Add.
func (bt *Batch) StartPart(p *BatchPart, lim event.Limits) {
	p.Drop()
	p.db, p.decoded = bt.db, lim.Within(bt.db.opts.Limits)
	if bt.now.IsZero() {
		bt.now = event.DateOf(bt.db.opts.Now())
	}
	p.now, p.latest = bt.now, bt.db.latestTimestamp()
}

// Len returns the number of events added to the part since StartPart.
func (p *BatchPart) Len() int { return len(p.ends) }

// Add checks ev as Batch.AddDecoded does and adds it to the part, or
// returns why it is invalid (it is then not added). ev is encoded before
// Add returns, so the caller may reuse it; its strings that are posting
// keys are borrowed as by Batch.Add.
func (p *BatchPart) Add(ev *Event) error {
	if err := p.db.checkEvent(ev, false, p.decoded, p.latest); err != nil {
		return err
	}
	if ev.ClientID != "" {
		return ErrBatchClientID
	}
	ev = p.db.prepared(ev, p.now)
	p.rec, p.digests = appendFrame(p.rec, p.digests, ev, p.db.integrity != nil)
	p.ends = append(p.ends, len(p.rec))
	p.ts = append(p.ts, ev.Timestamp.UnixNano())
	p.terms = index.AppendTerms(p.terms, ev)
	p.termEnds = append(p.termEnds, len(p.terms))
	return nil
}

// Drop empties the part and drops its references to the events' strings,
// keeping its buffers for the next use.
func (p *BatchPart) Drop() {
	clear(p.terms)
	p.rec, p.ends, p.ts = p.rec[:0], p.ends[:0], p.ts[:0]
	p.terms, p.termEnds, p.digests = p.terms[:0], p.termEnds[:0], p.digests[:0]
}

// AddPart adds the events of p to bt, in the order they were added to p,
// after the events bt holds. It returns those it refuses (past the
// limit of events in one batch), by index among p's events; they are
// not added. p may be started again once AddPart returns.
func (bt *Batch) AddPart(p *BatchPart) []ItemError {
	n := p.Len()
	if bt.b == nil {
		return refuseFrom(0, n, errBatchDone)
	}
	take := min(n, maxBatch-bt.n)
	if take > 0 {
		b := bt.b
		b.rec = append(b.rec, p.rec[:p.ends[take-1]]...)
		b.digests = append(b.digests, p.digests[:min(take, len(p.digests))]...)
		lo := 0
		for i := range take {
			b.rows.Add(p.ts[i], p.terms[lo:p.termEnds[i]])
			lo = p.termEnds[i]
		}
		bt.n += take
	}
	if take == n {
		return nil
	}
	return refuseFrom(take, n, fmt.Errorf("batch of more than %d events", maxBatch))
}

// refuseFrom returns the item errors of items lo..hi-1, each err.
func refuseFrom(lo, hi int, err error) []ItemError {
	bad := make([]ItemError, 0, hi-lo)
	for i := lo; i < hi; i++ {
		bad = append(bad, ItemError{Index: i, Err: err})
	}
	return bad
}
