package server

import (
	"github.com/prometheus/client_golang/prometheus"
)

// memoryCollector reads db.Stats().Memory (the memory budget and the
// memory beside it, eventlog.MemoryStats) at each scrape. The Go
// collector's go_memstats_* series say the same of the runtime in more
// detail; these put the budget, its consumers and the mapped segment files
// side by side.
type memoryCollector struct{ m *Metrics }

var (
	descMemoryLimit = prometheus.NewDesc("eventlog_memory_limit_bytes",
		"The store's memory limit (--memory-limit); 0: none.", nil, nil)
	descMemoryCharged = prometheus.NewDesc("eventlog_memory_charged_bytes",
		"Memory charged to the store's budget, by consumer: heads (in-memory heads, active and waiting to be sealed), seal (the seal in progress), segments (what open segments hold beside their mapped files: client-id filters and page directories, ref key tables), postings_dicts (the postings dictionaries queries loaded, kept least recently used first out), bodies (request bodies in flight), ingest (ingest requests' decoded events and WAL records), queries (the working sets of the queries running), compaction (the merge in progress), segment_keys (the decoded keys open segments cache), doc_cache (the documents sparse reads decoded, kept for the next reads of the same rows).", []string{"consumer"}, nil)
	descMemoryWaiting = prometheus.NewDesc("eventlog_memory_waiting",
		"Queries and merges waiting for room in the memory budget now.", nil, nil)
	descMemoryGoHeap = prometheus.NewDesc("eventlog_memory_go_heap_bytes",
		"Bytes of Go heap objects, live and not yet swept.", nil, nil)
	descMemoryGoTotal = prometheus.NewDesc("eventlog_memory_go_total_bytes",
		"All memory the Go runtime holds from the system, less what it has returned.", nil, nil)
	descMemoryMapped = prometheus.NewDesc("eventlog_memory_mapped_segment_bytes",
		"Size of the segment files mapped into memory: page cache the kernel reclaims under pressure, reported and not charged to the budget.", nil, nil)
)

func (c memoryCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descMemoryLimit, descMemoryCharged, descMemoryGoHeap, descMemoryGoTotal, descMemoryMapped, descMemoryWaiting} {
		ch <- d
	}
}

func (c memoryCollector) Collect(ch chan<- prometheus.Metric) {
	db := c.m.db.Load()
	if db == nil {
		return
	}
	st := db.Stats().Memory
	gauge := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	gauge(descMemoryLimit, st.Limit)
	for consumer, n := range st.Consumers {
		gauge(descMemoryCharged, n, consumer)
	}
	gauge(descMemoryGoHeap, st.GoHeap)
	gauge(descMemoryGoTotal, st.GoTotal)
	gauge(descMemoryMapped, st.MappedSegments)
	gauge(descMemoryWaiting, int64(st.Waiting))
}
