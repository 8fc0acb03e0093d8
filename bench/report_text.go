package bench

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteText writes the report for people: one figure per line, each with
// its unit.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	p := func(format string, args ...any) { fmt.Fprintf(tw, format+"\n", args...) }
	p("%s", r.describeRun())
	p("%s", r.Machine.describe())
	p("")
	p("throughput\t%s events/s, %.1f MB/s of JSON (%s events, %s, in %.2f s)",
		group(r.Throughput.EventsPerSec), r.Throughput.MBPerSec, group(float64(r.Events)), bytesIEC(r.JSONBytes), r.Seconds)
	s := r.Throughput.PerSecond
	p("  per second\tmin %s, median %s, max %s events/s", group(s.Min), group(s.Median), group(s.Max))
	p("append latency\t%s", r.Append.describe())
	p("\t(%s appends of up to %d events; %s)", group(float64(r.Append.Count)), r.Config.Batch, r.loopNote())
	if r.Throttled > 0 {
		p("  throttled\t%d appends answered 429 and retried", r.Throttled)
	}
	r.writeDisk(p)
	p("process\t%s", r.Process.describe(false))
	if r.Server != nil {
		p("server process\t%s", r.Server.describe(true))
	}
	p("WAL fsyncs\t%s, %.1f/s", group(float64(r.WAL.Fsyncs)), r.WAL.FsyncsPerSec)
	for _, q := range r.Queries {
		line := "none ran"
		if q.Count > 0 {
			line = fmt.Sprintf("%s (%d queries)", q.describe(), q.Count)
		}
		if q.Errors > 0 {
			line += fmt.Sprintf("; %d failed, the first with: %s", q.Errors, q.FirstError)
		}
		p("query %s\t%s", q.Kind, line)
	}
	return tw.Flush()
}

func (r *Report) describeRun() string {
	c := &r.Config
	var b strings.Builder
	b.WriteString("eventlog bench: ")
	if c.Target == "http" {
		fmt.Fprintf(&b, "server %s (_bulk)", c.URL)
	} else {
		fmt.Fprintf(&b, "embedded in %s, sync %s", c.Dir, c.Sync)
		if c.SegmentMaxBytes > 0 {
			fmt.Fprintf(&b, ", segments of %s", bytesIEC(c.SegmentMaxBytes))
		}
	}
	if c.Workload == "generator" {
		fmt.Fprintf(&b, "; generator (every event distinct, %.0f B of JSON on average", c.AvgJSONBytes)
	} else {
		fmt.Fprintf(&b, "; %s (%d events cycled, %.0f B of JSON on average", c.Workload, c.PoolEvents, c.AvgJSONBytes)
	}
	if c.Workload == "generator" {
		fmt.Fprintf(&b, ", seed %d", c.Seed)
	}
	fmt.Fprintf(&b, "); batch %d, %d writers", c.Batch, c.Concurrency)
	if c.Rate > 0 {
		fmt.Fprintf(&b, ", offered %s events/s", group(c.Rate))
	}
	if c.QueryRate > 0 {
		fmt.Fprintf(&b, ", %g queries/s", c.QueryRate)
	}
	return b.String()
}

func (m Machine) describe() string {
	s := fmt.Sprintf("machine: %d CPUs", m.CPUs)
	if m.CPUModel != "" {
		s += " (" + m.CPUModel + ")"
	}
	s += fmt.Sprintf(", %s/%s, %s", m.OS, m.Arch, m.Go)
	if m.Filesystem != "" {
		s += ", data on " + m.Filesystem
	}
	return s + fmt.Sprintf("; load average %.2f at start, %.2f at end", m.Load1Start, m.Load1End)
}

// loopNote says how latency was measured.
func (r *Report) loopNote() string {
	if r.Config.Rate > 0 {
		return "open loop: timed from when each was due"
	}
	return "closed loop: timed from each call"
}

func (r *Report) writeDisk(p func(string, ...any)) {
	d := r.Disk
	if d == nil {
		p("disk\tnot measured over HTTP (the server seals on its own schedule)")
		return
	}
	p("disk\t%.1f B/event, %.1fx smaller than the JSON (%s after the final seal)",
		d.BytesPerEvent, d.CompressionRatio, bytesIEC(d.Bytes))
	p("\tsegments %s in %d files, WAL %s; the final seal took %.2f s",
		bytesIEC(d.SegmentBytes), d.Segments, bytesIEC(d.WALBytes), d.SealSeconds)
	if d.Layout != nil {
		p("  B/event by family\t%s", d.Layout.familiesLine())
	}
}

func (l Latency) describe() string {
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  p99.9 %s  max %s",
		fmtMs(l.P50), fmtMs(l.P90), fmtMs(l.P99), fmtMs(l.P999), fmtMs(l.Max))
}

func (p Process) describe(server bool) string {
	rss := "peak RSS " + bytesIEC(p.PeakRSSBytes)
	if server {
		rss = "RSS " + bytesIEC(p.PeakRSSBytes) + " (highest sampled)"
		return fmt.Sprintf("%s, CPU %.1f s = %.2f µs/event", rss, p.CPUSeconds, p.CPUMicrosPerEvent)
	}
	return fmt.Sprintf("%s, CPU %.1f s (user %.1f + sys %.1f) = %.2f µs/event",
		rss, p.CPUSeconds, p.CPUUserSeconds, p.CPUSystemSeconds, p.CPUMicrosPerEvent)
}

// fmtMs formats milliseconds with about three significant digits, in µs
// below 1 ms and in s from 10 s.
func fmtMs(v float64) string {
	switch {
	case v < 1:
		return sig3(v*1000) + " µs"
	case v >= 10_000:
		return sig3(v/1000) + " s"
	}
	return sig3(v) + " ms"
}

// sig3 formats v with about three significant digits (more above 1000).
func sig3(v float64) string {
	digits := 0
	switch {
	case v < 10:
		digits = 2
	case v < 100:
		digits = 1
	}
	return strconv.FormatFloat(v, 'f', digits, 64)
}

// group formats v rounded to an integer with thousands separators.
func group(v float64) string {
	s := strconv.FormatFloat(v, 'f', 0, 64)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// bytesIEC formats n bytes in B, KiB, MiB or GiB.
func bytesIEC(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	v, i := float64(n), -1
	for v >= unit && i < 2 {
		v /= unit
		i++
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + " " + [...]string{"KiB", "MiB", "GiB"}[i]
}
