package bench

import (
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/eventlogdb/eventlog/event"
)

// Generator produces a deterministic stream of realistic Kibana event-log
// events, every one distinct: event i is a pure function of the config and
// i (At), so writers can make their own batches in any order. It is not safe
// for concurrent use.
type Generator struct {
	cfg     GeneratorConfig
	src     *rand.PCG
	rng     *rand.Rand
	objects objects
	users   *rand.Zipf
	servers [serverPool]string
	// cum holds the cumulative kind weights, for picking a kind.
	cum []int
	// start is cfg.Start and gap the mean nanoseconds between events.
	start int64
	gap   float64
	// next is the index of the event Next returns.
	next int64
}

// NewGenerator returns a generator for cfg; zero fields take their defaults
// (see GeneratorConfig).
func NewGenerator(cfg GeneratorConfig) *Generator {
	cfg = cfg.withDefaults()
	src := rand.NewPCG(0, 0)
	rng := rand.New(src)
	g := &Generator{
		cfg:     cfg,
		src:     src,
		rng:     rng,
		objects: newObjects(rng, cfg.ObjectPool, cfg.ObjectSkew),
		users:   rand.NewZipf(rng, 1.5, 1, userPool-1),
		start:   cfg.Start.UnixNano(),
		gap:     1e9 / cfg.Rate,
	}
	for i := range g.servers {
		g.servers[i] = formatUUID(hashOf(saltServer, i), hashOf(saltServer, i+1<<40))
	}
	g.cum = make([]int, len(kinds))
	sum := 0
	for i, k := range kinds {
		sum += k.weight
		g.cum[i] = sum
	}
	return g
}

// Fill fills dst with the next len(dst) events.
func (g *Generator) Fill(dst []event.Event) {
	for i := range dst {
		dst[i] = g.Next()
	}
}

// Next returns the next event: At(0), then At(1), ...
func (g *Generator) Next() event.Event {
	e := g.At(g.next)
	g.next++
	return e
}

// At returns event i of the sequence. Its random draws come from a source
// seeded with the config's seed and i alone.
func (g *Generator) At(i int64) event.Event {
	var e event.Event
	g.build(&e, i)
	return e
}

// build sets *e to event i, overwriting all of it. Building in place spares
// a copy of the event on the heap per event.
func (g *Generator) build(e *event.Event, i int64) {
	g.src.Seed(mix(uint64(g.cfg.Seed)), mix(uint64(i)^0x65766e746c6f67))
	k := g.pickKind()
	o := g.outcome()
	*e = event.Event{
		Timestamp: event.DateOf(time.Unix(0, g.timestamp(i)).UTC()),
		Event: event.EventFields{
			Provider: k.provider,
			Action:   k.action,
			Outcome:  o.String(),
		},
		Log: event.Log{Level: o.level()},
		Kibana: event.Kibana{
			ServerUUID: g.servers[g.rng.IntN(serverPool)],
		},
	}
	k.build(g, e, o)
}

func (g *Generator) pickKind() *kind {
	n := g.rng.IntN(weightTotal)
	for i, c := range g.cum {
		if n < c {
			return &kinds[i]
		}
	}
	return &kinds[len(kinds)-1]
}

// timestamp returns event i's @timestamp in Unix nanoseconds: inOrder(i),
// or for an OutOfOrder fraction inOrder(i-1) moved back by 1ms to
// MaxLateness.
func (g *Generator) timestamp(i int64) int64 {
	if g.rng.Float64() >= g.cfg.OutOfOrder {
		return g.inOrder(i)
	}
	late := time.Millisecond
	if spread := g.cfg.MaxLateness - late; spread > 0 {
		late += time.Duration(g.rng.Int64N(int64(spread)))
	}
	return g.inOrder(i-1) - int64(late)
}

// inOrder is event i's place in time when it is not late: a point in
// [i, i+1) gaps after the start chosen by a hash of the seed and i, so
// in-order events never go back and a late one can be placed behind its
// predecessor.
func (g *Generator) inOrder(i int64) int64 {
	u := float64(mix(uint64(g.cfg.Seed)^mix(uint64(i)))>>11) / (1 << 53)
	return g.start + int64((float64(i)+u)*g.gap)
}

// outcome is event.outcome.
type outcome uint8

const (
	success outcome = iota
	failed
	unknown
)

func (o outcome) String() string {
	return [...]string{"success", "failure", "unknown"}[o]
}

// level is the log.level that goes with the outcome.
func (o outcome) level() string {
	return [...]string{"info", "error", "warning"}[o]
}

// Outcome shares: 90% success, 6% failure, 4% unknown.
const (
	successShare = 0.90
	failureShare = 0.06
)

func (g *Generator) outcome() outcome {
	switch f := g.rng.Float64(); {
	case f < successShare:
		return success
	case f < successShare+failureShare:
		return failed
	default:
		return unknown
	}
}

// logNormalMillis draws a duration whose milliseconds are log-normal with the
// given median and sigma, clamped to [1ms, 24h]. Kibana measures durations in
// whole milliseconds.
func (g *Generator) logNormalMillis(median time.Duration, sigma float64) time.Duration {
	ms := float64(median.Milliseconds()) * math.Exp(sigma*g.rng.NormFloat64())
	return time.Duration(min(max(ms, 1), 24*3600*1000)) * time.Millisecond
}

// setTiming sets event.start, end and duration for an operation of length d
// that ended at the event's @timestamp.
func setTiming(e *event.Event, d time.Duration) {
	end := e.Timestamp.Time()
	e.Event.Start = event.DateOf(end.Add(-d))
	e.Event.End = e.Timestamp
	e.Event.Duration = &event.Duration{Nanos: int64(d)}
}

// setFailure records f on e, with arg in place of a "%s" in its message.
func setFailure(e *event.Event, f failure, arg string) {
	e.Event.Reason = f.reason
	e.Error.Message = strings.Replace(f.message, "%s", arg, 1)
}

// pick returns a uniformly drawn element of s.
func pick[T any](g *Generator, s []T) T { return s[g.rng.IntN(len(s))] }
