package tiering

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Status is what the uploader has done and has left to do.
type Status struct {
	// Store names the bucket prefix.
	Store string `json:"store"`
	// Published is the number of the latest manifest in the bucket (0:
	// none), published at PublishedAt.
	Published   uint64    `json:"published"`
	PublishedAt time.Time `json:"published_at,omitzero"`
	// BacklogSegments and BacklogBytes are the segments the store's latest
	// manifest names that are not in the bucket yet; Unpublished says that
	// manifest is not published yet.
	BacklogSegments int   `json:"backlog_segments"`
	BacklogBytes    int64 `json:"backlog_bytes"`
	Unpublished     bool  `json:"unpublished"`
	// Retired are the objects waiting for their delete grace to pass.
	Retired int `json:"retired"`
	// DeleteGraceSeconds is the delete grace (Config.DeleteGrace).
	DeleteGraceSeconds float64 `json:"delete_grace_seconds"`
	// Uploads, UploadBytes, Errors and Deletes count since Start.
	Uploads     int64 `json:"uploads"`
	UploadBytes int64 `json:"upload_bytes"`
	Errors      int64 `json:"errors"`
	Deletes     int64 `json:"deletes"`
	// LastError is the last failure, "" once an attempt succeeded.
	LastError string `json:"last_error,omitempty"`
	// Fenced says why the uploader stopped for good: another writer
	// published under the prefix.
	Fenced string `json:"fenced,omitempty"`
	// WAL is the WAL sync's state, with --sync-to-object-store.
	WAL *WALSyncStatus `json:"wal,omitempty"`
}

// Status returns the uploader's state now.
func (u *Uploader) Status() Status {
	u.mu.Lock()
	defer u.mu.Unlock()
	st := Status{Store: u.store.String(), Retired: len(u.retired), DeleteGraceSeconds: u.cfg.DeleteGrace.Seconds(), Uploads: u.counters.uploads,
		UploadBytes: u.counters.uploadBytes, Errors: u.counters.errors, Deletes: u.counters.deletes, LastError: u.lastErr}
	if u.fenced != nil {
		st.Fenced = u.fenced.Error()
	}
	if u.published != nil {
		st.Published, st.PublishedAt = u.published.Number, u.published.PublishedAt
	}
	if u.walSync != nil {
		ws := u.walSync.Status()
		st.WAL = &ws
	}
	if u.pending != nil {
		for _, seg := range u.pending.Segments {
			if _, ok := u.uploaded[segmentKey(seg.Name)]; !ok {
				st.BacklogSegments++
				st.BacklogBytes += seg.Bytes
			}
		}
		st.Unpublished = (len(u.pending.Segments) > 0 || u.published != nil) && u.doneGen != u.gen
	}
	return st
}

// ErasureNotice says, for the privacy notice, how long the bucket keeps
// what the store erased or expired.
func (s Status) ErasureNotice() string {
	wal := ""
	if s.WAL != nil {
		wal = "; with --sync-to-object-store, events not sealed yet are also there in WAL chunks, deleted once a published manifest holds their segment plus the same grace"
	}
	return fmt.Sprintf("sealed segments are copied to %s; events deleted or expired here leave it once the manifest that stops naming their segments is published plus the delete grace (%s), and, in a bucket with versioning, only once its lifecycle rule expires the noncurrent versions; backups keep them until replaced",
		s.Store, time.Duration(s.DeleteGraceSeconds*float64(time.Second))) + wal
}

// Healthy reports whether the bucket is up to date or catching up
// without errors.
func (s Status) Healthy() bool {
	return s.Fenced == "" && s.LastError == "" && (s.WAL == nil || s.WAL.Healthy())
}

// WaitPublished waits until the store's latest manifest is published
// (tests, and a shutdown that wants the bucket current), failing if the
// uploader was fenced or ctx ends first (with the last failure).
func (u *Uploader) WaitPublished(ctx context.Context) error {
	for {
		st := u.Status()
		switch {
		case st.Fenced != "":
			return fmt.Errorf("tiering: %s", st.Fenced)
		case !st.Unpublished && st.BacklogSegments == 0:
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("tiering: not published (backlog %d segments; last error: %s): %w", st.BacklogSegments, st.LastError, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// Collector returns the uploader's Prometheus metrics, read from Status
// at each scrape.
func (u *Uploader) Collector() prometheus.Collector { return collector{u} }

type collector struct{ u *Uploader }

var (
	descUploads     = prometheus.NewDesc("eventlog_object_store_uploads_total", "Segment objects uploaded.", nil, nil)
	descUploadBytes = prometheus.NewDesc("eventlog_object_store_upload_bytes_total", "Bytes of segment objects uploaded.", nil, nil)
	descErrors      = prometheus.NewDesc("eventlog_object_store_errors_total", "Failed upload, publish or delete attempts (each is retried).", nil, nil)
	descDeletes     = prometheus.NewDesc("eventlog_object_store_deletes_total", "Retired objects deleted after their grace.", nil, nil)
	descBacklog     = prometheus.NewDesc("eventlog_object_store_backlog_segments", "Live segments not in the bucket yet.", nil, nil)
	descBacklogB    = prometheus.NewDesc("eventlog_object_store_backlog_bytes", "Bytes of live segments not in the bucket yet.", nil, nil)
	descPublished   = prometheus.NewDesc("eventlog_object_store_published_manifest", "Number of the latest manifest published in the bucket.", nil, nil)
	descAge         = prometheus.NewDesc("eventlog_object_store_manifest_age_seconds", "Seconds since the latest manifest was published.", nil, nil)
	descFenced      = prometheus.NewDesc("eventlog_object_store_fenced", "1 once another writer took the prefix and this one stopped.", nil, nil)
)

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUploads, descUploadBytes, descErrors, descDeletes, descBacklog, descBacklogB, descPublished, descAge, descFenced} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	st := c.u.Status()
	counter := func(d *prometheus.Desc, v int64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter(descUploads, st.Uploads)
	counter(descUploadBytes, st.UploadBytes)
	counter(descErrors, st.Errors)
	counter(descDeletes, st.Deletes)
	gauge(descBacklog, float64(st.BacklogSegments))
	gauge(descBacklogB, float64(st.BacklogBytes))
	gauge(descPublished, float64(st.Published))
	if !st.PublishedAt.IsZero() {
		gauge(descAge, time.Since(st.PublishedAt).Seconds())
	}
	fenced := 0.0
	if st.Fenced != "" {
		fenced = 1
	}
	gauge(descFenced, fenced)
}
