// Package bigbuf keeps a few large byte buffers for reuse across garbage
// collections.
//
// A sync.Pool drops what it holds at every second garbage collection. That
// is right for small buffers, but wrong for the megabytes an ingest request
// needs (its body, its WAL record): when the heap runs close to the Go
// memory limit, collections come every few megabytes allocated, the pool is
// always empty, and each request allocates, zeroes and page-faults its
// buffers afresh, which is more garbage and more collections. A Pool here
// holds at most a fixed number of buffers, each within a size range, until
// they are taken again, so the memory it keeps idle is bounded by
// Buffers*MaxBytes.
package bigbuf

// Pool is a bounded free list of byte buffers. It is safe for concurrent
// use. The zero value keeps nothing; make one with New.
type Pool struct {
	free     chan []byte
	min, max int
}

// New returns a Pool that keeps at most buffers buffers whose capacity is
// at least minBytes and at most maxBytes; others are left to the garbage
// collector.
func New(buffers, minBytes, maxBytes int) *Pool {
	return &Pool{free: make(chan []byte, buffers), min: minBytes, max: maxBytes}
}

// Get returns an empty buffer with capacity at least want: a kept one if
// one is big enough, else a new one with a quarter more room than want, so
// that once kept it also fits the next, slightly larger request. A kept
// buffer too small for want is dropped. For want under the Pool's minimum
// Get returns nil: small buffers are the caller's business.
func (p *Pool) Get(want int) []byte {
	if p == nil || want < p.min {
		return nil
	}
	select {
	case b := <-p.free:
		if cap(b) >= want {
			return b[:0]
		}
	default:
	}
	return make([]byte, 0, want+want/4)
}

// Put returns b for reuse; nothing may use b afterwards. A buffer outside
// the size range, or one more than the Pool keeps, is dropped.
func (p *Pool) Put(b []byte) {
	if p == nil || cap(b) < p.min || cap(b) > p.max {
		return
	}
	select {
	case p.free <- b[:0]:
	default:
	}
}

// Len returns how many buffers the Pool keeps now.
func (p *Pool) Len() int {
	if p == nil {
		return 0
	}
	return len(p.free)
}
