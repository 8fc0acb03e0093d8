package server

import (
	"errors"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
)

// On the native route a request's documents are decoded by decodeWorkers
// goroutines a block of partDocs at a time, each block into a part of the
// request's eventlog.Batch (eventlog.BatchPart), while the request's own
// goroutine joins the decoded blocks to the Batch in their order as they
// come (addParts). Decoding a chunk on every worker and joining it once
// all had finished left a CPU idle whenever one worker finished its half
// of the chunk before the other, and while the chunk was joined: a
// runtime trace of the issue-15 HTTP benchmark found a request waiting
// for its workers in a quarter of the time a core idled. A worker takes
// no block more than partsAhead ahead of the join, so the request holds
// a bounded number of parts, whatever its size.

// partDocs is how many documents a block holds: a few hundred
// microseconds of decoding, long beside the handing over of a part.
const partDocs = 128

// partsAhead is how many parts each worker may fill ahead of the join.
const partsAhead = 3

// addParts decodes every document of b into bt in blocks of partDocs, on
// decodeWorkers goroutines, and joins the blocks in order (joinPart). It
// returns errClientIDs, at the first block holding a valid event with a
// client id, once the workers have stopped.
func (b *bulk) addParts(s *Server, bt *eventlog.Batch) error {
	n := len(b.docs)
	if cap(b.chunkErrs) < n {
		b.chunkErrs = make([]error, n)
	}
	errs := b.chunkErrs[:n]
	defer clear(errs)
	copy(errs, b.errs)
	opts := event.DecodeOptions{Limits: s.limits(), KeepUnknown: b.keep, Shared: true}
	workers := decodeWorkers(n)
	reuseDecoders(&b.decoders, workers, opts)
	blocks := (n + partDocs - 1) / partDocs
	if workers == 1 {
		return b.addPartsAlone(s, bt, errs, blocks, opts.Limits)
	}
	for len(b.parts) < workers*partsAhead {
		b.parts = append(b.parts, new(eventlog.BatchPart))
	}
	free := make(chan *eventlog.BatchPart, len(b.parts))
	for _, p := range b.parts {
		bt.StartPart(p, opts.Limits)
		free <- p
	}
	ready := make([]chan *eventlog.BatchPart, blocks)
	for k := range ready {
		ready[k] = make(chan *eventlog.BatchPart, 1)
	}
	var next atomic.Int64
	quit := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			x := b.decoders[w]
			for {
				var p *eventlog.BatchPart
				select {
				case <-quit: // the join stopped: no more blocks
					return
				default:
				}
				select {
				case p = <-free:
				case <-quit:
					return
				}
				k := int(next.Add(1) - 1)
				if k >= blocks {
					return
				}
				b.decodeBlock(s, x, p, errs, k)
				ready[k] <- p
			}
		})
	}
	err := b.joinParts(s, bt, errs, ready, free, opts.Limits)
	close(quit)
	wg.Wait()
	return err
}

// joinParts joins the blocks in order as the workers send them, and
// restarts each part for another block (the workers' free parts).
func (b *bulk) joinParts(s *Server, bt *eventlog.Batch, errs []error, ready []chan *eventlog.BatchPart, free chan *eventlog.BatchPart, lim event.Limits) error {
	for k := range ready {
		p := <-ready[k]
		if err := b.joinPart(s, bt, p, errs, k); err != nil {
			return err
		}
		bt.StartPart(p, lim)
		free <- p
	}
	return nil
}

// addPartsAlone is addParts on this goroutine alone, with one part.
func (b *bulk) addPartsAlone(s *Server, bt *eventlog.Batch, errs []error, blocks int, lim event.Limits) error {
	if len(b.parts) == 0 {
		b.parts = append(b.parts, new(eventlog.BatchPart))
	}
	x, p := b.decoders[0], b.parts[0]
	for k := range blocks {
		bt.StartPart(p, lim)
		b.decodeBlock(s, x, p, errs, k)
		if err := b.joinPart(s, bt, p, errs, k); err != nil {
			return err
		}
	}
	return nil
}

// blockRange is the range of documents [lo, hi) of block k.
func (b *bulk) blockRange(k int) (lo, hi int) {
	return k * partDocs, min((k+1)*partDocs, len(b.docs))
}

// decodeBlock decodes the documents of block k that have no error yet
// into p, with x (decodePart), recording their errors in errs.
func (b *bulk) decodeBlock(s *Server, x *event.Decoder, p *eventlog.BatchPart, errs []error, k int) {
	lo, hi := b.blockRange(k)
	for i := lo; i < hi; i++ {
		if errs[i] == nil {
			errs[i] = s.decodePart(x, p, b.key, b.docs[i])
		}
	}
}

// joinPart adds the part p holding block k to bt, recording the items
// of its events in b.pos and failing the others (failLater); or, when a
// valid event of the block has a client id, returns errClientIDs
// before anything of the block is recorded. p is dropped.
func (b *bulk) joinPart(s *Server, bt *eventlog.Batch, p *eventlog.BatchPart, errs []error, k int) error {
	defer p.Drop()
	lo, hi := b.blockRange(k)
	if slices.ContainsFunc(errs[lo:hi], func(err error) bool { return errors.Is(err, eventlog.ErrBatchClientID) }) {
		return errClientIDs
	}
	bad := bt.AddPart(p)
	j := 0 // p's events are the items of lo..hi-1 without an error
	for i := lo; i < hi; i++ {
		if errs[i] != nil {
			b.failLater(i, errs[i])
			continue
		}
		if len(bad) > 0 && bad[0].Index == j {
			b.failLater(i, bad[0].Err)
			bad = bad[1:]
		} else {
			b.pos = append(b.pos, i)
		}
		j++
	}
	return nil
}
