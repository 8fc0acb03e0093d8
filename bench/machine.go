package bench

import (
	"runtime"
)

// Machine describes where a run ran, so reports from different machines
// are not mistaken for a regression.
type Machine struct {
	OS       string `json:"os"`
	Arch     string `json:"arch"`
	Go       string `json:"go"`
	CPUs     int    `json:"cpus"`
	CPUModel string `json:"cpu_model,omitempty"`
	// Filesystem is the type of the filesystem holding the data directory
	// (embedded runs on Linux), e.g. "ext4".
	Filesystem string `json:"filesystem,omitempty"`
	// Load1Start and Load1End are the one-minute load average when the run
	// began and ended (Linux): other work on the machine skews every figure.
	Load1Start float64 `json:"load1_start"`
	Load1End   float64 `json:"load1_end"`
}

// thisMachine describes this machine, but for Filesystem and Load1End.
func thisMachine() Machine {
	return Machine{
		OS: runtime.GOOS, Arch: runtime.GOARCH, Go: runtime.Version(), CPUs: runtime.NumCPU(),
		CPUModel: cpuModel(), Load1Start: loadAverage(),
	}
}
