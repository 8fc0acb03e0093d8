//go:build !unix

package eventlog_test

import "time"

// processCPU is unknown here: benchmarks report zero CPU time.
func processCPU() time.Duration { return 0 }
