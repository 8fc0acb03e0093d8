package bench

import (
	"bytes"
	"strings"
	"testing"
)

// verdicts maps each flagged figure to its verdict.
func verdicts(ds []Delta) map[string]string {
	m := map[string]string{}
	for _, d := range ds {
		if d.Verdict != "" {
			m[d.Name] = d.Verdict
		}
	}
	return m
}

func TestCompareFlagsRegressionNotWobble(t *testing.T) {
	base := sampleReport(1)
	tests := map[string]struct {
		b    *Report
		want map[string]string
	}{
		"same":             {sampleReport(1), map[string]string{}},
		"3% slower":        {sampleReport(0.97), map[string]string{}},
		"3% faster":        {sampleReport(1.03), map[string]string{}},
		"2x slower":        {sampleReport(0.5), nil},
		"2x faster":        {sampleReport(2), nil},
		"disk 5% larger":   {withDisk(sampleReport(1), 1.05), map[string]string{"disk B/event": "worse", "compression ratio": "worse"}},
		"disk 1% smaller":  {withDisk(sampleReport(1), 0.99), map[string]string{}},
		"http, no disk":    {withoutDisk(sampleReport(1)), map[string]string{}},
		"more fsyncs (2x)": {withFsyncs(sampleReport(1), 2), map[string]string{"WAL fsyncs/s": "changed"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ds := Compare(base, tc.b)
			got := verdicts(ds)
			switch {
			case tc.want != nil:
				if len(got) != len(tc.want) {
					t.Fatalf("flagged %v, want %v", got, tc.want)
				}
				for k, v := range tc.want {
					if got[k] != v {
						t.Fatalf("flagged %v, want %v", got, tc.want)
					}
				}
			default: // a 2x change: every scaled figure is flagged, one way
				want := map[bool]string{true: "worse", false: "better"}[strings.Contains(name, "slower")]
				for _, f := range []string{"events/s", "MB/s (JSON)", "append p50 ms", "append p99 ms", "append max ms",
					"CPU µs/event", "query selective-count p99 ms", "query stats-duration p50 ms"} {
					if got[f] != want {
						t.Errorf("%s: %q, want %q (all: %v)", f, got[f], want, got)
					}
				}
				if got["disk B/event"] != "" || got["peak RSS MiB"] != "" {
					t.Errorf("unchanged figures flagged: %v", got)
				}
			}
		})
	}
}

func withDisk(r *Report, f float64) *Report {
	r.Disk.BytesPerEvent *= f
	r.Disk.CompressionRatio /= f
	return r
}

func withoutDisk(r *Report) *Report { r.Disk = nil; return r }

func withFsyncs(r *Report, f float64) *Report { r.WAL.FsyncsPerSec *= f; return r }

func TestCompareSkipsMissingFigures(t *testing.T) {
	for _, d := range Compare(sampleReport(1), withoutDisk(sampleReport(1))) {
		if strings.HasPrefix(d.Name, "disk") || d.Name == "compression ratio" {
			t.Fatalf("compared %s, which one report lacks", d.Name)
		}
	}
}

func TestWriteComparison(t *testing.T) {
	a, b := sampleReport(1), sampleReport(0.5)
	b.Config.Batch = 100
	var buf bytes.Buffer
	if err := WriteComparison(&buf, "a.json", "b.json", a, b, Compare(a, b)); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"a.json", "b.json", "events/s", "250,000", "125,000", "0.50", "WORSE (noise ±20%)",
		"batch differs: 1000 vs 100"} {
		if !strings.Contains(out, want) {
			t.Errorf("comparison lacks %q:\n%s", want, out)
		}
	}
}
