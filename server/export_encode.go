package server

import (
	"runtime"
	"sync"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/memory"
	"github.com/eventlogdb/eventlog/query"
)

// An export encodes each step's documents on every CPU (up to
// exportEncoders): a round of the step is cut into chunks of
// exportChunk hits, the handler's goroutine encodes the first while one
// goroutine a chunk encodes the others into buffers of their own, and
// the chunks are written in order, each followed by a flush. The
// handler writes its own chunk before it waits for the others, so
// writing overlaps encoding too. Every goroutine of a round ends before
// the round returns, whatever the client does: a client that goes away
// leaves nothing running.
//
// The buffers beyond the handler's own are charged to the store's memory
// budget (eventlog.AccountQueries) for as long as the export holds them,
// charged as they grow before each round; a round the budget has no
// room for is encoded on the handler's goroutine alone, as one CPU does.
const (
	exportChunk    = 256 // documents of a chunk: about 250 KB of the events
	exportEncoders = 4
)

// encoders are an exporter's buffers for the chunks of a round beyond
// its first, and the memory charged for them.
type encoders struct {
	acct    *memory.Account
	bufs    []*[]byte
	charged int64
}

// newEncoders returns the buffers for n encoders (n-1 beyond the
// handler's), charged to acct; n below 2 encodes on the handler alone.
func newEncoders(acct *memory.Account, n int) *encoders {
	enc := &encoders{acct: acct}
	for range max(n-1, 0) {
		enc.bufs = append(enc.bufs, getBuf())
	}
	return enc
}

// exportWorkers is how many goroutines encode an export's documents.
func exportWorkers() int { return min(runtime.GOMAXPROCS(0), exportEncoders) }

// reserve charges what the buffers hold now, or exportFlushBytes each
// at least, and reports whether the budget had room.
func (enc *encoders) reserve() bool {
	var want int64
	for _, b := range enc.bufs {
		want += int64(max(cap(*b), exportFlushBytes))
	}
	if want <= enc.charged {
		return true
	}
	if !enc.acct.TryCharge(want - enc.charged) {
		return false
	}
	enc.charged = want
	return true
}

// close gives back the buffers and their charge.
func (enc *encoders) close() {
	for _, b := range enc.bufs {
		putBuf(b)
	}
	enc.bufs = nil
	enc.acct.Release(enc.charged)
	enc.charged = 0
}

// page writes a step's hits, a round of chunks at a time.
func (e *exporter) page(hits []query.Hit) error {
	round := (len(e.enc.bufs) + 1) * exportChunk
	for len(hits) > 0 {
		n := min(len(hits), round)
		if err := e.round(hits[:n]); err != nil {
			return err
		}
		hits = hits[n:]
	}
	return nil
}

// round encodes hits, at most one chunk per encoder, and writes them in
// order. It returns only once every goroutine it started has ended.
func (e *exporter) round(hits []query.Hit) error {
	if len(hits) <= exportChunk || !e.enc.reserve() {
		return e.each(hits)
	}
	var wg sync.WaitGroup
	rest := hits[exportChunk:]
	var chunks [][]query.Hit
	for i := 0; len(rest) > 0; i++ {
		c := rest[:min(len(rest), exportChunk)]
		rest = rest[len(c):]
		chunks = append(chunks, c)
		buf := e.enc.bufs[i]
		wg.Go(func() { *buf = appendDocs((*buf)[:0], e.key, c) })
	}
	err := e.each(hits[:exportChunk])
	wg.Wait()
	for i := 0; err == nil && i < len(chunks); i++ {
		e.events += len(chunks[i])
		err = e.write(*e.enc.bufs[i])
	}
	return err
}

// each writes hits one at a time on the handler's goroutine, flushing
// as hit does.
func (e *exporter) each(hits []query.Hit) error {
	for _, h := range hits {
		if err := e.hit(h); err != nil {
			return err
		}
	}
	return e.flush()
}

// appendDocs appends the NDJSON lines of hits, as key may see them.
func appendDocs(dst []byte, key *auth.Key, hits []query.Hit) []byte {
	for i := range hits {
		dst = appendShown(dst, key, hits[i].Seq, &hits[i].Event)
		dst = append(dst, '\n')
	}
	return dst
}

// exportAccount is the budget account an export's encoders are charged
// to.
func (s *Server) exportAccount() *memory.Account {
	return s.db.Memory().Account(eventlog.AccountQueries)
}
