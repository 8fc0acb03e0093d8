package bench

import (
	"maps"
	"slices"
	"time"

	"github.com/eventlogdb/eventlog/event"
)

// DefaultPool is the number of distinct events GenerateWorkload makes when
// asked for none: enough that consecutive batches never repeat within a
// segment block, few enough (about 80 MiB) to generate in a quarter second.
const DefaultPool = 50_000

// Workload is the sequence of events a run appends: a pool of events,
// cycled. Each cycle moves the timestamps (@timestamp, event.start and
// event.end, keeping how they are written) on by the pool's span, so time
// keeps advancing as it does in the pool. Event i of the sequence is a pure
// function of the pool and i, whichever writer appends it.
//
// The pool is generated before the run and held in memory (about 1.7 KB
// per generated event, counted in the run's peak RSS), so generating does
// not compete with the store for the CPU while it is measured: the
// generator makes about 250k events/s on one core, no more than the store
// appends.
type Workload struct {
	events []event.Event
	json   []int // canonical JSON size of each pool event
	span   int64 // nanoseconds added to the timestamps per cycle
	source string
}

// GenerateWorkload returns a workload of n generated events (n <= 0:
// DefaultPool) from cfg.
func GenerateWorkload(cfg GeneratorConfig, n int) *Workload {
	if n <= 0 {
		n = DefaultPool
	}
	events := make([]event.Event, n)
	g := NewGenerator(cfg)
	g.Fill(events)
	w := newWorkload(events, "generator")
	// The next cycle starts where the generator's in-order clock would go
	// on (late events do not stretch the cycle).
	w.span = cycleSpan(g.now - g.cfg.Start.UnixNano() + int64(float64(time.Second)/g.cfg.Rate))
	return w
}

// cycleSpan rounds d up to whole seconds, so that moving a date by it never
// needs more fraction digits than the date is written with.
func cycleSpan(d int64) int64 {
	const s = int64(time.Second)
	return (d + s - 1) / s * s
}

// newWorkload wraps events, measuring their JSON; the span is left to the
// caller.
func newWorkload(events []event.Event, source string) *Workload {
	w := &Workload{events: events, json: make([]int, len(events)), source: source}
	var buf []byte
	for i := range events {
		buf = event.AppendJSON(buf[:0], &events[i])
		w.json[i] = len(buf)
	}
	return w
}

// timeSpan returns the largest @timestamp of events minus the smallest
// (zero when none has one).
func timeSpan(events []event.Event) int64 {
	lo, hi, seen := int64(0), int64(0), false
	for i := range events {
		if events[i].Timestamp.IsZero() {
			continue
		}
		ts := events[i].Timestamp.UnixNano()
		if !seen {
			lo, hi, seen = ts, ts, true
		}
		lo, hi = min(lo, ts), max(hi, ts)
	}
	return hi - lo
}

// Len is the number of distinct events in the pool.
func (w *Workload) Len() int { return len(w.events) }

// Source says where the events come from: "generator" or the input file.
func (w *Workload) Source() string { return w.source }

// AvgJSON is the average canonical JSON size of an event, in bytes.
func (w *Workload) AvgJSON() float64 {
	total := 0
	for _, n := range w.json {
		total += n
	}
	return float64(total) / float64(max(len(w.json), 1))
}

// Fill sets dst to events first, first+1, ... of the sequence and returns
// their JSON size. The events share strings with the pool: treat them as
// read-only.
func (w *Workload) Fill(dst []event.Event, first int64) (jsonBytes int64) {
	n := int64(len(w.events))
	for i := range dst {
		k := first + int64(i)
		cycle, j := k/n, k%n
		dst[i] = w.events[j]
		if cycle > 0 && w.span > 0 {
			shiftTimes(&dst[i], cycle*w.span)
		}
		jsonBytes += int64(w.json[j])
	}
	return jsonBytes
}

// shiftTimes moves e's timestamps on by d nanoseconds, keeping their format.
// A date the move would take out of range stays as it is.
func shiftTimes(e *event.Event, d int64) {
	for _, p := range []*event.Date{&e.Timestamp, &e.Event.Start, &e.Event.End} {
		if p.IsZero() {
			continue
		}
		if moved, ok := event.DateFromParts(p.UnixNano()+d, p.Format()); ok {
			*p = moved
		}
	}
}

// ProviderActions returns every provider/action pair in the pool, for
// registering before appending.
func (w *Workload) ProviderActions() map[string][]string {
	seen := map[string]map[string]bool{}
	for i := range w.events {
		f := &w.events[i].Event
		if f.Provider == "" || f.Action == "" {
			continue // Append rejects the event whatever is registered
		}
		if seen[f.Provider] == nil {
			seen[f.Provider] = map[string]bool{}
		}
		seen[f.Provider][f.Action] = true
	}
	m := make(map[string][]string, len(seen))
	for p, actions := range seen {
		m[p] = slices.Sorted(maps.Keys(actions))
	}
	return m
}
