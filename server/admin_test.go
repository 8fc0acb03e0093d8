package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
)

// maintEnv is a DB with a controllable clock, served; background
// maintenance is off unless the options turn it on.
type maintEnv struct {
	*env
	now atomic.Int64 // Unix ns
}

// day0 is the clock's start: noon of the newest day of the fixtures.
var day0 = time.Date(2024, 5, 20, 12, 0, 0, 0, time.UTC)

func newMaintEnv(t *testing.T, opts eventlog.Options) *maintEnv {
	t.Helper()
	return newMaintEnvConfig(t, opts, Config{})
}

// newMaintEnvConfig is newMaintEnv with a server configuration.
func newMaintEnvConfig(t *testing.T, opts eventlog.Options, cfg Config) *maintEnv {
	t.Helper()
	e := &maintEnv{env: &env{t: t, dir: t.TempDir(), cfg: cfg}}
	e.now.Store(day0.UnixNano())
	opts.AllowUnregistered = true
	if opts.MaintenanceInterval == 0 {
		opts.MaintenanceInterval = -1
	}
	opts.Now = func() time.Time { return time.Unix(0, e.now.Load()).UTC() }
	m := NewMetrics()
	opts.ObserveFsync = m.ObserveFsync
	db, err := eventlog.Open(e.dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	e.db = db
	e.srv = New(db, cfg, m, testLogger(t))
	e.ts = httptest.NewServer(e.srv.Handler())
	t.Cleanup(e.close)
	return e
}

// appendAt appends n events stamped d days before day0, a second apart.
func (e *maintEnv) appendAt(d, n int) {
	e.t.Helper()
	batch := make([]eventlog.Event, n)
	for i := range batch {
		ts, err := event.ParseDate(day0.AddDate(0, 0, -d).Add(time.Duration(i) * time.Second).Format(time.RFC3339))
		if err != nil {
			e.t.Fatal(err)
		}
		batch[i].Timestamp = ts
		batch[i].Event.Provider, batch[i].Event.Action = "app", "act"
		batch[i].Message = fmt.Sprintf("day -%d event %d", d, i)
	}
	if _, err := e.db.Append(context.Background(), batch...); err != nil {
		e.t.Fatal(err)
	}
}

// segmentsOfDays makes one segment per day for days d..0 before day0, n
// events each.
func (e *maintEnv) segmentsOfDays(days, n int) {
	e.t.Helper()
	for d := days - 1; d >= 0; d-- {
		e.appendAt(d, n)
		e.roll()
	}
}

// segmentsOfOneDay makes k segments in day0's partition, n events each.
func (e *maintEnv) segmentsOfOneDay(k, n int) {
	e.t.Helper()
	for range k {
		e.appendAt(0, n)
		e.roll()
	}
}

func (e *maintEnv) roll() {
	e.t.Helper()
	if err := e.db.Roll(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// post posts to a route with no body and wants a 200 JSON answer.
func (e *maintEnv) post(path string, out any) {
	e.t.Helper()
	r := e.do("POST", path, "", "")
	if r.status != http.StatusOK {
		e.t.Fatalf("POST %s: %d %s", path, r.status, r.body)
	}
	r.decode(e.t, out)
}

// maintStats is the part of /api/_stats these tests read.
type maintStats struct {
	SegmentCount int    `json:"segment_count"`
	HeadEvents   int    `json:"head_events"`
	LastSeq      uint64 `json:"last_seq"`
	Maintenance  struct {
		SegmentsPerPartition    map[string]int `json:"segments_per_partition"`
		Compactions             int64          `json:"compactions"`
		CompactedSegments       int64          `json:"compacted_segments"`
		CompactedEvents         int64          `json:"compacted_events"`
		CompactionBytesSaved    int64          `json:"compaction_bytes_saved"`
		RetentionDrops          int64          `json:"retention_drops"`
		RetentionBytesReclaimed int64          `json:"retention_bytes_reclaimed"`
		LastRun                 time.Time      `json:"last_run"`
		LastError               string         `json:"last_error"`
		CompactionPaused        bool           `json:"compaction_paused"`
		Deletes                 int64          `json:"deletes"`
		DeletedEvents           int64          `json:"deleted_events"`
		PendingDeletes          int            `json:"pending_deletes"`
		PendingPurgeSegments    int            `json:"pending_purge_segments"`
		PurgeRewrites           int64          `json:"purge_rewrites"`
	} `json:"maintenance"`
}

func (e *maintEnv) stats() maintStats {
	e.t.Helper()
	var st maintStats
	r := e.do("GET", "/api/_stats", "", "")
	if r.status != http.StatusOK {
		e.t.Fatalf("_stats: %d %s", r.status, r.body)
	}
	r.decode(e.t, &st)
	return st
}

// metrics returns the /metrics text.
func (e *maintEnv) metrics() string {
	e.t.Helper()
	r := e.do("GET", "/metrics", "", "")
	if r.status != http.StatusOK {
		e.t.Fatalf("metrics: %d", r.status)
	}
	return string(r.body)
}

// metricValue returns the value of one series of a metrics text.
func metricValue(t *testing.T, text, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no series %s in the metrics", series)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func wantMetrics(t *testing.T, text string, want map[string]float64) {
	t.Helper()
	for series, w := range want {
		if got := metricValue(t, text, series); got != w {
			t.Errorf("%s = %v, want %v", series, got, w)
		}
	}
}

// hits runs a _search and returns its total and the events' labels.
func (e *maintEnv) search(filter string) (int, []map[string]string) {
	e.t.Helper()
	var page struct {
		Total int
		Data  []struct {
			Labels map[string]string `json:"labels"`
		}
	}
	r := e.do("POST", "/api/events/_search", ctJSON, fmt.Sprintf(`{"filter":%q,"per_page":100}`, filter))
	if r.status != http.StatusOK {
		e.t.Fatalf("search %s: %d %s", filter, r.status, r.body)
	}
	r.decode(e.t, &page)
	var labels []map[string]string
	for _, d := range page.Data {
		labels = append(labels, d.Labels)
	}
	return page.Total, labels
}

func TestAdminRoll(t *testing.T) {
	e := newMaintEnv(t, eventlog.Options{})
	e.appendAt(1, 2)
	e.appendAt(0, 3)
	var ans rollAnswer
	e.post("/api/_roll", &ans)
	if ans.HeadEvents != 5 || ans.SegmentsBefore != 0 || ans.SegmentsAfter != 2 || len(ans.New) != 2 ||
		ans.New[0].Events+ans.New[1].Events != 5 {
		t.Fatalf("roll: %+v", ans)
	}
	if st := e.stats(); st.HeadEvents != 0 || st.SegmentCount != 2 || len(st.Maintenance.SegmentsPerPartition) != 2 ||
		st.Maintenance.SegmentsPerPartition["2024-05-20T00:00:00Z"] != 1 || st.Maintenance.SegmentsPerPartition["2024-05-19T00:00:00Z"] != 1 {
		t.Fatalf("after the roll: %+v", st)
	}
	r := e.do("POST", "/api/_roll", "", "") // nothing to seal
	if r.status != http.StatusOK || string(r.body) != `{"head_events":0,"segments_before":2,"segments_after":2,"new_segments":[]}` {
		t.Fatalf("empty roll: %d %s", r.status, r.body)
	}
}

// TestAdminCompact: six small segments of one day merge into one; Stats,
// /api/_stats and /metrics say so; a second run has nothing to do.
func TestAdminCompact(t *testing.T) {
	e := newMaintEnv(t, eventlog.Options{})
	e.segmentsOfOneDay(6, 10)
	before := e.db.Stats()
	var res eventlog.CompactResult
	e.post("/api/_compact", &res)
	if res.Merges != 1 || res.Inputs != 6 || res.Outputs != 1 || res.Events != 60 || res.BytesBefore != before.SegmentBytes || res.BytesAfter <= 0 {
		t.Fatalf("compact: %+v (segments were %d bytes)", res, before.SegmentBytes)
	}
	if e.count() != 60 {
		t.Fatalf("%d events after compaction, want 60", e.count())
	}
	st := e.stats()
	m := st.Maintenance
	if st.SegmentCount != 1 || m.Compactions != 1 || m.CompactedSegments != 6 || m.CompactedEvents != 60 ||
		m.CompactionBytesSaved != res.BytesBefore-res.BytesAfter || m.SegmentsPerPartition["2024-05-20T00:00:00Z"] != 1 {
		t.Fatalf("stats after compaction: %+v", st)
	}
	wantMetrics(t, e.metrics(), map[string]float64{
		`eventlog_segments`: 1,
		`eventlog_partition_segments{partition="2024-05-20T00:00:00Z"}`: 1,
		`eventlog_partitions`:                                                 1,
		`eventlog_compactions_total`:                                          1,
		`eventlog_compacted_segments_total`:                                   6,
		`eventlog_compacted_events_total`:                                     60,
		`eventlog_compaction_saved_bytes`:                                     float64(res.BytesBefore - res.BytesAfter),
		`eventlog_retention_dropped_segments_total`:                           0,
		`eventlog_maintenance_last_run_timestamp_seconds`:                     0, // no background run: it is off
		`eventlog_maintenance_error`:                                          0,
		`eventlog_compaction_paused`:                                          0,
		`eventlog_http_requests_total{code="200",route="POST /api/_compact"}`: 1,
	})
	r := e.do("POST", "/api/_compact", "", "")
	if r.status != http.StatusOK || string(r.body) != `{"merges":0,"inputs":0,"outputs":0,"events":0,"bytes_before":0,"bytes_after":0,"purged":0}` {
		t.Fatalf("second compact: %d %s", r.status, r.body)
	}
}

// TestAdminRetention: a dry run lists the expired segments and changes
// nothing; the real run drops them, records each drop as an event, and
// the counters follow.
func TestAdminRetention(t *testing.T) {
	e := newMaintEnv(t, eventlog.Options{RetentionMaxAge: 72 * time.Hour})
	e.segmentsOfDays(10, 10)
	all := e.db.Segments()
	// now - 72h is 2024-05-17T12:00Z: days -4..-9 are wholly expired, day
	// -3 (12:00:00..09) is kept.
	wantDropped := []string{}
	var wantBytes int64
	for _, s := range all[:6] {
		wantDropped = append(wantDropped, s.Name)
		wantBytes += s.Bytes
	}
	names := func(ds []eventlog.DroppedSegment) []string {
		out := []string{}
		for _, d := range ds {
			if d.Reason != "max_age" || d.Events != 10 {
				t.Errorf("drop %+v", d)
			}
			out = append(out, d.Name)
		}
		slices.Sort(out)
		return out
	}
	if n, _ := e.search("event.provider:app"); n != 40 {
		t.Fatalf("%d events visible, want 40 (the expired ones are hidden at once)", n)
	}

	var dry retentionAnswer
	e.post("/api/_retention?dry_run=true", &dry)
	if !dry.DryRun || !slices.Equal(names(dry.Dropped), wantDropped) || dry.BytesReclaimed != wantBytes {
		t.Fatalf("dry run: %+v, want %v (%d bytes)", dry, wantDropped, wantBytes)
	}
	if st := e.stats(); st.SegmentCount != 10 || st.Maintenance.RetentionDrops != 0 || st.HeadEvents != 0 {
		t.Fatalf("the dry run changed something: %+v", st)
	}
	if n, _ := e.search("event.provider:eventlog"); n != 0 {
		t.Fatalf("the dry run recorded %d drops", n)
	}

	var res retentionAnswer
	e.post("/api/_retention", &res)
	if res.DryRun || !slices.Equal(names(res.Dropped), wantDropped) || res.BytesReclaimed != wantBytes {
		t.Fatalf("retention: %+v", res)
	}
	st := e.stats()
	if st.SegmentCount != 4 || st.Maintenance.RetentionDrops != 6 || st.Maintenance.RetentionBytesReclaimed != wantBytes {
		t.Fatalf("after retention: %+v", st)
	}
	n, labels := e.search("event.provider:eventlog and event.action:retention-drop")
	var recorded []string
	for _, l := range labels {
		recorded = append(recorded, l["segment"])
		if l["events"] != "10" || l["min_timestamp"] == "" || l["max_seq"] == "" {
			t.Errorf("drop record labels %v", l)
		}
	}
	slices.Sort(recorded)
	if n != 6 || !slices.Equal(recorded, wantDropped) {
		t.Fatalf("drop records: %d for %v, want %v", n, recorded, wantDropped)
	}
	wantMetrics(t, e.metrics(), map[string]float64{
		`eventlog_segments`:                                             4,
		`eventlog_partitions`:                                           4,
		`eventlog_retention_dropped_segments_total`:                     6,
		`eventlog_retention_reclaimed_bytes_total`:                      float64(wantBytes),
		`eventlog_partition_segments{partition="2024-05-17T00:00:00Z"}`: 1,
	})
	if strings.Contains(e.metrics(), `partition="2024-05-16T00:00:00Z"`) {
		t.Error("a dropped partition still has a series")
	}
	var again retentionAnswer
	e.post("/api/_retention", &again)
	if len(again.Dropped) != 0 || again.Dropped == nil {
		t.Fatalf("second run: %+v", again)
	}
}

// TestAdminRetentionMaxBytes: the oldest segments go until the store fits.
func TestAdminRetentionMaxBytes(t *testing.T) {
	e := newMaintEnv(t, eventlog.Options{})
	e.segmentsOfDays(5, 10)
	segs := e.db.Segments()
	e.close()
	bound := segs[3].Bytes + segs[4].Bytes + 100 // the two newest (the WAL is empty)
	e2 := newMaintEnvAt(t, e.dir, eventlog.Options{RetentionMaxBytes: bound})
	var dry retentionAnswer
	e2.post("/api/_retention?dry_run", &dry)
	if len(dry.Dropped) != 3 || dry.Dropped[0].Name != segs[0].Name || dry.Dropped[0].Reason != "max_bytes" {
		t.Fatalf("dry run: %+v; bound %d, stats %+v", dry, bound, e2.db.Stats())
	}
	var res retentionAnswer
	e2.post("/api/_retention", &res)
	if len(res.Dropped) != 3 || e2.db.Stats().Segments != 2 {
		t.Fatalf("retention: %+v, %d segments left", res, e2.db.Stats().Segments)
	}
}

// newMaintEnvAt is newMaintEnv over an existing directory.
func newMaintEnvAt(t *testing.T, dir string, opts eventlog.Options) *maintEnv {
	t.Helper()
	e := &maintEnv{env: &env{t: t, dir: dir}}
	e.now.Store(day0.UnixNano())
	opts.AllowUnregistered, opts.MaintenanceInterval = true, -1
	opts.Now = func() time.Time { return time.Unix(0, e.now.Load()).UTC() }
	db, err := eventlog.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	e.db = db
	e.srv = New(db, Config{}, nil, testLogger(t))
	e.ts = httptest.NewServer(e.srv.Handler())
	t.Cleanup(e.close)
	return e
}

// TestAdminPauseResume: paused, the background compactor leaves small
// segments alone, and Stats and /metrics say it is paused; resumed, it
// merges them and records its run.
func TestAdminPauseResume(t *testing.T) {
	e := newMaintEnv(t, eventlog.Options{MaintenanceInterval: 10 * time.Millisecond})
	var ans pauseAnswer
	e.post("/api/_compaction/_pause", &ans)
	if !ans.CompactionPaused || !e.stats().Maintenance.CompactionPaused {
		t.Fatalf("pause: %+v / %+v", ans, e.stats())
	}
	wantMetrics(t, e.metrics(), map[string]float64{`eventlog_compaction_paused`: 1})
	e.segmentsOfOneDay(6, 5)
	waitFor(t, "a background run", func() bool { return !e.stats().Maintenance.LastRun.IsZero() })
	time.Sleep(100 * time.Millisecond) // several more runs
	if st := e.stats(); st.SegmentCount != 6 || st.Maintenance.Compactions != 0 {
		t.Fatalf("paused, yet: %+v", st)
	}
	// Six overlapping segments of one day are one merge waiting.
	wantMetrics(t, e.metrics(), map[string]float64{`eventlog_pending_merges`: 1})
	e.post("/api/_compaction/_resume", &ans)
	if ans.CompactionPaused {
		t.Fatalf("resume: %+v", ans)
	}
	// The counters move just after the swap of the segments: wait for both.
	waitFor(t, "the background compaction", func() bool {
		st := e.stats()
		return st.SegmentCount == 1 && st.Maintenance.CompactedSegments == 6
	})
	st := e.stats()
	text := e.metrics()
	wantMetrics(t, text, map[string]float64{
		`eventlog_compaction_paused`:        0,
		`eventlog_pending_merges`:           0,
		`eventlog_compactions_total`:        float64(st.Maintenance.Compactions),
		`eventlog_compacted_segments_total`: 6,
		`eventlog_maintenance_error`:        0,
	})
	if last := metricValue(t, text, "eventlog_maintenance_last_run_timestamp_seconds"); last != float64(day0.UnixNano())/1e9 {
		t.Errorf("last run %v, want the clock's %v", last, float64(day0.Unix()))
	}
}

// TestAdminMaintenanceError: a background run that fails is in
// /api/_stats (its text) and /metrics (1) until one succeeds.
func TestAdminMaintenanceError(t *testing.T) {
	e := newMaintEnv(t, eventlog.Options{MaintenanceInterval: 10 * time.Millisecond})
	e.post("/api/_compaction/_pause", new(pauseAnswer))
	e.segmentsOfOneDay(6, 5)
	// A merge writes its output into segments/: make that a file.
	segDir := filepath.Join(e.dir, "segments")
	if err := os.Rename(segDir, segDir+".away"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(segDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	e.post("/api/_compaction/_resume", new(pauseAnswer))
	waitFor(t, "a failed run", func() bool { return e.stats().Maintenance.LastError != "" })
	if st := e.stats(); !strings.Contains(st.Maintenance.LastError, "compact") || st.SegmentCount != 6 {
		t.Fatalf("after the failure: %+v", st)
	}
	wantMetrics(t, e.metrics(), map[string]float64{`eventlog_maintenance_error`: 1})
	if err := os.Remove(segDir); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(segDir+".away", segDir); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a good run", func() bool { st := e.stats(); return st.Maintenance.LastError == "" && st.SegmentCount == 1 })
	wantMetrics(t, e.metrics(), map[string]float64{`eventlog_maintenance_error`: 0})
}

func TestAdminErrors(t *testing.T) {
	e := newMaintEnv(t, eventlog.Options{CompactionBytesPerSecond: 1})
	e.segmentsOfOneDay(6, 5)
	for path, typ := range map[string]string{
		"/api/_compact?nope=1":                typeInvalidRequest,
		"/api/_compact?timeout=soon":          typeInvalidRequest,
		"/api/_compact?timeout=-1s":           typeInvalidRequest,
		"/api/_roll?dry_run=true":             typeInvalidRequest,
		"/api/_retention?dry_run=perhaps":     typeInvalidRequest,
		"/api/_retention?dry_run=1&dry_run=0": typeInvalidRequest,
		"/api/_compaction/_pause?timeout=1s":  typeInvalidRequest,
	} {
		r := e.do("POST", path, "", "")
		r.wantError(t, http.StatusBadRequest, typ)
	}
	e.do("GET", "/api/_compact", "", "").wantError(t, http.StatusMethodNotAllowed, typeMethodNotAllowed)
	// Paced at a byte a second, the merge outlasts the timeout: 503,
	// saying nothing was done, and the store is as it was.
	r := e.do("POST", "/api/_compact?timeout=50ms", "", "")
	er := r.wantError(t, http.StatusServiceUnavailable, typeUnavailable)
	if !strings.Contains(er.Error.Reason, "compaction timed out; 0 merges") {
		t.Fatalf("reason %q", er.Error.Reason)
	}
	if st := e.stats(); st.SegmentCount != 6 || st.Maintenance.Compactions != 0 {
		t.Fatalf("after the timeout: %+v", st)
	}
	files, _ := os.ReadDir(filepath.Join(e.dir, "segments"))
	if len(files) != 6 {
		t.Fatalf("segments/ holds %d files after the aborted merge, want 6", len(files))
	}
}

// TestAdminReadOnly: over a read-only DB the routes that write answer 403.
func TestAdminReadOnly(t *testing.T) {
	dir := t.TempDir()
	db, err := eventlog.Open(dir, eventlog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ts := newTestServer(t, New(db, Config{}, nil, testLogger(t)))
	for _, path := range []string{"/api/_roll", "/api/_compact", "/api/_retention"} {
		doReq(t, "POST", ts.URL+path, "", nil, true).wantError(t, http.StatusForbidden, typeReadOnly)
	}
	r := doReq(t, "POST", ts.URL+"/api/_retention?dry_run=true", "", nil, true)
	if r.status != http.StatusOK || string(r.body) != `{"dry_run":true,"dropped":[],"bytes_reclaimed":0}` {
		t.Fatalf("dry run over a read-only DB: %d %s", r.status, r.body)
	}
}

func TestNewestPartitions(t *testing.T) {
	per := map[string]int{}
	for d := range 150 {
		per[time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d).Format(time.RFC3339)] = d
	}
	got := newestPartitions(per, 100)
	if len(got) != 100 || got[0] != "2024-05-29T00:00:00Z" || got[99] != "2024-02-20T00:00:00Z" {
		t.Fatalf("got %d: %v ... %v", len(got), got[0], got[len(got)-1])
	}
	if got := newestPartitions(map[string]int{"2024-01-01T00:00:00Z": 1}, 100); !slices.Equal(got, []string{"2024-01-01T00:00:00Z"}) {
		t.Fatal(got)
	}
}
