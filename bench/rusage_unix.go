//go:build unix

package bench

import (
	"runtime"
	"syscall"
	"time"
)

// usage is this process's CPU time so far and peak resident set size.
type usage struct {
	user, sys time.Duration
	peakRSS   int64
}

// selfUsage reads getrusage(RUSAGE_SELF); zero when it fails.
func selfUsage() usage {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return usage{}
	}
	// ru_maxrss is in bytes on Darwin, in KiB elsewhere.
	rss := int64(ru.Maxrss)
	if runtime.GOOS != "darwin" && runtime.GOOS != "ios" {
		rss *= 1024
	}
	return usage{
		user:    time.Duration(ru.Utime.Nano()),
		sys:     time.Duration(ru.Stime.Nano()),
		peakRSS: rss,
	}
}
