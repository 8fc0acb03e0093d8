package bench

import "github.com/eventlogdb/eventlog/event"

// batch is one batch of the workload: its number, its events (or, when
// the run prepared it, its request body instead), their count and their
// JSON size.
type batch struct {
	i         int64
	events    []event.Event
	body      []byte
	count     int
	jsonBytes int64
}

// lookahead carries batches from the run's producer to its writers: ready
// holds those made, in order, free those appended, for the producer to
// fill again. There are two batches per writer, so the producer makes the
// next while the writers wait on the store (an fsync, a response).
type lookahead struct {
	ready chan *batch
	free  chan *batch
}

func newLookahead(writers int) *lookahead {
	n := 2 * writers
	a := &lookahead{ready: make(chan *batch, n), free: make(chan *batch, n)}
	for range n {
		a.free <- &batch{}
	}
	return a
}

// produce fills the workload's batches in order and hands them to the
// writers, until every event is made or the run stops; then it closes
// ready, which ends the writers' loops. The run owns it: ingest starts it
// and waits for it after the writers.
func (r *run) produce(a *lookahead) {
	defer close(a.ready)
	size := int64(r.cfg.Batch)
	for i := int64(0); ; i++ {
		first, n := i*size, size
		if r.cfg.Events > 0 {
			if first >= r.cfg.Events {
				return
			}
			n = min(n, r.cfg.Events-first)
		}
		var b *batch
		select {
		case <-r.stopped:
			return
		case b = <-a.free:
		}
		b.i, b.count = i, int(n)
		if r.bodies != nil {
			b.body, b.jsonBytes = r.bodies[i].body, r.bodies[i].jsonBytes
			r.bodies[i] = preparedBatch{}
		} else {
			b.fill(r.cfg.Workload, first)
		}
		select {
		case <-r.stopped:
			return
		case a.ready <- b:
		}
	}
}

// fill makes b's count events, the workload's from first on.
func (b *batch) fill(w *Workload, first int64) {
	if cap(b.events) < b.count {
		b.events = make([]event.Event, b.count)
	}
	b.events = b.events[:b.count]
	b.jsonBytes = w.Fill(b.events, first)
}
