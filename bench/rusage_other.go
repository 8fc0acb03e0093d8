//go:build !unix

package bench

import "time"

// usage is this process's CPU time so far and peak resident set size.
type usage struct {
	user, sys time.Duration
	peakRSS   int64
}

// selfUsage is not implemented off Unix: the report shows zeros.
func selfUsage() usage { return usage{} }
