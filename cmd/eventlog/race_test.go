//go:build race

package main

// raceEnabled says this test binary was built with -race: binaries the
// tests build get it too, so that they reuse the packages already
// compiled for the test (and run under the race detector).
const raceEnabled = true
