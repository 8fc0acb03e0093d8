package eventlog

import (
	"context"
	"time"
)

// pacer sleeps to keep a byte rate and a share of one CPU: merging is
// CPU-bound (decode, sort, encode), so a byte rate alone would not leave
// the machine to ingest and queries.
type pacer struct {
	rate  float64 // bytes per second; <= 0: unlimited
	duty  float64 // the share of time spent working; >= 1: unlimited
	start time.Time
	done  float64
	// busySince is when the current stretch of work began.
	busySince time.Time
}

func newPacer(rate int64, duty float64) *pacer {
	now := time.Now()
	return &pacer{rate: float64(rate), duty: duty, start: now, busySince: now}
}

func (p *pacer) wait(ctx context.Context, bytes float64) error {
	var ahead time.Duration
	if p.rate > 0 {
		p.done += bytes
		ahead = time.Duration(p.done/p.rate*float64(time.Second)) - time.Since(p.start)
	}
	if p.duty > 0 && p.duty < 1 {
		if busy := time.Since(p.busySince); busy >= 5*time.Millisecond {
			ahead = max(ahead, time.Duration(float64(busy)*(1-p.duty)/p.duty))
		}
	}
	if ahead < time.Millisecond {
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
