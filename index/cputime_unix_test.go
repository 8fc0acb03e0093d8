//go:build unix

package index

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time (user and system) this process has used:
// benchmarks report it beside wall time, which a busy machine stretches.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
