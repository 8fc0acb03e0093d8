package bench

import "bytes"

// preparedBatch is a batch's request body, made before the clock started
// (Config.Prepare), and the JSON size of its events.
type preparedBatch struct {
	body      []byte
	jsonBytes int64
}

// prepare makes the request body of every batch of the run, in order, for
// the writers to send while timed (Config.Prepare). Each body is copied to
// its own exact-size buffer, so that the run holds no slack.
func (r *run) prepare() {
	t := r.target.(*remote) // withDefaults made sure of a URL
	size := int64(r.cfg.Batch)
	r.bodies = make([]preparedBatch, (r.cfg.Events+size-1)/size)
	var b batch
	var scratch []byte
	for i := range r.bodies {
		first := int64(i) * size
		b.count = int(min(size, r.cfg.Events-first))
		b.fill(r.cfg.Workload, first)
		scratch = t.encode(scratch[:0], b.events)
		r.bodies[i] = preparedBatch{body: bytes.Clone(scratch), jsonBytes: b.jsonBytes}
	}
}
