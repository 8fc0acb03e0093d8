package bench

import "time"

// GeneratorConfig configures a Generator. Every field's zero value selects
// the documented default.
type GeneratorConfig struct {
	// Seed selects the sequence; equal configs give equal sequences.
	Seed int64
	// Start is the first @timestamp; zero means 2026-01-01T00:00:00Z.
	Start time.Time
	// Rate is events per second of event time: event i's in-order
	// timestamp is drawn uniformly from [i/Rate, (i+1)/Rate) seconds after
	// Start. Zero means 1000; SpreadRate spreads a run over DefaultSpan.
	Rate float64
	// OutOfOrder is the fraction of events whose timestamp is moved back to
	// before the previous event's, by 1ms to MaxLateness more. Zero means
	// 0.02; a negative value means none.
	OutOfOrder float64
	// MaxLateness bounds how far a late event is moved back. Zero means 5s.
	MaxLateness time.Duration
	// ObjectPool is the number of distinct saved-object ids, split by type
	// (see objectTypes: 60% rules, 12.5% connectors, ...). Zero means
	// 100_000; values below 1000 are raised to 1000.
	ObjectPool int
	// ObjectSkew is the Zipf s parameter (> 1) with which ids are drawn from
	// the pool of its type. Zero (or any value <= 1) means 1.1.
	ObjectSkew float64
}

// Defaults of GeneratorConfig.
const (
	DefaultRate        = 1000
	DefaultOutOfOrder  = 0.02
	DefaultMaxLateness = 5 * time.Second
	DefaultObjectPool  = 100_000
	DefaultObjectSkew  = 1.1
	// DefaultSpan is the stretch of event time a bench run's events cover
	// (see SpreadRate).
	DefaultSpan = 30 * 24 * time.Hour
)

// SpreadRate is the Rate that spreads n events over DefaultSpan (n <= 0:
// DefaultEvents).
func SpreadRate(n int64) float64 {
	if n <= 0 {
		n = DefaultEvents
	}
	return float64(n) / DefaultSpan.Seconds()
}

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
	cfg.ObjectPool = max(cfg.ObjectPool, minObjectPool)
	if cfg.ObjectSkew <= 1 {
		cfg.ObjectSkew = DefaultObjectSkew
	}
	return cfg
}
