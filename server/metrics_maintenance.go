package server

import (
	"cmp"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// maxPartitionSeries bounds the label values of
// eventlog_partition_segments: only the newest partitions get a series, so
// a store keeping years of days does not grow the scrape without end.
// eventlog_partitions still counts them all.
const maxPartitionSeries = 100

// maintenanceCollector reads db.Stats().Maintenance (compaction,
// retention and deletes by query, eventlog.MaintenanceStats) at each
// scrape.
type maintenanceCollector struct{ m *Metrics }

var (
	descPartitionSegments = prometheus.NewDesc("eventlog_partition_segments",
		"Live segment files per time partition (its start, RFC 3339), for the newest 100 partitions.", []string{"partition"}, nil)
	descPartitions = prometheus.NewDesc("eventlog_partitions",
		"Time partitions holding live segment files.", nil, nil)
	descCompactions = prometheus.NewDesc("eventlog_compactions_total",
		"Compaction merges since the store was opened.", nil, nil)
	descCompactedSegments = prometheus.NewDesc("eventlog_compacted_segments_total",
		"Segment files merged into others since the store was opened.", nil, nil)
	descCompactedEvents = prometheus.NewDesc("eventlog_compacted_events_total",
		"Events rewritten by compaction since the store was opened.", nil, nil)
	descCompactionSaved = prometheus.NewDesc("eventlog_compaction_saved_bytes",
		"Bytes compaction saved since the store was opened: merge inputs minus outputs.", nil, nil)
	descRetentionDrops = prometheus.NewDesc("eventlog_retention_dropped_segments_total",
		"Segment files retention dropped since the store was opened.", nil, nil)
	descRetentionBytes = prometheus.NewDesc("eventlog_retention_reclaimed_bytes_total",
		"Bytes of the segment files retention dropped since the store was opened.", nil, nil)
	descMaintenanceLastRun = prometheus.NewDesc("eventlog_maintenance_last_run_timestamp_seconds",
		"When the background maintenance (retention, then compaction) last ran, Unix seconds; 0: not yet.", nil, nil)
	descMaintenanceError = prometheus.NewDesc("eventlog_maintenance_error",
		"1 while the last background maintenance run failed (its error is maintenance.last_error in /api/_stats).", nil, nil)
	descCompactionPaused = prometheus.NewDesc("eventlog_compaction_paused",
		"1 while background compaction is paused.", nil, nil)
	descPendingMerges = prometheus.NewDesc("eventlog_pending_merges",
		"Merges the background compaction policy would run now (one under way included); 0 once the store is at rest.", nil, nil)
	descDeletes = prometheus.NewDesc("eventlog_deletes_total",
		"Deletes by query since the store was opened.", nil, nil)
	descDeletedEvents = prometheus.NewDesc("eventlog_deleted_events_total",
		"Events hidden by deletes by query since the store was opened.", nil, nil)
	descPurgeRewrites = prometheus.NewDesc("eventlog_purge_rewrites_total",
		"Segment files rewritten without the rows of deletes by query since the store was opened.", nil, nil)
	descPendingDeletes = prometheus.NewDesc("eventlog_pending_deletes",
		"Deletes by query whose rows may still be on disk (segments or WAL) until the next maintenance run purges them.", nil, nil)
	descHolds = prometheus.NewDesc("eventlog_holds",
		"Incident holds in force.", nil, nil)
	descHeldBytes = prometheus.NewDesc("eventlog_held_bytes",
		"Bytes of the segment files that hold events an incident hold pins, as of the last retention run.", nil, nil)
	descHeldOverMaxBytes = prometheus.NewDesc("eventlog_held_over_max_bytes",
		"How far incident holds keep the store above its retention max bytes (0: within it, or no bound).", nil, nil)
	descPendingPurgeSegments = prometheus.NewDesc("eventlog_pending_purge_segments",
		"Segment files the next maintenance run checks or rewrites for pending deletes by query.", nil, nil)
)

func (c maintenanceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPartitionSegments, descPartitions, descCompactions, descCompactedSegments,
		descCompactedEvents, descCompactionSaved, descRetentionDrops, descRetentionBytes, descMaintenanceLastRun,
		descMaintenanceError, descCompactionPaused, descPendingMerges, descDeletes, descDeletedEvents, descPurgeRewrites,
		descPendingDeletes, descPendingPurgeSegments, descHolds, descHeldBytes, descHeldOverMaxBytes} {
		ch <- d
	}
}

func (c maintenanceCollector) Collect(ch chan<- prometheus.Metric) {
	db := c.m.db.Load()
	if db == nil {
		return
	}
	st := db.Stats()
	m := st.Maintenance
	counter := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	parts := newestPartitions(m.SegmentsPerPartition, maxPartitionSeries)
	for _, p := range parts {
		ch <- prometheus.MustNewConstMetric(descPartitionSegments, prometheus.GaugeValue, float64(m.SegmentsPerPartition[p]), p)
	}
	gauge(descPartitions, float64(len(m.SegmentsPerPartition)))
	counter(descCompactions, m.Compactions)
	counter(descCompactedSegments, m.CompactedSegments)
	counter(descCompactedEvents, m.CompactedEvents)
	gauge(descCompactionSaved, float64(m.CompactionBytesSaved))
	counter(descRetentionDrops, m.RetentionDrops)
	counter(descRetentionBytes, m.RetentionBytesReclaimed)
	gauge(descMaintenanceLastRun, unixSeconds(m.LastRun))
	gauge(descMaintenanceError, boolGauge(m.LastError != ""))
	gauge(descCompactionPaused, boolGauge(m.CompactionPaused))
	gauge(descPendingMerges, float64(m.PendingMerges))
	counter(descDeletes, m.Deletes)
	counter(descDeletedEvents, m.DeletedEvents)
	counter(descPurgeRewrites, m.PurgeRewrites)
	gauge(descPendingDeletes, float64(m.PendingDeletes))
	gauge(descPendingPurgeSegments, float64(m.PendingPurgeSegments))
	gauge(descHolds, float64(st.Holds.Holds))
	gauge(descHeldBytes, float64(st.Holds.Bytes))
	gauge(descHeldOverMaxBytes, float64(st.Holds.OverMaxBytes))
}

// newestPartitions returns the keys of perPartition (RFC 3339 starts),
// newest first, at most n of them.
func newestPartitions(perPartition map[string]int, n int) []string {
	type part struct {
		key string
		t   time.Time
	}
	parts := make([]part, 0, len(perPartition))
	for k := range perPartition {
		t, _ := time.Parse(time.RFC3339, k) // unparseable: sorts as oldest
		parts = append(parts, part{k, t})
	}
	slices.SortFunc(parts, func(a, b part) int { return cmp.Or(b.t.Compare(a.t), cmp.Compare(b.key, a.key)) })
	keys := make([]string, 0, min(n, len(parts)))
	for _, p := range parts[:min(n, len(parts))] {
		keys = append(keys, p.key)
	}
	return keys
}

// unixSeconds is t as Unix seconds with a fraction; 0 for the zero time.
func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
