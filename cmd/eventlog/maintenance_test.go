package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/server"
)

func TestMaintenanceSettings(t *testing.T) {
	for name, c := range map[string]struct {
		args []string
		env  map[string]string
		file string
		want maintenanceConfig
	}{
		"days": {args: []string{"--retention-max-age", "10d", "--max-future-skew", "1d", "--dedup-window", "2d"},
			want: maintenanceConfig{retentionMaxAge: 240 * time.Hour, maxFutureSkew: 24 * time.Hour, dedupWindow: 48 * time.Hour}},
		"hours from the environment": {env: map[string]string{"EVENTLOG_RETENTION_MAX_AGE": "240h", "EVENTLOG_RETENTION_MAX_BYTES": "500MB"},
			want: maintenanceConfig{retentionMaxAge: 240 * time.Hour, retentionMaxBytes: 500e6}},
		"weeks and GiB from the file": {file: "retention-max-age: 2w\nretention-max-bytes: 10GiB\nmax-future-skew: 90m\n",
			want: maintenanceConfig{retentionMaxAge: 14 * 24 * time.Hour, retentionMaxBytes: 10 << 30, maxFutureSkew: 90 * time.Minute}},
		"off": {args: []string{"--retention-max-age", "off", "--retention-max-bytes", "off", "--maintenance-interval", "off",
			"--compaction-bytes-per-second", "unlimited"}, env: map[string]string{"EVENTLOG_RETENTION_MAX_AGE": "30d"},
			want: maintenanceConfig{interval: -1, bytesPerSecond: -1}},
		"compaction": {args: []string{"--maintenance-interval", "15s", "--compaction-max-segment-bytes", "256MiB", "--compaction-bytes-per-second", "8MiB"},
			want: maintenanceConfig{interval: 15 * time.Second, maxSegmentBytes: 256 << 20, bytesPerSecond: 8 << 20}},
	} {
		t.Run(name, func(t *testing.T) {
			args := c.args
			if c.file != "" {
				args = append([]string{"--config", writeConfig(t, c.file)}, args...)
			}
			cfg, err := loadServeConfig(args, envMap(c.env), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			want := maintenanceConfig{interval: time.Minute, maxSegmentBytes: 1 << 30, bytesPerSecond: 64 << 20, dedupWindow: 24 * time.Hour} // the defaults
			for _, f := range []struct{ got, def any }{
				{&want.dedupWindow, c.want.dedupWindow},
				{&want.retentionMaxAge, c.want.retentionMaxAge}, {&want.retentionMaxBytes, c.want.retentionMaxBytes},
				{&want.maxFutureSkew, c.want.maxFutureSkew}, {&want.interval, c.want.interval},
				{&want.maxSegmentBytes, c.want.maxSegmentBytes}, {&want.bytesPerSecond, c.want.bytesPerSecond},
			} {
				if v := reflect.ValueOf(f.def); !v.IsZero() {
					reflect.ValueOf(f.got).Elem().Set(v)
				}
			}
			if !reflect.DeepEqual(cfg.maintenance, want) {
				t.Fatalf("got %+v\nwant %+v", cfg.maintenance, want)
			}
			o := cfg.dbOptions(server.NewMetrics(), nil)
			if o.RetentionMaxAge != want.retentionMaxAge || o.RetentionMaxBytes != want.retentionMaxBytes || o.MaxFutureSkew != want.maxFutureSkew ||
				o.MaintenanceInterval != want.interval || o.CompactionMaxSegmentBytes != want.maxSegmentBytes || o.CompactionBytesPerSecond != want.bytesPerSecond ||
				o.DedupWindow != want.dedupWindow {
				t.Fatalf("engine options %+v", o)
			}
		})
	}
}

func TestMaintenanceSettingErrors(t *testing.T) {
	for name, c := range map[string]struct {
		args []string
		env  map[string]string
		want string
	}{
		"age unit":      {args: []string{"--retention-max-age", "10x"}, want: `retention-max-age "10x" from --retention-max-age: want a duration such as 240h, 10d or 2w, or off`},
		"negative age":  {env: map[string]string{"EVENTLOG_RETENTION_MAX_AGE": "-1d"}, want: `retention-max-age "-1d" from EVENTLOG_RETENTION_MAX_AGE: want a duration such as 240h, 10d or 2w, or off`},
		"bytes":         {env: map[string]string{"EVENTLOG_RETENTION_MAX_BYTES": "lots"}, want: `retention-max-bytes "lots" from EVENTLOG_RETENTION_MAX_BYTES: want a size such as 10GiB or 500MB, or off`},
		"bytes unit":    {args: []string{"--retention-max-bytes", "10GB/s"}, want: `retention-max-bytes "10GB/s" from --retention-max-bytes: want a size such as 10GiB or 500MB, or off`},
		"skew":          {args: []string{"--max-future-skew", "soon"}, want: `max-future-skew "soon" from --max-future-skew: want a duration such as 240h, 10d or 2w, or off`},
		"interval zero": {args: []string{"--maintenance-interval", "0s"}, want: `maintenance-interval "0s" from --maintenance-interval: want a positive duration, such as 30s or 5m, or off`},
		"segment bytes": {args: []string{"--compaction-max-segment-bytes", "off"}, want: `compaction-max-segment-bytes "off" from --compaction-max-segment-bytes: want a size such as 500MB, 1.5GiB, 64KiB or 1048576`},
		"rate":          {args: []string{"--compaction-bytes-per-second", "fast"}, want: `compaction-bytes-per-second "fast" from --compaction-bytes-per-second: want a size per second such as 64MiB, or unlimited`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := loadServeConfig(c.args, envMap(c.env), io.Discard)
			if err == nil || err.Error() != c.want {
				t.Fatalf("got %v\nwant %s", err, c.want)
			}
		})
	}
	_, errs, _ := runCLI(t, "", "serve", "--help")
	for _, s := range []struct{ flag, def, env string }{
		{"--retention-max-age DURATION", "off", "EVENTLOG_RETENTION_MAX_AGE"},
		{"--retention-max-bytes SIZE", "off", "EVENTLOG_RETENTION_MAX_BYTES"},
		{"--max-future-skew DURATION", "off", "EVENTLOG_MAX_FUTURE_SKEW"},
		{"--maintenance-interval DURATION", "1m", "EVENTLOG_MAINTENANCE_INTERVAL"},
		{"--compaction-max-segment-bytes SIZE", "1GiB", "EVENTLOG_COMPACTION_MAX_SEGMENT_BYTES"},
		{"--compaction-bytes-per-second SIZE", "64MiB", "EVENTLOG_COMPACTION_BYTES_PER_SECOND"},
	} {
		if !strings.Contains(errs, "  "+s.flag+"\n") || !strings.Contains(errs, "(default "+s.def+", env "+s.env+")\n") {
			t.Errorf("serve --help has no %s with default %s and %s", s.flag, s.def, s.env)
		}
	}
}

