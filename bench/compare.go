package bench

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"
)

// Delta is one figure of two reports side by side.
type Delta struct {
	Name string
	A, B float64
	// Ratio is B/A.
	Ratio float64
	// Noise is the relative change the figure shows between two runs of
	// the same build on the same machine; a change beyond it is flagged.
	Noise float64
	// Verdict is "better", "worse" or (for a figure that is neither)
	// "changed" for a change beyond Noise, else "".
	Verdict string
}

// figure is a comparable number of a report: how to read it, which way is
// better, and how much it moves between identical runs.
type figure struct {
	name  string
	dir   direction
	noise float64
	get   func(*Report) (float64, bool)
}

// direction says which way a figure improves.
type direction int

const (
	higher  direction = iota // higher is better
	lower                    // lower is better
	neutral                  // neither: a change is only "changed"
)

// Run-to-run noise, from three identical 2M-event runs on the development
// machine (README, Benchmarking): events/s and the per-second median spread
// over ±8-10%, CPU per event ±6%, p50 ±1.5%, p99 ±8%, p99.9 and max
// ±10-15%, the per-second minimum ±5%, peak RSS ±3%; bytes per event
// moved by 0.06%. The thresholds leave about twice that room, as a busy
// machine widens the spread.
const (
	noiseRate   = 0.20
	noiseMiddle = 0.15
	noiseTail   = 0.30
	noiseMax    = 0.50
	noiseDisk   = 0.02
)

func always(v float64) (float64, bool) { return v, true }

// figures lists what Compare compares, in order.
func figures() []figure {
	fs := []figure{
		{"events/s", higher, noiseRate, func(r *Report) (float64, bool) { return always(r.Throughput.EventsPerSec) }},
		{"MB/s (JSON)", higher, noiseRate, func(r *Report) (float64, bool) { return always(r.Throughput.MBPerSec) }},
		{"events/s per second, min", higher, noiseTail, func(r *Report) (float64, bool) { return always(r.Throughput.PerSecond.Min) }},
		{"events/s per second, median", higher, noiseRate, func(r *Report) (float64, bool) { return always(r.Throughput.PerSecond.Median) }},
		{"events/s per second, max", higher, noiseRate, func(r *Report) (float64, bool) { return always(r.Throughput.PerSecond.Max) }},
	}
	fs = append(fs, latencyFigures("append", func(r *Report) (Latency, bool) { return r.Append, true })...)
	fs = append(fs,
		figure{"disk B/event", lower, noiseDisk, func(r *Report) (float64, bool) { return diskFigure(r, r.diskBytesPerEvent) }},
		figure{"compression ratio", higher, noiseDisk, func(r *Report) (float64, bool) { return diskFigure(r, r.compression) }},
		figure{"final seal s", lower, noiseTail, func(r *Report) (float64, bool) { return diskFigure(r, r.sealSeconds) }},
		figure{"peak RSS MiB", lower, noiseMiddle, func(r *Report) (float64, bool) {
			return float64(r.Process.PeakRSSBytes) / (1 << 20), r.Process.PeakRSSBytes > 0
		}},
		figure{"CPU µs/event", lower, noiseMiddle, func(r *Report) (float64, bool) {
			return r.Process.CPUMicrosPerEvent, r.Process.CPUSeconds > 0
		}},
		figure{"server CPU µs/event", lower, noiseMiddle, func(r *Report) (float64, bool) {
			if r.Server == nil {
				return 0, false
			}
			return r.Server.CPUMicrosPerEvent, true
		}},
		figure{"WAL fsyncs/s", neutral, noiseMiddle, func(r *Report) (float64, bool) { return always(r.WAL.FsyncsPerSec) }},
	)
	return fs
}

// latencyFigures are the percentiles of one latency, with noise growing
// towards the tail.
func latencyFigures(name string, get func(*Report) (Latency, bool)) []figure {
	at := func(pick func(Latency) float64) func(*Report) (float64, bool) {
		return func(r *Report) (float64, bool) {
			l, ok := get(r)
			return pick(l), ok && l.Count > 0
		}
	}
	return []figure{
		{name + " p50 ms", lower, noiseMiddle, at(func(l Latency) float64 { return l.P50 })},
		{name + " p90 ms", lower, noiseTail, at(func(l Latency) float64 { return l.P90 })},
		{name + " p99 ms", lower, noiseTail, at(func(l Latency) float64 { return l.P99 })},
		{name + " p99.9 ms", lower, noiseMax, at(func(l Latency) float64 { return l.P999 })},
		{name + " max ms", lower, noiseMax, at(func(l Latency) float64 { return l.Max })},
	}
}

func diskFigure(r *Report, get func() float64) (float64, bool) {
	if r.Disk == nil {
		return 0, false
	}
	return get(), true
}

func (r *Report) diskBytesPerEvent() float64 { return r.Disk.BytesPerEvent }
func (r *Report) compression() float64       { return r.Disk.CompressionRatio }
func (r *Report) sealSeconds() float64       { return r.Disk.SealSeconds }

