package bench

import (
	"bytes"
	_ "embed"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
)

//go:embed report.html.tmpl
var reportTemplateText string

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	// The legend sits above the plot, one 110-unit slot per line.
	"legendX":    func(i int) int { return plotLeft + 110*i },
	"legendX2":   func(i int) int { return plotLeft + 110*i + 20 },
	"legendText": func(i int) int { return plotLeft + 110*i + 25 },
}).Parse(reportTemplateText))

// WriteHTML writes the report as one self-contained HTML page: the text
// report, and inline SVG charts of throughput and latency over time and of
// the append latency at each percentile. It fetches nothing; the report's
// JSON is embedded too (script#report), so the page can be reread.
func (r *Report) WriteHTML(w io.Writer) error {
	var text bytes.Buffer
	if err := r.WriteText(&text); err != nil {
		return err
	}
	return reportTemplate.Execute(w, map[string]any{
		"Title":  "eventlog bench " + r.Started.Format("2006-01-02 15:04:05 MST"),
		"Text":   text.String(),
		"Charts": []chart{throughputChart(r), latencyChart(r), spectrumChart(r)},
		"Report": r,
	})
}

// Chart geometry, in SVG user units.
const (
	chartWidth, chartHeight         = 760, 300
	plotLeft, plotRight             = 70, 740
	plotTop, plotBottom             = 20, 260
	plotWidth, plotHeight   float64 = plotRight - plotLeft, plotBottom - plotTop
)

// chart is one SVG line chart, laid out for the template.
type chart struct {
	ID, Title      string
	XLabel, YLabel string
	Lines          []line
	XTicks, YTicks []tick
}

// line is one series: its name (the data-series attribute), CSS class and
// SVG points "x,y x,y ...".
type line struct {
	Name, Class, Points string
	N                   int
}

// tick is a labelled grid line at Pos along its axis.
type tick struct {
	Pos   float64
	Label string
}

// axis maps data values to plot coordinates, linearly or on a log10
// scale.
type axis struct {
	lo, hi float64
	log    bool
}

func (a axis) frac(v float64) float64 {
	if a.log {
		v, lo, hi := math.Log10(math.Max(v, a.lo)), math.Log10(a.lo), math.Log10(a.hi)
		return (v - lo) / (hi - lo)
	}
	return (v - a.lo) / (a.hi - a.lo)
}

func (a axis) x(v float64) float64 { return plotLeft + a.frac(v)*plotWidth }
func (a axis) y(v float64) float64 { return plotBottom - a.frac(v)*plotHeight }

// points formats (xs[i], ys[i]) for an SVG polyline.
func points(xa, ya axis, xs, ys []float64) string {
	var b strings.Builder
	for i := range xs {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatFloat(xa.x(xs[i]), 'f', 1, 64))
		b.WriteByte(',')
		b.WriteString(strconv.FormatFloat(ya.y(ys[i]), 'f', 1, 64))
	}
	return b.String()
}

// timeAxis is the x axis of the over-time charts, with its ticks.
func timeAxis(series []Second) (axis, []tick) {
	end := 1.0
	if n := len(series); n > 0 {
		end = math.Max(series[n-1].At, 1)
	}
	a := axis{lo: 0, hi: end}
	var ticks []tick
	step := niceStep(end / 6)
	for v := 0.0; v <= end+1e-9; v += step {
		ticks = append(ticks, tick{a.x(v), compact(v) + " s"})
	}
	return a, ticks
}

// niceStep rounds x up to 1, 2 or 5 times a power of ten.
func niceStep(x float64) float64 {
	if x <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}

// linearTicks returns the ticks of a linear y axis from 0 to about hi.
func linearTicks(hi float64, unit string) (axis, []tick) {
	step := niceStep(math.Max(hi, 1) / 5)
	top := math.Ceil(math.Max(hi, 1)/step) * step
	a := axis{lo: 0, hi: top}
	var ticks []tick
	for v := 0.0; v <= top+1e-9; v += step {
		ticks = append(ticks, tick{a.y(v), compact(v) + unit})
	}
	return a, ticks
}