// buildStore writes events into a new data directory: perDay events on
// each of days days before now (day d at now - d*24h - 1h, a second apart),
// with small segments (SegmentMaxBytes 4 KiB) and a roll after each day.
// It returns the directory and the events' count.
func buildStore(t *testing.T, now time.Time, days, perDay int) (string, int) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	db, err := eventlog.Open(dir, eventlog.Options{SegmentMaxBytes: 4 << 10, AllowUnregistered: true, MaintenanceInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	for d := days - 1; d >= 0; d-- {
		for i := range perDay {
			var e eventlog.Event
			ts, err := event.ParseDate(now.Add(-time.Duration(d)*24*time.Hour - time.Hour + time.Duration(i)*time.Second).UTC().Format(time.RFC3339))
			if err != nil {
				t.Fatal(err)
			}
			e.Timestamp = ts
			e.Event.Provider, e.Event.Action, e.Event.Outcome = "app", "act", "success"
			e.Message = fmt.Sprintf("day -%d, event %d: a message long enough to fill a few small segments", d, i)
			if _, err := db.Append(context.Background(), e); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Roll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, days * perDay
}

// storeStats opens dir read-only and returns its stats and how many
// events a provider has.
func storeStats(t *testing.T, dir, provider string) (eventlog.Stats, int) {
	t.Helper()
	db, err := eventlog.Open(dir, eventlog.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n, err := db.Count(context.Background(), eventlog.FindRequest{Terms: []eventlog.Term{{Field: "event.provider", Values: []string{provider}}}})
	if err != nil {
		t.Fatal(err)
	}
	return db.Stats(), n
}

func TestCompactCommand(t *testing.T) {
	dir, events := buildStore(t, time.Now(), 1, 300)
	before, _ := storeStats(t, dir, "app")
	if before.Segments < 5 {
		t.Fatalf("the fixture has %d segments, want several", before.Segments)
	}
	code, out, errs := runCLI(t, "", "compact", "--data", dir)
	want := regexp.MustCompile(fmt.Sprintf(`^compacted %d segments into 1 \(1 merge\): %d events, [0-9.]+ KiB → [0-9.]+ KiB\n$`, before.Segments, events))
	if code != 0 || !want.MatchString(out) || errs != "" {
		t.Fatalf("compact: exit %d, %q, stderr %q", code, out, errs)
	}
	after, n := storeStats(t, dir, "app")
	if after.Segments != 1 || n != events || after.SegmentEvents != events {
		t.Fatalf("after compact: %d segments, %d events", after.Segments, n)
	}
	code, out, _ = runCLI(t, "", "compact", "--data", dir, "--json")
	var res eventlog.CompactResult
	if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil || res != (eventlog.CompactResult{}) {
		t.Fatalf("compact --json again: exit %d, %q", code, out)
	}
	code, out, _ = runCLI(t, "", "compact", "--data", dir)
	if code != 0 || out != "nothing to compact\n" {
		t.Fatalf("compact again: exit %d, %q", code, out)
	}
}

func TestRetentionCommand(t *testing.T) {
	dir, _ := buildStore(t, time.Now(), 10, 20)
	before, _ := storeStats(t, dir, "app")
	// --max-age 5d: days 5..9 (each at most now - d*24h - 1h + 19s) are
	// wholly older than now - 5d.
	code, out, errs := runCLI(t, "", "retention", "--data", dir, "--max-age", "5d", "--dry-run")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	line := regexp.MustCompile(`^would drop \d+\.seg: max_age, 20 events from \S+Z to \S+Z \(seq \d+-\d+\), [0-9.]+ (B|KiB)$`)
	if code != 0 || errs != "" || len(lines) != 6 || !strings.HasPrefix(lines[5], "would drop 5 segments: 100 events, ") {
		t.Fatalf("dry run: exit %d, %q, stderr %q", code, out, errs)
	}
	for _, l := range lines[:5] {
		if !line.MatchString(l) {
			t.Errorf("line %q", l)
		}
	}
	if st, n := storeStats(t, dir, "app"); st.Segments != before.Segments || n != 200 {
		t.Fatalf("the dry run changed the store: %d segments, %d events", st.Segments, n)
	}
	// A space's own max age wins over the store's: events without a
	// space are in default.
	for args, want := range map[string]string{
		"--max-age 1d --space-max-age default=5d":  "would drop 5 segments: 100 events, ",
		"--max-age 1d --space-max-age default=off": "nothing to drop",
		"--space-max-age team-a=1d,default=5d":     "would drop 5 segments: 100 events, ",
	} {
		code, out, errs := runCLI(t, "", append([]string{"retention", "--data", dir, "--dry-run"}, strings.Fields(args)...)...)
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("%s: exit %d, %q %q, want %q", args, code, out, errs, want)
		}
	}
	code, out, _ = runCLI(t, "", "retention", "--data", dir, "--max-age", "5d")
	if code != 0 || strings.Count(out, "\ndropped ")+1 != 6 || !strings.HasPrefix(out, "dropped ") || !strings.Contains(out, "\ndropped 5 segments: 100 events, ") {
		t.Fatalf("retention: exit %d, %q", code, out)
	}
	st, n := storeStats(t, dir, "app")
	if _, drops := storeStats(t, dir, eventlog.InternalProvider); n != 100 || drops != 5 || st.Segments >= before.Segments {
		t.Fatalf("after retention: %d events, %d drop records, %d segments (were %d)", n, drops, st.Segments, before.Segments)
	}
	// By size: the oldest go first.
	code, out, _ = runCLI(t, "", "retention", "--data", dir, "--max-bytes", "1KB", "--dry-run", "--json")
	var rep retentionReport
	if err := json.Unmarshal([]byte(out), &rep); code != 0 || err != nil || !rep.DryRun || len(rep.Dropped) == 0 || rep.Dropped[0].Reason != "max_bytes" {
		t.Fatalf("--max-bytes --json: exit %d, %q", code, out)
	}
}

func TestMaintenanceCommandErrors(t *testing.T) {
	dir, _ := buildStore(t, time.Now(), 2, 5)
	db, err := eventlog.Open(dir, eventlog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, args := range [][]string{{"compact"}, {"retention", "--max-age", "1d"}} {
		code, _, errs := runCLI(t, "", append(args, "--data", dir)...)
		if code != 1 || !strings.Contains(errs, "is open in another process, probably a running server") || !strings.Contains(errs, "--url http://HOST:PORT") {
			t.Errorf("%v on a directory in use: exit %d, %q", args, code, errs)
		}
	}
	for args, want := range map[string]string{
		"retention --data " + dir:                                   "give --max-age, --max-bytes, --space-max-age or several",
		"retention --space-max-age team-a --data " + dir:            `--space-max-age: "team-a": want SPACE=AGE pairs`,
		"retention --url http://127.0.0.1:1 --space-max-age a=1d":   "--space-max-age are for --data",
		"retention --max-age 3 --data " + dir:                       `--max-age "3": want a positive duration`,
		"retention --url http://127.0.0.1:1 --max-age 1d":           "with --url the server applies its own --retention-max-age",
		"compact --url http://127.0.0.1:1 --data " + dir:            "--url and --data: give the server or the data directory, not both",
		"compact --url http://127.0.0.1:1 --max-segment-bytes 1MiB": "--max-segment-bytes is the server's setting",
		"compact extra": `unexpected argument "extra"`,
	} {
		if code, _, errs := runCLI(t, "", strings.Fields(args)...); code != 2 || !strings.Contains(errs, want) {
			t.Errorf("%s: exit %d, %q, want %q", args, code, errs, want)
		}
	}
	if code, _, errs := runCLI(t, "", "compact", "--data", filepath.Join(dir, "none")); code != 1 || !strings.Contains(errs, "none does not exist") {
		t.Errorf("a missing directory: exit %d, %q", code, errs)
	}
	if code, _, _ := runCLI(t, "", "retention", "--data", dir, "--max-bytes", "10 apples", "--dry-run"); code != 2 {
		t.Errorf("a bad --max-bytes: exit %d", code)
	}
}

// TestMaintenanceThroughServer: with --url, compact and retention go
// through the server's routes and print what they print on a directory.
func TestMaintenanceThroughServer(t *testing.T) {
	dir, events := buildStore(t, time.Now(), 10, 200) // 4 or more segments a day
	db, err := eventlog.Open(dir, eventlog.Options{RetentionMaxAge: 5 * 24 * time.Hour, MaintenanceInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(server.New(db, server.Config{}, nil, nil).Handler())
	t.Cleanup(func() {
		ts.Close()
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	segs := db.Stats().Segments
	plan, err := db.PlanRetention()
	if err != nil || len(plan) == 0 {
		t.Fatalf("plan: %v, %v", plan, err)
	}
	total := fmt.Sprintf("%d segments: 1000 events, %s\n", len(plan), bytesIEC(planBytes(t, db)))
	code, out, errs := runCLI(t, "", "retention", "--url", ts.URL, "--dry-run")
	if code != 0 || errs != "" || strings.Count(out, "\n") != len(plan)+1 || !strings.HasSuffix(out, "\nwould drop "+total) {
		t.Fatalf("retention --dry-run --url: exit %d, %q, %q; want the total %q", code, out, errs, total)
	}
	if db.Stats().Segments != segs {
		t.Fatal("the dry run dropped segments")
	}
	code, out, _ = runCLI(t, "", "retention", "--url", ts.URL)
	if code != 0 || !strings.HasSuffix(out, "\ndropped "+total) || db.Stats().Maintenance.RetentionDrops != int64(len(plan)) {
		t.Fatalf("retention --url: exit %d, %q", code, out)
	}
	code, out, _ = runCLI(t, "", "compact", "--url", ts.URL, "--timeout", "30s")
	want := regexp.MustCompile(`^compacted \d+ segments into \d+ \(\d+ merges?\): \d+ events, `)
	if code != 0 || !want.MatchString(out) || db.Stats().Maintenance.Compactions == 0 {
		t.Fatalf("compact --url: exit %d, %q (segments: %v)", code, out, db.Stats().Maintenance.SegmentsPerPartition)
	}
	if n, _ := db.Count(context.Background(), eventlog.FindRequest{Terms: []eventlog.Term{{Field: "event.provider", Values: []string{"app"}}}}); n != events-1000 {
		t.Fatalf("%d events left, want %d", n, events-1000)
	}
}

func planBytes(t *testing.T, db *eventlog.DB) int64 {
	t.Helper()
	plan, err := db.PlanRetention()
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, d := range plan {
		n += d.Bytes
	}
	return n
}
