package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

// TestParseSize: every accepted unit, binary and decimal, with the values
// computed by hand.
func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{
		"1048576": 1 << 20, "7B": 7, "7 b": 7,
		"64KiB": 64 << 10, "64Ki": 64 << 10, "64kib": 64 << 10,
		"16MiB": 16 << 20, "16Mi": 16 << 20, "2 GiB": 2 << 30, "1.5GiB": 3 << 29, "1TiB": 1 << 40, "1Ti": 1 << 40,
		"500KB": 500e3, "500K": 500e3, "500kb": 500e3, "500MB": 500e6, "500M": 500e6, "1.5GB": 15e8, "5G": 5e9, "2TB": 2e12, "2T": 2e12,
		" 10GiB ": 10 << 30,
	} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "0MB", "-1", "MiB", "ten", "5 apples", "1.5XB", "99999999EiB"} {
		if got, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", in, got)
		}
	}
}

func TestFormatSize(t *testing.T) {
	for n, want := range map[int64]string{
		1 << 30: "1GiB", 64 << 20: "64MiB", 32 << 20: "32MiB", 64 << 10: "64KiB", 500e6: "500MB", 3 << 29: "1536MiB", 1e12: "1TB", 7: "7",
	} {
		if got := formatSize(n); got != want {
			t.Errorf("formatSize(%d) = %q, want %q", n, got, want)
		}
		if back, err := parseSize(formatSize(n)); err != nil || back != n {
			t.Errorf("parseSize(formatSize(%d)) = %d, %v", n, back, err)
		}
	}
}

func TestParseAndFormatDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"500ms": 500 * time.Millisecond, "30s": 30 * time.Second, "15m": 15 * time.Minute, "1h30m": 90 * time.Minute,
		"7d": 7 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "1d12h": 36 * time.Hour, "0": 0,
	} {
		if got, err := parseDuration(in); err != nil || got != want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1s", "5", "3 days", "1y"} {
		if _, err := parseDuration(in); err == nil {
			t.Errorf("parseDuration(%q): want an error", in)
		}
	}
	for d, want := range map[time.Duration]string{
		14 * 24 * time.Hour: "2w", 30 * 24 * time.Hour: "30d", 5 * time.Minute: "5m", 90 * time.Minute: "1h30m",
		2 * time.Hour: "2h", 30 * time.Second: "30s", 200 * time.Millisecond: "200ms", 0: "0",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestSizesEverywhere: each size flag and setting takes every unit, and the
// defaults print humanely.
func TestSizesEverywhere(t *testing.T) {
	dir := registeredDir(t)
	for _, size := range []string{"500MB", "1.5GiB", "64MiB", "1048576", "2TB"} {
		for _, args := range [][]string{
			{"retention", "--data", dir, "--dry-run", "--max-bytes", size},
			{"compact", "--data", dir, "--max-segment-bytes", size},
		} {
			if code, _, errs := runCLI(t, "", args...); code != 0 {
				t.Errorf("%v: exit %d, %q", args, code, errs)
			}
		}
		noEnv := func(string) (string, bool) { return "", false }
		args := []string{"--segment-max-bytes", size, "--retention-max-bytes", size, "--max-bulk-bytes", size}
		if _, err := loadServeConfig(args, noEnv, io.Discard); err != nil {
			t.Errorf("serve with %s: %v", size, err)
		}
	}
	_, help, _ := runCLI(t, "", "compact", "--help")
	if !strings.Contains(help, "(default 1GiB)") || strings.Contains(help, "1073741824") {
		t.Errorf("compact --help does not print its default as 1GiB:\n%s", help)
	}
}
