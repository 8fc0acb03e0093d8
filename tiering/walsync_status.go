package tiering

import (
	"github.com/prometheus/client_golang/prometheus"
)

// WALSyncStatus is what the WAL sync has done and has waiting.
type WALSyncStatus struct {
	// Shipped is the last sequence number in the bucket (uploaded by this
	// run); NextChunk the number the next chunk will take.
	Shipped   uint64 `json:"shipped_seq"`
	NextChunk uint64 `json:"next_chunk"`
	// PendingBytes are the records waiting for a chunk and the chunk
	// being uploaded (appends waiting for their acknowledgement, or whose
	// acknowledgement timed out).
	PendingBytes int64 `json:"pending_bytes"`
	// Chunks and Bytes count the chunks uploaded since Start, Errors the
	// failed attempts, Deletes the retired chunks deleted.
	Chunks  int64 `json:"chunks"`
	Bytes   int64 `json:"bytes"`
	Errors  int64 `json:"errors"`
	Deletes int64 `json:"deletes"`
	// InBucket is the number of chunks in the bucket not deleted yet.
	InBucket int `json:"in_bucket"`
	// LastError is the last failed upload, "" once one succeeded.
	LastError string `json:"last_error,omitempty"`
	// Fenced says why the WAL sync stopped for good.
	Fenced string `json:"fenced,omitempty"`
}

// Status returns the WAL sync's state now.
func (w *WALSync) Status() WALSyncStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := WALSyncStatus{Shipped: w.shipped, NextChunk: w.next, PendingBytes: int64(len(w.pending)) + w.inflight, Chunks: w.counters.chunks,
		Bytes: w.counters.bytes, Errors: w.counters.errors, Deletes: w.counters.deletes, InBucket: len(w.chunks)}
	if w.lastErr != nil {
		st.LastError = w.lastErr.Error()
	}
	if w.fenced != nil {
		st.Fenced = w.fenced.Error()
	}
	return st
}

// Healthy reports whether appends are being acknowledged: no failed
// upload since the last success, not fenced.
func (s WALSyncStatus) Healthy() bool { return s.LastError == "" && s.Fenced == "" }

// Collector returns the WAL sync's Prometheus metrics, read from Status
// at each scrape.
func (w *WALSync) Collector() prometheus.Collector { return walCollector{w} }

type walCollector struct{ w *WALSync }

var (
	descWALChunks  = prometheus.NewDesc("eventlog_object_store_wal_chunks_total", "WAL chunks uploaded (--sync-to-object-store).", nil, nil)
	descWALBytes   = prometheus.NewDesc("eventlog_object_store_wal_bytes_total", "Bytes of WAL chunks uploaded.", nil, nil)
	descWALErrors  = prometheus.NewDesc("eventlog_object_store_wal_errors_total", "Failed WAL chunk uploads and retirements (each is retried).", nil, nil)
	descWALDeletes = prometheus.NewDesc("eventlog_object_store_wal_deletes_total", "WAL chunks deleted once a published manifest covered them and the grace passed.", nil, nil)
	descWALPending = prometheus.NewDesc("eventlog_object_store_wal_pending_bytes", "Bytes of WAL records waiting for their chunk upload.", nil, nil)
	descWALShipped = prometheus.NewDesc("eventlog_object_store_wal_shipped_seq", "Last sequence number whose WAL chunk is in the bucket.", nil, nil)
)

func (c walCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descWALChunks, descWALBytes, descWALErrors, descWALDeletes, descWALPending, descWALShipped} {
		ch <- d
	}
}

func (c walCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.w.Status()
	counter := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter(descWALChunks, st.Chunks)
	counter(descWALBytes, st.Bytes)
	counter(descWALErrors, st.Errors)
	counter(descWALDeletes, st.Deletes)
	gauge(descWALPending, float64(st.PendingBytes))
	gauge(descWALShipped, float64(st.Shipped))
}
