package bench

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
)

// sampleReport is a report with every section filled, ten seconds long,
// its figures scaled by f (1 for the reference).
func sampleReport(f float64) *Report {
	r := &Report{
		Version: ReportVersion, Started: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC),
		Machine: Machine{OS: "linux", Arch: "amd64", Go: "go1.26.8", CPUs: 2, CPUModel: "AMD EPYC", Filesystem: "ext4", Load1Start: 0.3, Load1End: 2.1},
		Config: RunInfo{Target: "embedded", Dir: "/tmp/x", Workload: "generator", Seed: 1, PoolEvents: 50000,
			AvgJSONBytes: 687, Events: 1_000_000, Batch: 1000, Concurrency: 2, Sync: "always"},
		Events: 1_000_000, JSONBytes: 687_000_000, Seconds: 4 / f,
		Throughput: Throughput{EventsPerSec: 250_000 * f, MBPerSec: 171.75 * f, PerSecond: Spread{200_000 * f, 250_000 * f, 270_000 * f}},
		Append:     Latency{Count: 1000, Mean: 8 / f, P50: 7.5 / f, P90: 12 / f, P99: 30 / f, P999: 45 / f, Max: 50 / f},
		Disk:       &Disk{Bytes: 45_000_000, SegmentBytes: 44_900_000, WALBytes: 20, Segments: 3, BytesPerEvent: 45, SegmentBytesPerEvent: 44.9, CompressionRatio: 15.3, SealSeconds: 1.2 / f},
		Process:    Process{PeakRSSBytes: 900 << 20, CPUUserSeconds: 5 / f, CPUSystemSeconds: 1 / f, CPUSeconds: 6 / f, CPUMicrosPerEvent: 6 / f},
		WAL:        WALStats{Fsyncs: 500, FsyncsPerSec: 125},
		Queries: []QueryLatency{
			{Kind: "selective-count", Latency: Latency{Count: 40, Mean: 3 / f, P50: 2.5 / f, P90: 4 / f, P99: 9 / f, P999: 9 / f, Max: 9 / f}},
			{Kind: "stats-duration", Errors: 1, FirstError: "boom", Latency: Latency{Count: 39, Mean: 300 / f, P50: 280 / f, P90: 400 / f, P99: 450 / f, P999: 450 / f, Max: 450 / f}},
		},
	}
	h := NewHistogram()
	for i := range 1000 {
		h.Record(time.Duration(float64(i+1)*0.05/f*1e6) * time.Nanosecond * 1000)
	}
	r.AppendSpectrum = h.Spectrum()
	for s := range 10 {
		r.Series = append(r.Series, Second{At: float64(s + 1), Seconds: 1, Events: int64(250_000 * f),
			EventsPerSec: 250_000*f + float64(s*1000), P50: 7.5 / f, P99: 30 / f, Max: 50 / f})
	}
	return r
}

func TestReportJSONRoundTrip(t *testing.T) {
	reports := map[string]*Report{"sample": sampleReport(1)}
	// And a real one, with whatever a run leaves empty.
	run := mustRun(t, Config{Events: 2000, Batch: 500, Sync: eventlog.SyncNone, QueryRate: 100})
	reports["run"] = run
	for name, r := range reports {
		var buf bytes.Buffer
		if err := r.WriteJSON(&buf); err != nil {
			t.Fatal(err)
		}
		got, err := ReadReport(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, buf.String())
		}
		if !reflect.DeepEqual(got, r) {
			t.Fatalf("%s does not round-trip:\n got %+v\nwant %+v", name, got, r)
		}
		// The figures a script reads are at the documented keys.
		var m map[string]any
		if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"throughput", "append_latency", "process", "wal", "series", "machine", "config"} {
			if _, ok := m[key]; !ok {
				t.Errorf("%s: no %q in the JSON", name, key)
			}
		}
	}
}

func TestReadReportRejects(t *testing.T) {
	for name, text := range map[string]string{
		"newer version": `{"version": 99}`,
		"no version":    `{"events": 3}`,
		"not json":      `events: 3`,
	} {
		if _, err := ReadReport(strings.NewReader(text)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestWriteText(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport(1).WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"250,000 events/s, 171.8 MB/s of JSON", "min 200,000, median 250,000, max 270,000 events/s",
		"p50 7.50 ms  p90 12.0 ms  p99 30.0 ms  p99.9 45.0 ms  max 50.0 ms",
		"45.0 B/event, 15.3x smaller than the JSON", "peak RSS 900.0 MiB", "WAL fsyncs", "125.0/s",
		"query stats-duration", "1 failed, the first with: boom",
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestPerSecondSpread(t *testing.T) {
	series := []Second{{Seconds: 1, EventsPerSec: 5}, {Seconds: 1, EventsPerSec: 1}, {Seconds: 1, EventsPerSec: 3},
		{Seconds: 1, EventsPerSec: 4}, {Seconds: 0.1, EventsPerSec: 100}}
	if got := perSecondSpread(series, 2); got != (Spread{1, 3.5, 5}) {
		t.Fatalf("spread %+v, want the short last second ignored", got)
	}
	if got := perSecondSpread(series[4:], 2); got != (Spread{2, 2, 2}) {
		t.Fatalf("spread of a short run %+v, want the overall rate", got)
	}
	if math.IsNaN(perSecondSpread(nil, 0).Median) {
		t.Fatal("NaN for no series")
	}
}
