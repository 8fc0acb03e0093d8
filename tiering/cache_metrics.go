package tiering

import "github.com/prometheus/client_golang/prometheus"

// Collector returns the cache's Prometheus metrics, read from Stats at
// each scrape.
func (c *Cache) Collector() prometheus.Collector { return cacheCollector{c} }

type cacheCollector struct{ c *Cache }

var cacheDescs = struct {
	hits, misses, blockHits, blockMisses, gets, fetched, downloads, evictions, reloads *prometheus.Desc
	wholeSegs, wholeBytes, pinnedSegs, pinnedBytes, blockBytes                         *prometheus.Desc
}{
	hits:        prometheus.NewDesc("eventlog_object_store_cache_hits_total", "Segment opens served by a whole local file.", nil, nil),
	misses:      prometheus.NewDesc("eventlog_object_store_cache_misses_total", "Segment opens of an evicted segment (served by ranged reads or a download).", nil, nil),
	blockHits:   prometheus.NewDesc("eventlog_object_store_cache_block_hits_total", "Column ranges of evicted segments served from the in-memory block cache.", nil, nil),
	blockMisses: prometheus.NewDesc("eventlog_object_store_cache_block_misses_total", "Column ranges of evicted segments fetched by a ranged GET.", nil, nil),
	gets:        prometheus.NewDesc("eventlog_object_store_cache_gets_total", "GET requests the cache made (ranged reads, pinned parts, whole downloads).", nil, nil),
	fetched:     prometheus.NewDesc("eventlog_object_store_cache_fetched_bytes_total", "Bytes the cache's GETs brought.", nil, nil),
	downloads:   prometheus.NewDesc("eventlog_object_store_cache_downloads_total", "Hot segments downloaded whole.", nil, nil),
	evictions:   prometheus.NewDesc("eventlog_object_store_cache_evictions_total", "Whole segments removed from local disk to stay within --cache-max-bytes.", nil, nil),
	reloads:     prometheus.NewDesc("eventlog_object_store_cache_reloads_total", "Reads run again on a newer manifest after a segment was gone (404).", nil, nil),
	wholeSegs:   prometheus.NewDesc("eventlog_object_store_cache_whole_segments", "Segments held whole on local disk.", nil, nil),
	wholeBytes:  prometheus.NewDesc("eventlog_object_store_cache_whole_bytes", "Bytes of the segments held whole on local disk.", nil, nil),
	pinnedSegs:  prometheus.NewDesc("eventlog_object_store_cache_pinned_segments", "Segments whose pinned part (footer, block index, postings, sequence index) is on local disk.", nil, nil),
	pinnedBytes: prometheus.NewDesc("eventlog_object_store_cache_pinned_bytes", "Bytes of the pinned parts on local disk.", nil, nil),
	blockBytes:  prometheus.NewDesc("eventlog_object_store_cache_block_cache_bytes", "Bytes held by the in-memory block cache (charged to the memory budget).", nil, nil),
}

func (cc cacheCollector) all() []*prometheus.Desc {
	d := &cacheDescs
	return []*prometheus.Desc{d.hits, d.misses, d.blockHits, d.blockMisses, d.gets, d.fetched, d.downloads, d.evictions, d.reloads,
		d.wholeSegs, d.wholeBytes, d.pinnedSegs, d.pinnedBytes, d.blockBytes}
}

func (cc cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range cc.all() {
		ch <- d
	}
}

func (cc cacheCollector) Collect(ch chan<- prometheus.Metric) {
	st := cc.c.Stats()
	counters := []int64{st.Hits, st.Misses, st.BlockHits, st.BlockMisses, st.GETs, st.FetchedBytes, st.Downloads, st.Evictions, st.Reloads}
	gauges := []int64{int64(st.WholeSegments), st.WholeBytes, int64(st.PinnedSegments), st.PinnedBytes, st.BlockCacheBytes}
	for i, d := range cc.all() {
		if i < len(counters) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(counters[i]))
		} else {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(gauges[i-len(counters)]))
		}
	}
}