// queryFigures are the latencies of every query kind a or b ran.
func queryFigures(a, b *Report) []figure {
	var fs []figure
	seen := map[string]bool{}
	for _, q := range append(append([]QueryLatency(nil), a.Queries...), b.Queries...) {
		if seen[q.Kind] {
			continue
		}
		seen[q.Kind] = true
		kind := q.Kind
		get := func(r *Report) (Latency, bool) {
			for _, q := range r.Queries {
				if q.Kind == kind {
					return q.Latency, true
				}
			}
			return Latency{}, false
		}
		for _, f := range latencyFigures("query "+kind, get) {
			f.noise = max(f.noise, noiseTail) // fewer samples than appends
			fs = append(fs, f)
		}
	}
	return fs
}

// Compare sets each figure of b beside a's, flagging the changes beyond
// run-to-run noise. Figures missing from either report are left out.
func Compare(a, b *Report) []Delta {
	var out []Delta
	for _, f := range append(figures(), queryFigures(a, b)...) {
		va, okA := f.get(a)
		vb, okB := f.get(b)
		if !okA || !okB {
			continue
		}
		d := Delta{Name: f.name, A: va, B: vb, Noise: f.noise, Ratio: math.NaN()}
		if va != 0 {
			d.Ratio = vb / va
		}
		d.Verdict = verdict(va, vb, f)
		out = append(out, d)
	}
	return out
}

// verdict judges a change from va to vb: beyond noise, by the ratio in
// either direction (a halving is as far as a doubling).
func verdict(va, vb float64, f figure) string {
	if va <= 0 || vb <= 0 {
		if va == vb {
			return ""
		}
		// From or to zero: a change only if the other side is not tiny.
		if math.Max(va, vb) < 1e-9 {
			return ""
		}
	} else if math.Abs(math.Log(vb/va)) <= math.Log1p(f.noise) {
		return ""
	}
	switch {
	case f.dir == neutral:
		return "changed"
	case (vb > va) == (f.dir == higher):
		return "better"
	}
	return "worse"
}

// WriteComparison prints deltas as a table headed by the two reports'
// names, then notes on what differs between the runs themselves.
func WriteComparison(w io.Writer, nameA, nameB string, a, b *Report, deltas []Delta) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "figure\t%s\t%s\tb/a\t\n", nameA, nameB)
	worse, better := 0, 0
	for _, d := range deltas {
		flag := ""
		switch d.Verdict {
		case "worse":
			worse++
			flag = fmt.Sprintf("WORSE (noise ±%.0f%%)", d.Noise*100)
		case "better":
			better++
			flag = fmt.Sprintf("better (noise ±%.0f%%)", d.Noise*100)
		case "changed":
			flag = fmt.Sprintf("changed (noise ±%.0f%%)", d.Noise*100)
		}
		ratio := "-"
		if !math.IsNaN(d.Ratio) {
			ratio = fmt.Sprintf("%.2f", d.Ratio)
		}
		if flag != "" {
			flag = "  " + flag
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.Name, compact(d.A), compact(d.B), ratio, flag)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d worse, %d better beyond run-to-run noise\n", worse, better)
	for _, note := range runDifferences(a, b) {
		fmt.Fprintln(w, "note:", note)
	}
	return nil
}

// compact formats a figure with about three significant digits.
func compact(v float64) string {
	if v >= 1000 || v == math.Trunc(v) {
		return group(v)
	}
	return sig3(v)
}

// runDifferences lists what makes two runs not like for like.
func runDifferences(a, b *Report) []string {
	var notes []string
	ca, cb := a.Config, b.Config
	cmp := func(what string, x, y any) {
		if x != y {
			notes = append(notes, fmt.Sprintf("%s differs: %s vs %s", what, orDash(x), orDash(y)))
		}
	}
	cmp("target", ca.Target, cb.Target)
	cmp("workload", ca.Workload, cb.Workload)
	cmp("seed", ca.Seed, cb.Seed)
	cmp("batch", ca.Batch, cb.Batch)
	cmp("concurrency", ca.Concurrency, cb.Concurrency)
	cmp("sync", ca.Sync, cb.Sync)
	cmp("rate", ca.Rate, cb.Rate)
	cmp("events", a.Events, b.Events)
	cmp("CPUs", a.Machine.CPUs, b.Machine.CPUs)
	cmp("CPU model", a.Machine.CPUModel, b.Machine.CPUModel)
	for _, r := range []*Report{a, b} {
		// The load average lags: a run just before this one still
		// counts, so only a machine busier than its CPUs is noted.
		if load := r.Machine.Load1Start; load >= float64(r.Machine.CPUs) {
			notes = append(notes, fmt.Sprintf("the machine was busy when the run of %s began (load average %.2f on %d CPUs)",
				r.Started.Format("2006-01-02 15:04:05"), load, r.Machine.CPUs))
		}
	}
	return notes
}

// orDash formats v, or "-" for an empty string.
func orDash(v any) string {
	if s := fmt.Sprint(v); s != "" {
		return s
	}
	return "-"
}
