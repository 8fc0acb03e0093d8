//go:build !unix

package server

import "time"

// cpuTime is unknown here: the cpu-µs/event metric reads 0.
func cpuTime() time.Duration { return 0 }
