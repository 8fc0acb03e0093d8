package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"
)

// ReportVersion is the version of the Report JSON format. ReadReport
// refuses newer versions.
const ReportVersion = 1

// Report is the outcome of a run; its JSON form (WriteJSON) is what
// `eventlog bench --json` prints and `eventlog bench compare` reads.
// Latencies are in milliseconds, rates per second, sizes in bytes, and MB
// are 10^6 bytes.
type Report struct {
	Version int       `json:"version"`
	Started time.Time `json:"started"`
	Machine Machine   `json:"machine"`
	Config  RunInfo   `json:"config"`

	// Events were appended in Seconds (from the first append to the last
	// acknowledgement); JSONBytes is their canonical JSON size.
	Events    int64   `json:"events"`
	JSONBytes int64   `json:"json_bytes"`
	Seconds   float64 `json:"seconds"`

	Throughput Throughput `json:"throughput"`
	// Append is the latency of one append (one batch): from its call to
	// its acknowledgement, or, with a Rate, from the time it was due.
	Append Latency `json:"append_latency"`
	// AppendSpectrum is Append at many percentiles, for the chart.
	AppendSpectrum []Percentile `json:"append_spectrum"`
	// Throttled counts the appends the server answered 429 (retried after
	// its Retry-After).
	Throttled int64 `json:"throttled,omitempty"`

	// Disk is nil over --url: a server seals on its own schedule.
	Disk *Disk `json:"disk,omitempty"`
	// Process is this process; over --url, Server is the server's, from
	// its /metrics (nil when they cannot be read).
	Process Process  `json:"process"`
	Server  *Process `json:"server,omitempty"`
	WAL     WALStats `json:"wal"`

	Queries []QueryLatency `json:"queries,omitempty"`
	// Series has one entry per second of the run (the last may be
	// shorter).
	Series []Second `json:"series"`
}

// RunInfo echoes what was run.
type RunInfo struct {
	Target       string  `json:"target"` // "embedded" or "http"
	URL          string  `json:"url,omitempty"`
	Dir          string  `json:"dir,omitempty"`
	Workload     string  `json:"workload"` // "generator" or the input file
	Seed         int64   `json:"seed"`
	PoolEvents   int     `json:"pool_events"` // an input file's events, cycled; 0 for the generator
	AvgJSONBytes float64 `json:"avg_json_bytes"`
	Events       int64   `json:"events,omitempty"`
	Duration     string  `json:"duration,omitempty"`
	Batch        int     `json:"batch"`
	Concurrency  int     `json:"concurrency"`
	// Prepared: the request bodies were made before the clock started
	// (Config.Prepare).
	Prepared        bool    `json:"prepared,omitempty"`
	Sync            string  `json:"sync,omitempty"`
	Rate            float64 `json:"rate,omitempty"`
	SegmentMaxBytes int64   `json:"segment_max_bytes,omitempty"`
	QueryRate       float64 `json:"query_rate,omitempty"`
}

// Throughput is the append rate over the run and its spread over the
// run's whole seconds.
type Throughput struct {
	EventsPerSec float64 `json:"events_per_sec"`
	MBPerSec     float64 `json:"mb_per_sec"` // of the events' JSON
	PerSecond    Spread  `json:"per_second"` // events/s
}

// Spread is the minimum, median and maximum of a series.
type Spread struct {
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
}

// Latency summarises a Histogram, in milliseconds.
type Latency struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean_ms"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	P999  float64 `json:"p99_9_ms"`
	Max   float64 `json:"max_ms"`
}

// Percentile is one point of a latency spectrum.
type Percentile struct {
	Percent float64 `json:"percent"`
	Ms      float64 `json:"ms"`
}

// Disk is what the run left on disk, measured after the final seal
// (DB.Roll) and Close: the growth of the data directory, per event and
// against the events' JSON.
type Disk struct {
	Bytes                int64   `json:"bytes"`
	SegmentBytes         int64   `json:"segment_bytes"`
	WALBytes             int64   `json:"wal_bytes"`
	Segments             int     `json:"segments"`
	BytesPerEvent        float64 `json:"bytes_per_event"`
	SegmentBytesPerEvent float64 `json:"segment_bytes_per_event"`
	// CompressionRatio is JSONBytes / Bytes.
	CompressionRatio float64 `json:"compression_ratio"`
	// SealSeconds is how long the final seal took (not in Seconds).
	SealSeconds float64 `json:"seal_seconds"`
	// Layout is where the segments' bytes go, from the segments' own
	// block indexes (nil in reports older than it).
	Layout *Layout `json:"layout,omitempty"`
}

// Process is the resource use of a process during the run: CPU time
// (user+sys) from the first append to the last, and the peak resident set
// size. For a server, PeakRSS is the largest of once-a-second samples.
type Process struct {
	PeakRSSBytes     int64   `json:"peak_rss_bytes"`
	CPUUserSeconds   float64 `json:"cpu_user_seconds"`
	CPUSystemSeconds float64 `json:"cpu_sys_seconds"`
	CPUSeconds       float64 `json:"cpu_seconds"`
	// CPUMicrosPerEvent is CPUSeconds per event appended, in µs.
	CPUMicrosPerEvent float64 `json:"cpu_us_per_event"`
}

// WALStats are the store's WAL fsyncs during the run (zero over HTTP when
// the server's /api/_stats cannot be read).
type WALStats struct {
	Fsyncs       uint64  `json:"fsyncs"`
	FsyncsPerSec float64 `json:"fsyncs_per_sec"`
}

// QueryLatency is the latency of one kind of query run alongside ingest.
type QueryLatency struct {
	Kind string `json:"kind"`
	// Errors counts the queries that failed, FirstError says why the first
	// did; they are not in Latency.
	Errors     int64  `json:"errors,omitempty"`
	FirstError string `json:"first_error,omitempty"`
	Latency
}

// Second is one second of the run.
type Second struct {
	// At is the end of the interval, in seconds from the start; Seconds
	// its length.
	At           float64 `json:"at"`
	Seconds      float64 `json:"seconds"`
	Events       int64   `json:"events"`
	EventsPerSec float64 `json:"events_per_sec"`
	// Append latency of the appends acknowledged in the interval.
	P50 float64 `json:"p50_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

// perSecondSpread is the spread of the events/s of the series' whole
// seconds (at least half a second long), or of the whole run when it has
// none.
func perSecondSpread(series []Second, overall float64) Spread {
	var rates []float64
	for _, s := range series {
		if s.Seconds >= 0.5 {
			rates = append(rates, s.EventsPerSec)
		}
	}
	if len(rates) == 0 {
		return Spread{overall, overall, overall}
	}
	slices.Sort(rates)
	return Spread{Min: rates[0], Median: median(rates), Max: rates[len(rates)-1]}
}

// median of sorted values.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// WriteJSON writes r as one indented JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// ReadReport decodes a report written by WriteJSON.
func ReadReport(rd io.Reader) (*Report, error) {
	var r Report
	dec := json.NewDecoder(rd)
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("decode report: %w", err)
	}
	if r.Version < 1 || r.Version > ReportVersion {
		return nil, fmt.Errorf("report version %d: this eventlog reads versions 1 to %d", r.Version, ReportVersion)
	}
	return &r, nil
}
