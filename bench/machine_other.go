//go:build !linux

package bench

// cpuModel, loadAverage and filesystemType are only known on Linux.
func cpuModel() string               { return "" }
func loadAverage() float64           { return 0 }
func filesystemType(_ string) string { return "" }
