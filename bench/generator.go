package bench

import (
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/eventlogdb/eventlog/event"
)

// Generator produces a deterministic stream of realistic Kibana event-log
// events. It is not safe for concurrent use.
type Generator struct {
	cfg     GeneratorConfig
	rng     *rand.Rand
	objects objects
	users   *rand.Zipf
	servers [serverPool]string
	// cum holds the cumulative kind weights, for picking a kind.
	cum []int
	// now is the in-order event clock, in Unix nanoseconds.
	now int64
}

// NewGenerator returns a generator for cfg; zero fields take their defaults
// (see GeneratorConfig).
func NewGenerator(cfg GeneratorConfig) *Generator {
	cfg = cfg.withDefaults()
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x65766e746c6f67))
	g := &Generator{
		cfg:     cfg,
		rng:     rng,
		objects: newObjects(rng, cfg.ObjectPool, cfg.ObjectSkew),
		users:   rand.NewZipf(rng, 1.5, 1, userPool-1),
		now:     cfg.Start.UnixNano(),
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

// Next returns the next event.
func (g *Generator) Next() event.Event {
	k := g.pickKind()
	o := g.outcome()
	e := event.Event{
		Timestamp: event.DateOf(time.Unix(0, g.timestamp()).UTC()),
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
	k.build(g, &e, o)
	return e
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

// timestamp advances the clock by an exponential gap with mean 1/Rate and
// returns it, moved back by 1ms to MaxLateness for an OutOfOrder fraction.
func (g *Generator) timestamp() int64 {
	g.now += int64(g.rng.ExpFloat64() / g.cfg.Rate * 1e9)
	if g.rng.Float64() >= g.cfg.OutOfOrder {
		return g.now
	}
	late := time.Millisecond
	if spread := g.cfg.MaxLateness - late; spread > 0 {
		late += time.Duration(g.rng.Int64N(int64(spread)))
	}
	return g.now - int64(late)
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

// Outcome shares: 95% success, 4.5% failure, 0.5% unknown.
const (
	successShare = 0.95
	failureShare = 0.045
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
