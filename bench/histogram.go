package bench

import (
	"sync"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// The range and precision of a Histogram: 1 µs to 1 h, 3 significant
// digits (a reported value is at most 0.1% above the true one).
const (
	histLowest  = int64(time.Microsecond)
	histHighest = int64(time.Hour)
	histDigits  = 3
)

// Histogram records durations in an HDR histogram, and their exact minimum
// and maximum. It is not safe for concurrent use.
type Histogram struct {
	h        *hdrhistogram.Histogram
	min, max time.Duration
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram {
	return &Histogram{h: hdrhistogram.New(histLowest, histHighest, histDigits)}
}

// Record adds one duration; one over an hour counts as an hour (but is the
// exact Max).
func (h *Histogram) Record(d time.Duration) {
	if h.h.TotalCount() == 0 || d < h.min {
		h.min = d
	}
	h.max = max(h.max, d)
	_ = h.h.RecordValue(min(max(int64(d), 0), histHighest)) // in range: cannot fail
}

// Merge adds every duration recorded in o.
func (h *Histogram) Merge(o *Histogram) {
	if o.Count() == 0 {
		return
	}
	if h.Count() == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.h.Merge(o.h)
}

// Reset empties the histogram.
func (h *Histogram) Reset() {
	h.h.Reset()
	h.min, h.max = 0, 0
}

// Count is the number of durations recorded.
func (h *Histogram) Count() int64 { return h.h.TotalCount() }

// Max is the largest duration recorded, exactly.
func (h *Histogram) Max() time.Duration { return h.max }

// Mean is the mean of the durations, within the histogram's precision.
func (h *Histogram) Mean() time.Duration { return time.Duration(h.h.Mean()) }

// Quantile returns the duration at quantile q (0.99 for p99): the smallest
// recorded duration with at least q of all at or below it, rounded up to the
// histogram's precision and never above Max. Zero when empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.Count() == 0 {
		return 0
	}
	v := time.Duration(h.h.ValueAtQuantile(q * 100))
	return min(max(v, h.min), h.max)
}

// Latency summarises the histogram in milliseconds.
func (h *Histogram) Latency() Latency {
	return Latency{
		Count: h.Count(), Mean: ms(h.Mean()),
		P50: ms(h.Quantile(0.50)), P90: ms(h.Quantile(0.90)), P99: ms(h.Quantile(0.99)),
		P999: ms(h.Quantile(0.999)), Max: ms(h.Max()),
	}
}

// spectrumQuantiles are the points of a latency percentile chart, evenly
// spaced on its 1/(1-q) axis.
var spectrumQuantiles = []float64{0, 0.25, 0.5, 0.68, 0.75, 0.8, 0.9, 0.95, 0.968, 0.98, 0.99,
	0.995, 0.9968, 0.998, 0.999, 0.9995, 0.99968, 0.9998, 0.9999, 0.99995, 0.99999}

// Spectrum returns the durations at spectrumQuantiles and the maximum, up to
// the first quantile past one sample in the histogram.
func (h *Histogram) Spectrum() []Percentile {
	var out []Percentile
	for _, q := range spectrumQuantiles {
		if q > 0 && (1-q)*float64(h.Count()) < 1 {
			break
		}
		out = append(out, Percentile{Percent: q * 100, Ms: ms(h.Quantile(q))})
	}
	if h.Count() > 0 {
		out = append(out, Percentile{Percent: 100, Ms: ms(h.Max())})
	}
	return out
}

// ms is d in (fractional) milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// recorder is a Histogram that several goroutines record into while
// another drains it each second.
type recorder struct {
	mu sync.Mutex
	h  *Histogram
}

func newRecorder() *recorder { return &recorder{h: NewHistogram()} }

func (r *recorder) record(d time.Duration) {
	r.mu.Lock()
	r.h.Record(d)
	r.mu.Unlock()
}

// drainInto merges what was recorded since the last drain into dst, and
// forgets it.
func (r *recorder) drainInto(dst *Histogram) {
	r.mu.Lock()
	dst.Merge(r.h)
	r.h.Reset()
	r.mu.Unlock()
}
