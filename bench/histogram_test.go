package bench

import (
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

// exactQuantile is the value of rank round(q*n) (at least 1) of sorted, the
// rank an HDR histogram reports.
func exactQuantile(sorted []time.Duration, q float64) time.Duration {
	rank := max(int(q*float64(len(sorted))+0.5), 1)
	return sorted[min(rank, len(sorted))-1]
}

func TestHistogramQuantilesMatchSortedSlice(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	samples := map[string]func() time.Duration{
		"log-normal around 5ms": func() time.Duration {
			return time.Duration(5e6 * math.Exp(1.2*rng.NormFloat64()))
		},
		"uniform 0-2s":     func() time.Duration { return time.Duration(rng.Int64N(2e9)) },
		"bimodal fsync":    func() time.Duration { return time.Duration(1e6 + rng.Int64N(1e5) + rng.Int64N(2)*40e6) },
		"tiny, sub-micros": func() time.Duration { return time.Duration(rng.Int64N(3000)) },
	}
	for name, draw := range samples {
		t.Run(name, func(t *testing.T) {
			h := NewHistogram()
			values := make([]time.Duration, 50_000)
			for i := range values {
				values[i] = draw()
				h.Record(values[i])
			}
			slices.Sort(values)
			for _, q := range []float64{0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 0.9999, 1} {
				want, got := exactQuantile(values, q), h.Quantile(q)
				// HDR reports the top of the bucket holding the value: at
				// most 1/1024 above it, or the 512 ns unit for tiny values.
				if slack := max(want/1024, 512); got < want || got > want+slack {
					t.Errorf("q=%v: got %v, want %v (+%v)", q, got, want, slack)
				}
			}
			if h.Max() != values[len(values)-1] || h.Count() != int64(len(values)) {
				t.Errorf("max %v count %d, want %v and %d", h.Max(), h.Count(), values[len(values)-1], len(values))
			}
		})
	}
}

func TestHistogramMergeAndReset(t *testing.T) {
	a, b, all := NewHistogram(), NewHistogram(), NewHistogram()
	for i := range 1000 {
		d := time.Duration(i+1) * time.Millisecond
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
		all.Record(d)
	}
	a.Merge(b)
	if a.Latency() != all.Latency() {
		t.Fatalf("merged %+v, want %+v", a.Latency(), all.Latency())
	}
	a.Reset()
	if a.Count() != 0 || a.Max() != 0 || a.Quantile(0.5) != 0 {
		t.Fatalf("after Reset: count %d max %v", a.Count(), a.Max())
	}
	a.Record(time.Hour * 2) // past the range: counted, exact max kept
	if a.Max() != 2*time.Hour || a.Quantile(0.5) != 2*time.Hour {
		t.Fatalf("over range: max %v p50 %v", a.Max(), a.Quantile(0.5))
	}
}

func TestRecorderConcurrent(t *testing.T) {
	rec, total := newRecorder(), NewHistogram()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range 1000 {
				rec.record(time.Duration(i) * time.Microsecond)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		rec.drainInto(total)
	}
	if total.Count() != 4000 {
		t.Fatalf("drained %d durations, want 4000", total.Count())
	}
}

func TestSpectrum(t *testing.T) {
	h := NewHistogram()
	for i := range 1000 {
		h.Record(time.Duration(i+1) * time.Millisecond)
	}
	s := h.Spectrum()
	last := s[len(s)-1]
	if last.Percent != 100 || last.Ms != 1000 {
		t.Fatalf("last point %+v, want the max", last)
	}
	for i := 1; i < len(s); i++ {
		if s[i].Percent <= s[i-1].Percent || s[i].Ms < s[i-1].Ms {
			t.Fatalf("spectrum not increasing at %d: %+v", i, s)
		}
	}
	// 1000 samples resolve p99.9 but not p99.99.
	if p := s[len(s)-2].Percent; p != 99.9 {
		t.Fatalf("last percentile %v, want 99.9", p)
	}
}