// logMsAxis is a log y axis of milliseconds covering values, with a tick
// per power of ten.
func logMsAxis(values []float64) (axis, []tick) {
	lo, hi := math.Inf(1), 0.0
	for _, v := range values {
		if v > 0 {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if hi == 0 {
		lo, hi = 0.1, 1
	}
	a := axis{lo: math.Pow(10, math.Floor(math.Log10(lo))), hi: math.Pow(10, math.Ceil(math.Log10(hi))), log: true}
	if a.hi <= a.lo {
		a.hi = a.lo * 10
	}
	var ticks []tick
	for v := a.lo; v <= a.hi*1.0001; v *= 10 {
		ticks = append(ticks, tick{a.y(v), tickMs(v)})
	}
	return a, ticks
}

// tickMs labels a power of ten of milliseconds: "100 µs", "10 ms", "1 s".
func tickMs(v float64) string {
	switch {
	case v < 1:
		return strconv.FormatFloat(v*1000, 'g', -1, 64) + " µs"
	case v < 1000:
		return strconv.FormatFloat(v, 'g', -1, 64) + " ms"
	}
	return strconv.FormatFloat(v/1000, 'g', -1, 64) + " s"
}

func throughputChart(r *Report) chart {
	xa, xt := timeAxis(r.Series)
	xs, ys := make([]float64, len(r.Series)), make([]float64, len(r.Series))
	top := 0.0
	for i, s := range r.Series {
		xs[i], ys[i] = s.At, s.EventsPerSec
		top = math.Max(top, s.EventsPerSec)
	}
	ya, yt := linearTicks(top, "")
	return chart{
		ID: "throughput", Title: "Append throughput, events/s per second", XLabel: "time since start", YLabel: "events/s",
		XTicks: xt, YTicks: yt,
		Lines: []line{{Name: "events_per_sec", Class: "s0", Points: points(xa, ya, xs, ys), N: len(xs)}},
	}
}

func latencyChart(r *Report) chart {
	xa, xt := timeAxis(r.Series)
	n := len(r.Series)
	xs, p50, p99, mx := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i, s := range r.Series {
		xs[i], p50[i], p99[i], mx[i] = s.At, s.P50, s.P99, s.Max
	}
	ya, yt := logMsAxis(append(append(append([]float64(nil), p50...), p99...), mx...))
	return chart{
		ID: "latency", Title: "Append latency per second (log scale)", XLabel: "time since start", YLabel: "latency",
		XTicks: xt, YTicks: yt,
		Lines: []line{
			{Name: "p50_ms", Class: "s0", Points: points(xa, ya, xs, p50), N: n},
			{Name: "p99_ms", Class: "s1", Points: points(xa, ya, xs, p99), N: n},
			{Name: "max_ms", Class: "s2", Points: points(xa, ya, xs, mx), N: n},
		},
	}
}

// spectrumChart plots append latency against the percentile, on the
// 1/(1-q) axis HDR histograms are drawn with, so the tail has room.
func spectrumChart(r *Report) chart {
	nines := func(pct float64) float64 { return math.Log10(1 / math.Max(1-pct/100, 1e-6)) }
	var xs, ys []float64
	last := 0.0
	for _, p := range r.AppendSpectrum {
		x := nines(p.Percent)
		if p.Percent == 100 {
			x = last + 0.5 // the maximum, just past the last percentile
		}
		last = x
		xs, ys = append(xs, x), append(ys, p.Ms)
	}
	xa := axis{lo: 0, hi: math.Max(math.Ceil(last), 1)}
	var xt []tick
	for k := 0.0; k <= xa.hi; k++ {
		xt = append(xt, tick{xa.x(k), strconv.FormatFloat(100*(1-math.Pow(10, -k)), 'g', 6, 64) + "%"})
	}
	ya, yt := logMsAxis(ys)
	return chart{
		ID: "spectrum", Title: "Append latency by percentile (log scale)", XLabel: "percentile", YLabel: "latency",
		XTicks: xt, YTicks: yt,
		Lines: []line{{Name: "append_percentiles", Class: "s1", Points: points(xa, ya, xs, ys), N: len(xs)}},
	}
}
