package main

import (
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/privacy"
	"github.com/eventlogdb/eventlog/server"
)

// envMap is an environment for loadServeConfig.
func envMap(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// writeConfig writes a YAML config file and returns its path.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "eventlog.yaml")
	if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestServeConfigDefaults(t *testing.T) {
	c, err := loadServeConfig(nil, envMap(nil), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := &serveConfig{
		data: "./data", addr: "127.0.0.1:9700",
		sync: eventlog.SyncAlways, syncInterval: 100 * time.Millisecond,
		segmentMaxBytes: 64 << 20, segmentMaxAge: time.Hour, memoryLimit: 256 << 20, integrity: true, integrityInterval: time.Minute,
		maintenance: maintenanceConfig{interval: time.Minute, maxSegmentBytes: 1 << 30, bytesPerSecond: 64 << 20, dedupWindow: 24 * time.Hour},
		server: server.Config{
			MaxBulkBytes: 32 << 20, MaxEventBytes: 1 << 20, MaxConcurrentWrites: 4, WriteQueueTimeout: time.Second,
			MinBodyRate: 64 << 10, BodyRateGrace: 5 * time.Second,
			ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute,
			RequestTimeout: time.Minute, FlushTimeout: 30 * time.Second, ShutdownTimeout: 30 * time.Second,
			HeartbeatInterval: 15 * time.Second, MaxTailLag: 10_000, TailStallTimeout: 5 * time.Second,
			ES: server.IngestRoute{DefaultAction: "log"},
		},
		logLevel:          slog.LevelInfo,
		tlsReloadInterval: 10 * time.Second,
		pseudonym:         pseudonymConfig{fields: privacy.DefaultFields},
		objectStore: objectStoreConfig{deleteGrace: time.Hour,
			wal: walSyncConfig{chunkBytes: 4 << 20, chunkAge: 5 * time.Millisecond, ackTimeout: 30 * time.Second, maxPending: 64 << 20}},
		node: nodeConfig{pollInterval: 10 * time.Second, blockCacheBytes: 64 << 20},
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("defaults:\n got %+v\nwant %+v", c, want)
	}
}

// TestServeConfigPrecedence sets each setting at a different depth: a flag
// beats the environment, which beats the file, which beats the default.
func TestServeConfigPrecedence(t *testing.T) {
	file := writeConfig(t, `# every layer below the flags
sync-interval: 1s
segment-max-bytes: 1MiB
max-concurrent-writes: 2
allow-unregistered: true
log-format: json
data: /from/file
`)
	env := map[string]string{
		"EVENTLOG_SEGMENT_MAX_BYTES":     "2097152",
		"EVENTLOG_MAX_CONCURRENT_WRITES": "3",
		"EVENTLOG_ALLOW_UNREGISTERED":    "false",
		"EVENTLOG_ADDR":                  "127.0.0.1:2222",
		"EVENTLOG_SYNC":                  "", // empty is unset
		"EVENTLOG_DATA":                  "/from/env",
	}
	args := []string{"--config", file, "--max-concurrent-writes", "5", "--addr", "127.0.0.1:3333", "--log-level", "debug", "--data", "/from/flag"}
	c, err := loadServeConfig(args, envMap(env), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct{ got, want any }{
		"default only":             {c.server.ReadTimeout, 2 * time.Minute},
		"default, empty env":       {c.sync, eventlog.SyncAlways},
		"file":                     {c.syncInterval, time.Second},
		"file (log-format)":        {c.logJSON, true},
		"file < env":               {c.segmentMaxBytes, int64(2 << 20)},
		"file < env (bool)":        {c.allowUnregistered, false},
		"file < env < flag":        {c.server.MaxConcurrentWrites, 5},
		"file < env < flag (data)": {c.data, "/from/flag"},
		"env < flag":               {c.addr, "127.0.0.1:3333"},
		"flag":                     {c.logLevel, slog.LevelDebug},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", name, c.got, c.want)
		}
	}
	// Without --config, $EVENTLOG_CONFIG names the file; --config wins.
	env["EVENTLOG_CONFIG"] = writeConfig(t, "sync: none\n")
	if c, err := loadServeConfig(nil, envMap(env), io.Discard); err != nil || c.sync != eventlog.SyncNone {
		t.Fatalf("EVENTLOG_CONFIG: %v %v", c, err)
	}
	if c, err := loadServeConfig([]string{"--config", file}, envMap(env), io.Discard); err != nil || c.sync != eventlog.SyncAlways || c.syncInterval != time.Second {
		t.Fatalf("--config over EVENTLOG_CONFIG: %+v %v", c, err)
	}
	// A bool flag alone means true.
	if c, err := loadServeConfig([]string{"--allow-unregistered"}, envMap(nil), io.Discard); err != nil || !c.allowUnregistered {
		t.Fatalf("--allow-unregistered: %v %v", c, err)
	}
}

func TestServeConfigErrors(t *testing.T) {
	dir := t.TempDir()
	file := func(text string) string {
		t.Helper()
		name := filepath.Join(dir, "serve.yaml")
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return name
	}
	for name, c := range map[string]struct {
		args []string
		env  map[string]string
		file string
		want string
	}{
		"flag duration": {args: []string{"--sync-interval", "fast"},
			want: `sync-interval "fast" from --sync-interval: want a positive duration, such as 500ms, 30s or 2m`},
		"env duration": {env: map[string]string{"EVENTLOG_READ_TIMEOUT": "10"},
			want: `read-timeout "10" from EVENTLOG_READ_TIMEOUT: want a positive duration, such as 500ms, 30s or 2m`},
		"file duration": {file: "addr: 127.0.0.1:0\n\nshutdown-timeout: -1s\n",
			want: `shutdown-timeout "-1s" from DIR/serve.yaml:3: want a positive duration, such as 500ms, 30s or 2m`},
		"missing backup dir": {args: []string{"--backup-dir", "/no/such/dir"},
			want: `backup-dir "/no/such/dir" from --backup-dir: want an existing directory`},
		"flag sync": {args: []string{"--sync", "sometimes"},
			want: `sync "sometimes" from --sync: want always, interval or none`},
		"env sync": {env: map[string]string{"EVENTLOG_SYNC": "Always"},
			want: `sync "Always" from EVENTLOG_SYNC: want always, interval or none`},
		"file sync": {file: "sync: fsync\n",
			want: `sync "fsync" from DIR/serve.yaml:1: want always, interval or none`},
		"size": {args: []string{"--max-bulk-bytes", "32 apples"},
			want: `max-bulk-bytes "32 apples" from --max-bulk-bytes: want a size such as 500MB, 1.5GiB, 64KiB or 1048576`},
		"size zero": {env: map[string]string{"EVENTLOG_SEGMENT_MAX_BYTES": "0"},
			want: `segment-max-bytes "0" from EVENTLOG_SEGMENT_MAX_BYTES: want a size such as 500MB, 1.5GiB, 64KiB or 1048576`},
		"count": {file: "max-concurrent-writes: 0\n",
			want: `max-concurrent-writes "0" from DIR/serve.yaml:1: want a whole number of at least 1`},
		"bool": {env: map[string]string{"EVENTLOG_ALLOW_UNREGISTERED": "yes"},
			want: `allow-unregistered "yes" from EVENTLOG_ALLOW_UNREGISTERED: want true or false`},
		"log level": {args: []string{"--log-level", "verbose"},
			want: `log-level "verbose" from --log-level: want debug, info, warn or error`},
		"log format": {file: "log-format: logfmt\n",
			want: `log-format "logfmt" from DIR/serve.yaml:1: want text or json`},
		"addr": {env: map[string]string{"EVENTLOG_ADDR": "9700"},
			want: `addr "9700" from EVENTLOG_ADDR: want HOST:PORT, such as 127.0.0.1:9700 or :9700`},
		"pprof addr": {args: []string{"--pprof-addr", "6060"},
			want: `pprof-addr "6060" from --pprof-addr: want HOST:PORT, such as 127.0.0.1:6060, or off`},
		"empty data": {args: []string{"--data="},
			want: `data "" from --data: want a value`},
		"unknown key": {file: "addr: :9700\nsync_interval: 1s\n",
			want: `DIR/serve.yaml:2: unknown setting "sync_interval" (did you mean "sync-interval"?)`},
		"unknown key, nothing near": {file: "colour: blue\n",
			want: `DIR/serve.yaml:1: unknown setting "colour"`},
		"repeated key": {file: "sync: none\nsync: always\n",
			want: `DIR/serve.yaml:2: sync is already set on line 1`},
		"list value": {file: "addr:\n  - :9700\n",
			want: `DIR/serve.yaml:1: addr: want one value, such as addr: 127.0.0.1:9700`},
		"no value": {file: "sync:\n",
			want: `DIR/serve.yaml:1: sync: want one value, such as sync: always`},
		"not a mapping": {file: "- sync\n",
			want: `DIR/serve.yaml:1: want a mapping of settings (key: value)`},
		"not YAML": {file: "sync: [always\n",
			want: `config DIR/serve.yaml: yaml: line 1: did not find expected ',' or ']'`},
		"missing file": {args: []string{"--config", filepath.Join(dir, "none.yaml")},
			want: `config: open DIR/none.yaml: no such file or directory`},
		"argument": {args: []string{"serve"},
			want: `unexpected argument "serve": usage`},
	} {
		t.Run(name, func(t *testing.T) {
			args := c.args
			if c.file != "" {
				args = append([]string{"--config", file(c.file)}, args...)
			}
			_, err := loadServeConfig(args, envMap(c.env), io.Discard)
			if want := strings.ReplaceAll(c.want, "DIR", dir); err == nil || err.Error() != want {
				t.Fatalf("got %v\nwant %s", err, want)
			}
		})
	}
}

func TestServeHelpListsEverySetting(t *testing.T) {
	code, errs, stderr := runCLI(t, "", "serve", "--help") // the help is on stdout
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	lines := strings.Split(errs, "\n")
	for _, s := range []struct{ flag, def, env string }{
		{"--data DIR", "./data", "EVENTLOG_DATA"},
		{"--addr HOST:PORT", "127.0.0.1:9700", "EVENTLOG_ADDR"},
		{"--sync POLICY", "always", "EVENTLOG_SYNC"},
		{"--sync-interval DURATION", "100ms", "EVENTLOG_SYNC_INTERVAL"},
		{"--allow-unregistered", "false", "EVENTLOG_ALLOW_UNREGISTERED"},
		{"--segment-max-bytes SIZE", "64MiB", "EVENTLOG_SEGMENT_MAX_BYTES"},
		{"--segment-max-age DURATION", "1h", "EVENTLOG_SEGMENT_MAX_AGE"},
		{"--segment-idle DURATION", "off", "EVENTLOG_SEGMENT_IDLE"},
		{"--max-bulk-bytes SIZE", "32MiB", "EVENTLOG_MAX_BULK_BYTES"},
		{"--max-event-bytes SIZE", "1MiB", "EVENTLOG_MAX_EVENT_BYTES"},
		{"--max-concurrent-writes N", "4", "EVENTLOG_MAX_CONCURRENT_WRITES"},
		{"--write-queue-timeout DURATION", "1s", "EVENTLOG_WRITE_QUEUE_TIMEOUT"},
		{"--max-body-bytes-in-flight SIZE", "auto", "EVENTLOG_MAX_BODY_BYTES_IN_FLIGHT"},
		{"--min-body-rate SIZE", "64KiB", "EVENTLOG_MIN_BODY_RATE"},
		{"--body-rate-grace DURATION", "5s", "EVENTLOG_BODY_RATE_GRACE"},
		{"--read-header-timeout DURATION", "10s", "EVENTLOG_READ_HEADER_TIMEOUT"},
		{"--read-timeout DURATION", "2m", "EVENTLOG_READ_TIMEOUT"},
		{"--idle-timeout DURATION", "2m", "EVENTLOG_IDLE_TIMEOUT"},
		{"--request-timeout DURATION", "1m", "EVENTLOG_REQUEST_TIMEOUT"},
		{"--flush-timeout DURATION", "30s", "EVENTLOG_FLUSH_TIMEOUT"},
		{"--shutdown-timeout DURATION", "30s", "EVENTLOG_SHUTDOWN_TIMEOUT"},
		{"--log-level LEVEL", "info", "EVENTLOG_LOG_LEVEL"},
		{"--log-format FORMAT", "text", "EVENTLOG_LOG_FORMAT"},
		{"--pprof-addr HOST:PORT", "off", "EVENTLOG_PPROF_ADDR"},
	} {
		i := slices.Index(lines, "  "+s.flag)
		if i < 0 || i+1 == len(lines) || !strings.HasSuffix(lines[i+1], "(default "+s.def+", env "+s.env+")") {
			t.Errorf("%s: no entry with its default %s and %s in:\n%s", s.flag, s.def, s.env, errs)
		}
	}
	if !strings.Contains(errs, "  --config FILE\n        YAML file of settings (env EVENTLOG_CONFIG)\n") {
		t.Errorf("no --config in:\n%s", errs)
	}
	if n := strings.Count(errs, "\n  --"); n != len(settings())+1 {
		t.Errorf("%d flags listed, want %d", n, len(settings())+1)
	}
}

// TestServeBodySettings: the upload bounds take their special values (auto,
// off) and sizes, from flags, the environment and the file alike.
func TestServeBodySettings(t *testing.T) {
	file := writeConfig(t, "body-rate-grace: 2s\n")
	env := map[string]string{"EVENTLOG_MIN_BODY_RATE": "off"}
	c, err := loadServeConfig([]string{"--config", file, "--max-body-bytes-in-flight", "256MiB"}, envMap(env), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.server.MaxBodyBytesInFlight != 256<<20 || c.server.MinBodyRate != -1 || c.server.BodyRateGrace != 2*time.Second {
		t.Fatalf("got budget %d, rate %d, grace %v; want 256 MiB, -1 (off), 2s",
			c.server.MaxBodyBytesInFlight, c.server.MinBodyRate, c.server.BodyRateGrace)
	}
	c, err = loadServeConfig([]string{"--min-body-rate", "1MiB", "--max-body-bytes-in-flight", "auto"}, envMap(nil), io.Discard)
	if err != nil || c.server.MinBodyRate != 1<<20 || c.server.MaxBodyBytesInFlight != 0 {
		t.Fatalf("got %+v, %v; want rate 1 MiB, budget 0 (auto)", c.server, err)
	}
	if _, err := loadServeConfig([]string{"--min-body-rate", "slow"}, envMap(nil), io.Discard); err == nil || !strings.Contains(err.Error(), "or off") {
		t.Fatalf("bad min-body-rate: %v", err)
	}
}

// TestPprofServer checks that --pprof-addr serves the heap profile on its
// own address and that Close ends it.
func TestPprofServer(t *testing.T) {
	p, err := startPprof("127.0.0.1:0", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + p.addr.String() + "/debug/pprof/heap"
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get(url); err == nil {
		t.Fatalf("GET %s answered after Close", url)
	}
}
