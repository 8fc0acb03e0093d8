package eventlog

import (
	"context"
	"runtime/metrics"
	"time"
)

// pacer sleeps to keep a byte rate and a share of one CPU: merging is
// CPU-bound (decode, sort, encode), so a byte rate alone would not leave
// the machine to ingest and queries. Between its sleeps it also steps
// aside for other goroutines (see yielder).
type pacer struct {
	rate  float64 // bytes per second; <= 0: unlimited
	duty  float64 // the share of time spent working; >= 1: unlimited
	start time.Time
	done  float64
	// busySince is when the current stretch of work began.
	busySince time.Time
	y         yielder
}

// workQuantum is the stretch of work after which the pacer sleeps to keep
// the CPU share.
const workQuantum = 5 * time.Millisecond

func newPacer(rate int64, duty float64) *pacer {
	now := time.Now()
	return &pacer{rate: float64(rate), duty: duty, start: now, busySince: now, y: yielder{last: now}}
}

// wait accounts for bytes read, then sleeps if the compactor is ahead of
// its byte rate or has used its CPU share, or else steps aside if other
// goroutines wait for a processor.
func (p *pacer) wait(ctx context.Context, bytes float64) error {
	ahead := p.ahead(bytes)
	if ahead < time.Millisecond {
		// Time spent aside is not work.
		p.busySince = p.busySince.Add(p.y.yield())
		return nil
	}
	defer func() { p.busySince = time.Now() }()
	t := time.NewTimer(ahead)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ahead returns how long to sleep to keep the byte rate and the CPU share.
func (p *pacer) ahead(bytes float64) time.Duration {
	var ahead time.Duration
	if p.rate > 0 {
		p.done += bytes
		ahead = time.Duration(p.done/p.rate*float64(time.Second)) - time.Since(p.start)
	}
	if p.duty > 0 && p.duty < 1 {
		if busy := time.Since(p.busySince); busy >= workQuantum {
			ahead = max(ahead, time.Duration(float64(busy)*(1-p.duty)/p.duty))
		}
	}
	return ahead
}

// A yielder lets the compactor run at a lower priority than everything
// else, which the Go scheduler does not offer: a goroutine made runnable
// (an Append back from its WAL fsync, the sealer) waits for a processor
// until a running one blocks or is preempted after 10 ms, so merging on
// one processor while sealing holds the other delayed Appends by
// milliseconds (the main cause of their tail latency during compaction).
// At most every yieldEvery of work, yield looks whether any goroutine is
// waiting for a processor and if so sleeps for stepAside, which gives the
// compactor's processor to it (taken from any run queue). Since it looks
// at most that often, the compactor keeps some progress on a saturated
// machine: at least yieldEvery of work per step aside.
type yielder struct {
	last   time.Time
	sample [1]metrics.Sample
}

const (
	// yieldEvery is the most often the compactor looks for waiting
	// goroutines (reading the count costs about 50 ns).
	yieldEvery = 100 * time.Microsecond
	// stepAside is how long the compactor sleeps when others wait: a
	// sleep is what hands its processor over (runtime.Gosched would put it
	// back in line ahead of goroutines queued on the other processors).
	stepAside = 50 * time.Microsecond
)

// yield steps aside if goroutines wait for a processor and returns how
// long it was aside.
func (y *yielder) yield() time.Duration {
	now := time.Now()
	if now.Sub(y.last) < yieldEvery {
		return 0
	}
	y.last = now
	if runnableGoroutines(&y.sample) == 0 {
		return 0
	}
	time.Sleep(stepAside)
	y.last = time.Now()
	return y.last.Sub(now)
}

// pause is yield for callbacks.
func (y *yielder) pause() { y.yield() }

// runnableGoroutines returns how many goroutines are ready to run but not
// running: waiting for a processor. The metric is new in Go 1.26, which
// go.mod requires for it; should a runtime not offer it, it reads as 0
// and the compactor never steps aside.
func runnableGoroutines(s *[1]metrics.Sample) uint64 {
	s[0].Name = "/sched/goroutines/runnable:goroutines"
	metrics.Read(s[:])
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}
