package destination

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/eventlogdb/eventlog/query/filter"
)

// Config describes one destination. Its JSON form is the API's request
// body and the config file's entry.
type Config struct {
	Name string `json:"name" yaml:"name"`
	// URL receives the batches (http or https).
	URL string `json:"url" yaml:"url"`
	// Filter keeps the matching events (KQL); "" sends everything.
	Filter string `json:"filter,omitempty" yaml:"filter"`
	// Secret signs every request (X-Eventlog-Signature); never returned by
	// the API.
	Secret string `json:"secret,omitempty" yaml:"secret"`
	// BatchSize is the most events per request. Zero: 1,000.
	BatchSize int `json:"batch_size,omitempty" yaml:"batch_size"`
	// MaxDelay is how long the first event of a batch waits for others.
	// Zero: 200 ms.
	MaxDelay Duration `json:"max_delay,omitempty" yaml:"max_delay"`
	// Format is "ndjson" (default) or "json" (one array).
	Format string `json:"format,omitempty" yaml:"format"`
	// Headers are added to every request (e.g. a static token).
	Headers map[string]string `json:"headers,omitempty" yaml:"headers"`
	// MaxAttempts is how many times a batch refused with a 4xx other than
	// 413 and 429 is tried before the destination parks. Zero: 5.
	MaxAttempts int `json:"max_attempts,omitempty" yaml:"max_attempts"`
	// Start is where a new destination begins: "now" (default: events
	// stored from its creation on) or "beginning" (every stored event).
	// It has no effect once the destination has a cursor.
	Start string `json:"start,omitempty" yaml:"start"`
}

// Defaults.
const (
	DefaultBatchSize   = 1000
	DefaultMaxDelay    = 200 * time.Millisecond
	DefaultMaxAttempts = 5
	// MaxBatchSize bounds BatchSize.
	MaxBatchSize = 100_000
)

// ErrInvalid marks a config that cannot be used; the message says why.
var ErrInvalid = errors.New("invalid destination")

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// withDefaults checks c and fills its zero fields.
func (c Config) withDefaults() (Config, error) {
	bad := func(format string, args ...any) (Config, error) {
		return c, fmt.Errorf("%w: %s: %s", ErrInvalid, c.Name, fmt.Sprintf(format, args...))
	}
	if !validName.MatchString(c.Name) {
		return c, fmt.Errorf("%w: name %q: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", ErrInvalid, c.Name)
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return bad("url %q: want an absolute http or https URL", c.URL)
	}
	if _, err := filter.Parse(c.Filter); err != nil {
		return bad("%v", err)
	}
	switch {
	case c.BatchSize == 0:
		c.BatchSize = DefaultBatchSize
	case c.BatchSize < 0 || c.BatchSize > MaxBatchSize:
		return bad("batch_size %d is outside 1..%d", c.BatchSize, MaxBatchSize)
	}
	switch {
	case c.MaxDelay == 0:
		c.MaxDelay = Duration(DefaultMaxDelay)
	case c.MaxDelay < 0:
		return bad("max_delay %v is negative", time.Duration(c.MaxDelay))
	}
	switch c.Format {
	case "":
		c.Format = "ndjson"
	case "ndjson", "json":
	default:
		return bad("format %q: want ndjson or json", c.Format)
	}
	switch c.Start {
	case "":
		c.Start = "now"
	case "now", "beginning":
	default:
		return bad("start %q: want now or beginning", c.Start)
	}
	switch {
	case c.MaxAttempts == 0:
		c.MaxAttempts = DefaultMaxAttempts
	case c.MaxAttempts < 0:
		return bad("max_attempts %d is negative", c.MaxAttempts)
	}
	for k := range c.Headers {
		if http.CanonicalHeaderKey(k) == "" || !validHeader.MatchString(k) {
			return bad("header %q is not a valid header name", k)
		}
	}
	return c, nil
}

var validHeader = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// Duration is a time.Duration that reads and writes as text ("250ms").
type Duration time.Duration

// MarshalText writes the duration as Go writes it.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads a Go duration ("250ms", "2s").
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("duration %q: %w", b, err)
	}
	*d = Duration(v)
	return nil
}
