package main

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	flag "github.com/spf13/pflag"

	"github.com/dustin/go-humanize"

	"github.com/eventlogdb/eventlog/query/timespan"
)

// Every size and duration the CLI reads, in a flag, an EVENTLOG_ variable
// or the --config file, goes through parseSize or parseDuration, and every
// default prints through formatSize or formatDuration.

// sizeForms says what parseSize accepts, for error messages.
const sizeForms = "want a size such as 500MB, 1.5GiB, 64KiB or 1048576"

// parseSize parses a positive byte size with go-humanize: a number, with a
// fraction or not, and an optional unit, binary (KiB, MiB, GiB, TiB; also
// Ki, Mi, Gi, Ti) or decimal (KB, MB, GB, TB; also K, M, G, T), any case,
// a space allowed before it: 500MB, 1.5GiB, 64KiB, 1048576.
func parseSize(v string) (int64, error) {
	n, err := humanize.ParseBytes(strings.TrimSpace(v))
	if err != nil || n < 1 || n > math.MaxInt64/4 {
		return 0, fmt.Errorf("%q: %s", v, sizeForms)
	}
	return int64(n), nil
}

// sizeUnits are the units formatSize tries.
var sizeUnits = []struct {
	name string
	size int64
}{
	{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3},
}

// formatSize prints n in the largest unit that holds it exactly: 1GiB,
// 64MiB, 500MB, 1TB, 1536MiB; a plain number when none does.
func formatSize(n int64) string {
	best := -1
	for i, u := range sizeUnits {
		if n != 0 && n%u.size == 0 && (best < 0 || u.size > sizeUnits[best].size) {
			best = i
		}
	}
	if best < 0 {
		return fmt.Sprint(n)
	}
	return fmt.Sprintf("%d%s", n/sizeUnits[best].size, sizeUnits[best].name)
}

// sizeFlag is a flag holding a parseSize size (0: not given), printed by
// formatSize.
type sizeFlag int64

func (s *sizeFlag) String() string {
	if s == nil || *s == 0 {
		return ""
	}
	return formatSize(int64(*s))
}

// Type names the flag's argument in usage.
func (s *sizeFlag) Type() string { return "size" }

// Set parses a size.
func (s *sizeFlag) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return errors.New(sizeForms)
	}
	*s = sizeFlag(n)
	return nil
}

// parseDuration parses a non-negative duration as the query language does
// (timespan.ParseDuration): Go's units and d (24h) and w (7d): 500ms, 30s,
// 1h30m, 7d, 2w.
func parseDuration(v string) (time.Duration, error) {
	d, err := timespan.ParseDuration(strings.TrimSpace(v))
	if err != nil {
		return 0, fmt.Errorf("%q: want a duration such as 500ms, 30s, 15m, 7d or 2w", v)
	}
	return d, nil
}

// formatDuration prints d in weeks or days when it is a whole number of
// them, else as Go does without trailing zero units: 2w, 30d, 5m, 1h30m.
func formatDuration(d time.Duration) string {
	const day, week = 24 * time.Hour, 7 * 24 * time.Hour
	switch {
	case d == 0:
		return "0"
	case d%week == 0:
		return fmt.Sprintf("%dw", d/week)
	case d%day == 0:
		return fmt.Sprintf("%dd", d/day)
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// durationFlag is a flag holding a parseDuration duration, printed by
// formatDuration.
type durationFlag time.Duration

func (d *durationFlag) String() string {
	if d == nil || *d == 0 {
		return ""
	}
	return formatDuration(time.Duration(*d))
}

// Type names the flag's argument in usage.
func (d *durationFlag) Type() string { return "duration" }

// Set parses a duration.
func (d *durationFlag) Set(v string) error {
	n, err := parseDuration(v)
	if err != nil {
		return errors.New("want a duration such as 500ms, 30s, 15m, 7d or 2w")
	}
	*d = durationFlag(n)
	return nil
}

// durationVar defines a duration flag with default def, stored in p.
func durationVar(fs *flag.FlagSet, p *time.Duration, name string, def time.Duration, usage string) {
	*p = def
	fs.Var((*durationFlag)(p), name, usage)
}

// durationOpt defines a duration flag with default def.
func durationOpt(fs *flag.FlagSet, name string, def time.Duration, usage string) *time.Duration {
	p := new(time.Duration)
	durationVar(fs, p, name, def, usage)
	return p
}
