package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/eventlogdb/eventlog"
)

// maintenanceConfig is what eventlog serve is told about retention and
// compaction (settings() lists them). Zero fields are the engine's
// defaults; "off" settings are stored as the engine spells them.
type maintenanceConfig struct {
	retentionMaxAge time.Duration // 0: keep forever
	// spaceMaxAge is each listed space's own max age (0: for ever).
	spaceMaxAge       map[string]time.Duration
	retentionMaxBytes int64         // 0: no bound
	maxFutureSkew     time.Duration // 0: no check
	dedupWindow       time.Duration // 0: the engine's default
	interval          time.Duration // < 0: only on demand
	maxSegmentBytes   int64
	bytesPerSecond    int64 // < 0: unlimited
}

// apply sets the engine's options.
func (m maintenanceConfig) apply(o *eventlog.Options) {
	o.RetentionMaxAge = m.retentionMaxAge
	o.RetentionSpaceMaxAge = m.spaceMaxAge
	o.RetentionMaxBytes = m.retentionMaxBytes
	o.MaxFutureSkew = m.maxFutureSkew
	o.DedupWindow = m.dedupWindow
	o.MaintenanceInterval = m.interval
	o.CompactionMaxSegmentBytes = m.maxSegmentBytes
	o.CompactionBytesPerSecond = m.bytesPerSecond
}

// dedupWindow parses --dedup-window: a positive duration that may count
// days (parseAge); off is refused, since a store always deduplicates.
func dedupWindow(c *serveConfig, v string) error {
	d, err := parseAge(v)
	if err != nil {
		return err
	}
	if d <= 0 {
		return fmt.Errorf("%q: want a positive duration such as 24h or 7d (client ids are always deduplicated)", v)
	}
	c.maintenance.dedupWindow = d
	return nil
}

// off is how a setting that can be switched off is switched off.
const off = "off"

// age parses a duration that may count days and weeks (240h, 10d, 2w,
// 1d12h; query/timespan), or off (also 0) for none.
func age(field func(*serveConfig) *time.Duration) func(*serveConfig, string) error {
	return func(c *serveConfig, v string) error {
		d, err := parseAge(v)
		if err != nil {
			return err
		}
		*field(c) = d
		return nil
	}
}

func parseAge(v string) (time.Duration, error) {
	if v == off {
		return 0, nil
	}
	d, err := parseDuration(v)
	if err != nil {
		return 0, errors.New("want a duration such as 240h, 10d or 2w, or off")
	}
	return d, nil
}

// spaceMaxAge parses retention-space-max-age (parseSpaceMaxAge).
func spaceMaxAge(c *serveConfig, v string) error {
	ages, err := parseSpaceMaxAge(v)
	c.maintenance.spaceMaxAge = ages
	return err
}

// parseSpaceMaxAge parses per-space max ages: SPACE=AGE pairs separated
// by commas (team-a=30d,audit=off: off keeps for ever), or off for none
// (nil).
func parseSpaceMaxAge(v string) (map[string]time.Duration, error) {
	if v == off {
		return nil, nil
	}
	ages := map[string]time.Duration{}
	for _, pair := range splitList(v) {
		space, a, ok := strings.Cut(pair, "=")
		if !ok || space == "" {
			return nil, fmt.Errorf("%q: want SPACE=AGE pairs separated by commas, such as team-a=30d,audit=off", pair)
		}
		if _, dup := ages[space]; dup {
			return nil, fmt.Errorf("space %q is listed twice", space)
		}
		d, err := parseAge(a)
		if err != nil {
			return nil, fmt.Errorf("space %q: %w", space, err)
		}
		ages[space] = d
	}
	if len(ages) == 0 {
		return nil, errors.New("want SPACE=AGE pairs separated by commas, such as team-a=30d,audit=off, or off")
	}
	return ages, nil
}

// optionalSize parses a size (parseSize), or off (also 0) for
// none.
func optionalSize(field func(*serveConfig) *int64) func(*serveConfig, string) error {
	return func(c *serveConfig, v string) error {
		if v == off || v == "0" {
			*field(c) = 0
			return nil
		}
		n, err := parseSize(v)
		if err != nil {
			return errors.New("want a size such as 10GiB or 500MB, or off")
		}
		*field(c) = n
		return nil
	}
}

// maintenanceInterval parses a positive duration, or off: background
// maintenance never runs.
func maintenanceInterval(c *serveConfig, v string) error {
	if v == off {
		c.maintenance.interval = -1
		return nil
	}
	d, err := parseDuration(v)
	if err != nil || d <= 0 {
		return errors.New("want a positive duration, such as 30s or 5m, or off")
	}
	c.maintenance.interval = d
	return nil
}

// compactionRate parses a SIZE (per second), or unlimited.
func compactionRate(c *serveConfig, v string) error {
	if v == "unlimited" {
		c.maintenance.bytesPerSecond = -1
		return nil
	}
	if err := size(func(c *serveConfig) *int64 { return &c.maintenance.bytesPerSecond })(c, v); err != nil {
		return errors.New("want a size per second such as 64MiB, or unlimited")
	}
	return nil
}

// bytesIEC formats n bytes in B, KiB, MiB, GiB or TiB.
func bytesIEC(n int64) string {
	if n < 1024 && n > -1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	v, i := float64(n)/1024, 0
	for ; i < 3 && (v >= 1024 || v <= -1024); i++ {
		v /= 1024
	}
	return fmt.Sprintf("%.1f %s", v, [...]string{"KiB", "MiB", "GiB", "TiB"}[i])
}
