//go:build !race

package integrity

// raceEnabled says this test binary was built with -race (race_test.go).
const raceEnabled = false
