package bench

import "time"

// GeneratorConfig configures a Generator. Every field's zero value selects
// the documented default.
type GeneratorConfig struct {
	// Seed selects the sequence; equal configs give equal sequences.
	Seed int64
	// Start is the first @timestamp; zero means 2026-01-01T00:00:00Z.
	Start time.Time
	// Rate is events per second of event time: timestamps advance by an
	// exponentially distributed gap with mean 1/Rate. Zero means 1000.
	Rate float64
	// OutOfOrder is the fraction of events whose timestamp is moved back by
	// up to MaxLateness. Zero means 0.05; a negative value means none.
	OutOfOrder float64
	// MaxLateness bounds how far a late event is moved back. Zero means 5m.
	MaxLateness time.Duration
	// ObjectPool is the number of distinct saved-object ids (rules and
	// connectors, one in eight a connector). Zero means 100_000; values
	// below 8 are raised to 8.
	ObjectPool int
	// ObjectSkew is the Zipf s parameter (> 1) with which ids are drawn from
	// the pool. Zero (or any value <= 1) means 1.2.
	ObjectSkew float64
}

// Defaults of GeneratorConfig.
const (
	DefaultRate        = 1000
	DefaultOutOfOrder  = 0.05
	DefaultMaxLateness = 5 * time.Minute
	DefaultObjectPool  = 100_000
	DefaultObjectSkew  = 1.2
)

// DefaultStart is the first @timestamp when GeneratorConfig.Start is zero.
var DefaultStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// withDefaults returns cfg with every zero field replaced by its default.
func (cfg GeneratorConfig) withDefaults() GeneratorConfig {
	if cfg.Start.IsZero() {
		cfg.Start = DefaultStart
	}
	if cfg.Rate <= 0 {
		cfg.Rate = DefaultRate
	}
	switch {
	case cfg.OutOfOrder == 0:
		cfg.OutOfOrder = DefaultOutOfOrder
	case cfg.OutOfOrder < 0:
		cfg.OutOfOrder = 0
	}
	if cfg.MaxLateness <= 0 {
		cfg.MaxLateness = DefaultMaxLateness
	}
	if cfg.ObjectPool == 0 {
		cfg.ObjectPool = DefaultObjectPool
	}
	cfg.ObjectPool = max(cfg.ObjectPool, 8)
	if cfg.ObjectSkew <= 1 {
		cfg.ObjectSkew = DefaultObjectSkew
	}
	return cfg
}
