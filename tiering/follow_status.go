package tiering

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// FollowStatus is what a follower serves and how far behind it may be.
type FollowStatus struct {
	// Store names the bucket prefix.
	Store string `json:"store"`
	// Manifest is the number of the manifest served (0: none published
	// yet), published by the writer at PublishedAt; SealedSeq is the
	// newest sequence number it holds. The writer's unsealed head is
	// never visible here.
	Manifest    uint64    `json:"manifest"`
	PublishedAt time.Time `json:"published_at,omitzero"`
	SealedSeq   uint64    `json:"sealed_seq"`
	Segments    int       `json:"segments"`
	// ManifestAgeSeconds is how long ago the served manifest was
	// published: the lag behind the writer's sealed data is at most this
	// plus what the writer has not published yet.
	ManifestAgeSeconds float64 `json:"manifest_age_seconds"`
	// LastPoll is when the bucket was last asked for a newer manifest;
	// PollIntervalSeconds is Config.PollInterval.
	LastPoll            time.Time `json:"last_poll,omitzero"`
	PollIntervalSeconds float64   `json:"poll_interval_seconds"`
	// Downloads and DownloadBytes count segment downloads, Reloads the
	// manifests swapped in, NotFound the segments found gone, Errors the
	// failed polls (each retried).
	Downloads     int64 `json:"downloads"`
	DownloadBytes int64 `json:"download_bytes"`
	Reloads       int64 `json:"reloads"`
	NotFound      int64 `json:"not_found"`
	Errors        int64 `json:"errors"`
	// LastError is the last failed poll's error, "" once one succeeded.
	LastError string `json:"last_error,omitempty"`
}

// Status returns the follower's state now.
func (f *Follower) Status() FollowStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.counters
	st := FollowStatus{Store: f.store.String(), LastPoll: f.lastPoll, PollIntervalSeconds: f.cfg.PollInterval.Seconds(),
		Downloads: c.downloads, DownloadBytes: c.downloadBytes, Reloads: c.reloads, NotFound: c.notFound, Errors: c.errors, LastError: f.lastErr}
	if m := f.current; m != nil {
		st.Manifest, st.PublishedAt, st.SealedSeq, st.Segments = m.Number, m.PublishedAt, m.SealedSeq, len(m.Segments)
		st.ManifestAgeSeconds = time.Since(m.PublishedAt).Seconds() // the uploader stamps it with its own clock
	}
	return st
}

// Collector returns the follower's Prometheus metrics, read from Status
// at each scrape. The manifest age has the uploader's metric name: on a
// writer it is the age of the manifest published, on a node of the one
// served.
func (f *Follower) Collector() prometheus.Collector { return followCollector{f} }

type followCollector struct{ f *Follower }

var (
	descFollowManifest  = prometheus.NewDesc("eventlog_object_store_served_manifest", "Number of the published manifest this read-only node serves.", nil, nil)
	descFollowDownloads = prometheus.NewDesc("eventlog_object_store_downloads_total", "Segment objects downloaded.", nil, nil)
	descFollowBytes     = prometheus.NewDesc("eventlog_object_store_download_bytes_total", "Bytes of segment objects downloaded.", nil, nil)
	descFollowReloads   = prometheus.NewDesc("eventlog_object_store_reloads_total", "Published manifests swapped in.", nil, nil)
	descFollowNotFound  = prometheus.NewDesc("eventlog_object_store_not_found_total", "Segments found deleted from the bucket (the node then reads the latest manifest).", nil, nil)
	descFollowErrors    = prometheus.NewDesc("eventlog_object_store_errors_total", "Failed polls (each is retried).", nil, nil)
)

func (c followCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descFollowManifest, descFollowDownloads, descFollowBytes, descFollowReloads, descFollowNotFound, descFollowErrors, descAge} {
		ch <- d
	}
}

func (c followCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.f.Status()
	counter := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	counter(descFollowDownloads, st.Downloads)
	counter(descFollowBytes, st.DownloadBytes)
	counter(descFollowReloads, st.Reloads)
	counter(descFollowNotFound, st.NotFound)
	counter(descFollowErrors, st.Errors)
	ch <- prometheus.MustNewConstMetric(descFollowManifest, prometheus.GaugeValue, float64(st.Manifest))
	if !st.PublishedAt.IsZero() {
		ch <- prometheus.MustNewConstMetric(descAge, prometheus.GaugeValue, st.ManifestAgeSeconds)
	}
}
