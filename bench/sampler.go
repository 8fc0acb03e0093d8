package bench

import (
	"context"
	"time"
)

// progressTick is how often the sampler reports progress; every second it
// also closes an entry of the series.
const progressTick = 100 * time.Millisecond

// sampler turns the writers' counters and histograms into the per-second
// series and the run's latency histogram, and reports progress.
type sampler struct {
	r      *run
	total  *Histogram // every append so far, but those of the open second
	sec    *Histogram // scratch for one second
	series []Second
	// The open second began at lastAt, with lastEvents acknowledged.
	lastAt     time.Time
	lastEvents int64
	// recent holds (time, events) at the last progress ticks, for the
	// current rate.
	recent []mark
}

type mark struct {
	at     time.Time
	events int64
}

// recentMarks is how many progress ticks the current rate spans.
const recentMarks = int(time.Second / progressTick)

func newSampler(r *run) *sampler {
	return &sampler{r: r, total: NewHistogram(), sec: NewHistogram(), lastAt: r.start}
}

// loop samples until done is closed (once every writer has returned), then
// closes the last, partial second.
func (s *sampler) loop(ctx context.Context, done <-chan struct{}) {
	tick := time.NewTicker(progressTick)
	defer tick.Stop()
	for {
		select {
		case <-done:
			now := time.Now()
			s.second(now)
			s.progress(now)
			return
		case now := <-tick.C:
			if now.Sub(s.lastAt) >= time.Second {
				s.second(now)
				s.r.target.sample(ctx)
			}
			s.progress(now)
		}
	}
}

// second closes the interval since lastAt: its events and latencies.
func (s *sampler) second(now time.Time) {
	for _, rec := range s.r.recorders {
		rec.drainInto(s.sec)
	}
	events := s.r.events.Load()
	dur := now.Sub(s.lastAt)
	if dur > 0 && (events > s.lastEvents || s.sec.Count() > 0) {
		s.series = append(s.series, Second{
			At: now.Sub(s.r.start).Seconds(), Seconds: dur.Seconds(),
			Events: events - s.lastEvents, EventsPerSec: float64(events-s.lastEvents) / dur.Seconds(),
			P50: ms(s.sec.Quantile(0.5)), P99: ms(s.sec.Quantile(0.99)), Max: ms(s.sec.Max()),
		})
	}
	s.total.Merge(s.sec)
	s.sec.Reset()
	s.lastAt, s.lastEvents = now, events
}

// progress calls Config.Progress, if set.
func (s *sampler) progress(now time.Time) {
	fn := s.r.cfg.Progress
	if fn == nil {
		return
	}
	events := s.r.events.Load()
	s.recent = append(s.recent, mark{now, events})
	if len(s.recent) > recentMarks+1 {
		s.recent = s.recent[1:]
	}
	p := Progress{Events: events, Elapsed: now.Sub(s.r.start), Total: s.r.cfg.Events, Duration: s.r.cfg.Duration}
	if old := s.recent[0]; now.After(old.at) {
		p.Rate = float64(events-old.events) / now.Sub(old.at).Seconds()
	}
	fn(p)
}
