package server

import (
	"sync/atomic"
	"time"

	"github.com/eventlogdb/eventlog/internal/buildinfo"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/eventlogdb/eventlog"
)

// Metrics are the server's and the store's Prometheus metrics, on a
// registry of their own (never the global one), served at /metrics. Create
// them before opening the DB so that ObserveFsync can be passed as
// eventlog.Options.ObserveFsync; New then points the store gauges at the DB.
type Metrics struct {
	reg *prometheus.Registry

	ingested     prometheus.Counter
	rejected     *prometheus.CounterVec
	ingestBytes  prometheus.Counter
	fsync        prometheus.Histogram
	queryLatency *prometheus.HistogramVec
	httpRequests *prometheus.CounterVec
	stream       streamMetrics // _tail and destinations (metrics_stream.go)
	auth         authMetrics   // refused credentials and rate limits (metrics_auth.go)

	// db is the store the gauges read at each scrape (nil: none yet).
	db atomic.Pointer[eventlog.DB]
	// server is the server whose readiness eventlog_ready reports (nil:
	// none yet).
	server atomic.Pointer[Server]
}

// NewMetrics returns the metrics on a new registry, with the Go runtime and
// process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		ingested: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "eventlog_events_ingested_total",
			Help: "Events stored through the HTTP API.",
		}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eventlog_events_rejected_total",
			Help: "Events the HTTP API rejected, by reason.",
		}, []string{"reason"}),
		ingestBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "eventlog_ingest_request_bytes_total",
			Help: "Bytes of ingest request bodies read.",
		}),
		fsync: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "eventlog_wal_fsync_duration_seconds",
			Help:    "Duration of WAL fsyncs.",
			Buckets: prometheus.ExponentialBuckets(50e-6, 2, 16), // 50 µs .. 1.6 s
		}),
		queryLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "eventlog_query_duration_seconds",
			Help:    "Duration of queries, by endpoint (find, search, aggregate, export).",
			Buckets: prometheus.ExponentialBuckets(250e-6, 2, 16), // 250 µs .. 8 s
		}, []string{"endpoint"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "eventlog_http_requests_total",
			Help: "HTTP requests answered, by route pattern and status code.",
		}, []string{"route", "code"}),
	}
	for _, r := range rejectReasons {
		m.rejected.WithLabelValues(r)
	}
	for _, e := range []string{endpointFind, endpointSearch, endpointAggregate, endpointExport} {
		m.queryLatency.WithLabelValues(e)
	}
	m.reg.MustRegister(m.ingested, m.rejected, m.ingestBytes, m.fsync, m.queryLatency, m.httpRequests,
		buildInfo(), dbCollector{m}, maintenanceCollector{m}, memoryCollector{m}, collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.stream.register(m.reg)
	m.auth.register(m.reg)
	return m
}

// buildInfo is eventlog_build_info: 1, labelled with the binary's module
// version, commit and Go version (see package buildinfo).
func buildInfo() prometheus.Collector {
	in := buildinfo.Read()
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "eventlog_build_info",
		Help: "Always 1; its labels say which build of eventlog serves: module version, commit and Go version.",
	}, []string{"version", "revision", "goversion"})
	g.WithLabelValues(in.Version, in.Revision, in.GoVersion).Set(1)
	return g
}

// ObserveFsync records the duration of one WAL fsync. Pass it as
// eventlog.Options.ObserveFsync.
func (m *Metrics) ObserveFsync(d time.Duration) { m.fsync.Observe(d.Seconds()) }

// Query endpoints, the label of eventlog_query_duration_seconds.
const (
	endpointFind      = "find"
	endpointSearch    = "search"
	endpointAggregate = "aggregate"
	endpointExport    = "export"
)

func (m *Metrics) observeQuery(endpoint string, start time.Time) {
	m.queryLatency.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
}

// dbCollector reads db.Stats() at each scrape.
type dbCollector struct{ m *Metrics }

var (
	descFsyncs = prometheus.NewDesc("eventlog_wal_fsyncs_total",
		"WAL fsyncs since the store was opened.", nil, nil)
	descWALBytes = prometheus.NewDesc("eventlog_wal_bytes",
		"Bytes in live WAL files.", nil, nil)
	descSegments = prometheus.NewDesc("eventlog_segments",
		"Live segment files.", nil, nil)
	descSegmentBytes = prometheus.NewDesc("eventlog_segment_bytes",
		"Bytes of the live segment files.", nil, nil)
	descSegmentEvents = prometheus.NewDesc("eventlog_segment_events",
		"Events in the live segment files.", nil, nil)
	descHeadEvents = prometheus.NewDesc("eventlog_head_events",
		"Events in the in-memory heads (not yet sealed into segments).", nil, nil)
	descHeadBytes = prometheus.NewDesc("eventlog_head_bytes",
		"Bytes of the events in the in-memory heads (binary form).", nil, nil)
	descQuarantined = prometheus.NewDesc("eventlog_quarantined_segments",
		"Segment files set aside as damaged (at open or while serving) and not yet repaired.", nil, nil)
	descLastSeq = prometheus.NewDesc("eventlog_last_seq",
		"Highest readable sequence number.", nil, nil)
	descDiskFull = prometheus.NewDesc("eventlog_disk_full",
		"1 while writes find the disk of the data directory full (ENOSPC), until a write succeeds; else 0.", nil, nil)
	descBodyBytes = prometheus.NewDesc("eventlog_request_body_bytes_in_flight",
		"Bytes of the request bodies being read or held now, out of the budget --max-body-bytes-in-flight.", nil, nil)
	descReady = prometheus.NewDesc("eventlog_ready",
		"1 while the server takes writes (GET /readyz answers 200); 0 while the disk is full, the store is read-only or poisoned, or the server is shutting down.", nil, nil)
)

func (c dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descFsyncs, descWALBytes, descSegments, descSegmentBytes,
		descSegmentEvents, descHeadEvents, descHeadBytes, descQuarantined, descLastSeq, descDiskFull, descReady, descBodyBytes} {
		ch <- d
	}
}

func (c dbCollector) Collect(ch chan<- prometheus.Metric) {
	db := c.m.db.Load()
	if db == nil {
		return
	}
	st := db.Stats()
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter(descFsyncs, float64(st.WAL.Fsyncs))
	gauge(descWALBytes, float64(st.WAL.Bytes))
	gauge(descSegments, float64(st.Segments))
	gauge(descSegmentBytes, float64(st.SegmentBytes))
	gauge(descSegmentEvents, float64(st.SegmentEvents))
	gauge(descHeadEvents, float64(st.HeadEvents))
	gauge(descHeadBytes, float64(st.HeadBytes))
	gauge(descQuarantined, float64(len(st.Quarantined)))
	gauge(descLastSeq, float64(st.LastSeq))
	gauge(descDiskFull, boolGauge(st.DiskFull != ""))
	gauge(descReady, boolGauge(readinessOf(st, c.m.shuttingDown()).Status == statusReady))
	if s := c.m.server.Load(); s != nil {
		gauge(descBodyBytes, float64(s.bodies.inUse()))
	}
}

// shuttingDown reports whether the server is stopping.
func (m *Metrics) shuttingDown() bool {
	s := m.server.Load()
	return s != nil && s.shuttingDown.Load()
}
