package bench

import (
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/eventlogdb/eventlog/event"
)

// Workload is the sequence of events a run appends: generated, every event
// distinct, or a file's events, cycled. Event i of the sequence is a pure
// function of the workload and i, whichever writer appends it.
//
// A run makes its batches with Fill in a producer goroutine, ahead of the
// writers (lookahead.go), so the generator's CPU time — about 2.2 µs an
// event with its JSON measured — is part of the run, overlapping the
// writers' waits on the store. A file's events are
// held in memory and each cycle moves their timestamps (@timestamp,
// event.start and event.end, keeping how they are written) on by the
// file's span, so time keeps advancing.
type Workload struct {
	events []event.Event // a file's events; nil for the generator
	json   []int         // canonical JSON size of each file event
	span   int64         // nanoseconds added to the timestamps per cycle
	source string

	gens    *sync.Pool // of *filler, for a generated workload
	avgJSON float64    // of the first avgSample generated events
}

// avgSample is the number of generated events AvgJSON is measured on.
const avgSample = 10_000

// filler is one writer's generator and JSON buffer.
type filler struct {
	g   *Generator
	buf []byte
}

// GeneratedWorkload returns the workload of the generator cfg describes.
func GeneratedWorkload(cfg GeneratorConfig) *Workload {
	w := &Workload{source: "generator", gens: &sync.Pool{
		New: func() any { return &filler{g: NewGenerator(cfg)} },
	}}
	total := w.Fill(make([]event.Event, avgSample), 0)
	w.avgJSON = float64(total) / avgSample
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

// Len is the number of events of a file workload, cycled; 0 for the
// generator, whose events are all distinct.
func (w *Workload) Len() int { return len(w.events) }

// Source says where the events come from: "generator" or the input file.
func (w *Workload) Source() string { return w.source }

// AvgJSON is the average canonical JSON size of an event, in bytes.
func (w *Workload) AvgJSON() float64 {
	if w.gens != nil {
		return w.avgJSON
	}
	total := 0
	for _, n := range w.json {
		total += n
	}
	return float64(total) / float64(max(len(w.json), 1))
}

// Fill sets dst to events first, first+1, ... of the sequence and returns
// their JSON size. The events may share strings with the workload: treat
// them as read-only. Fill is safe for concurrent use.
func (w *Workload) Fill(dst []event.Event, first int64) (jsonBytes int64) {
	if w.gens != nil {
		return w.generate(dst, first)
	}
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

// generate is Fill for a generated workload.
func (w *Workload) generate(dst []event.Event, first int64) (jsonBytes int64) {
	f := w.gens.Get().(*filler)
	defer w.gens.Put(f)
	for i := range dst {
		f.g.build(&dst[i], first+int64(i))
		f.buf = event.AppendJSON(f.buf[:0], &dst[i])
		jsonBytes += int64(len(f.buf))
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

// ProviderActions returns every provider/action pair of the workload, for
// registering before appending.
func (w *Workload) ProviderActions() map[string][]string {
	if w.gens != nil {
		return ProviderActions()
	}
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
