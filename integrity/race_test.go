//go:build race

package integrity

// raceEnabled says this test binary was built with -race, whose
// instrumentation allocates where the plain build does not: crypto/sha256's
// AppendBinary (an append of a make the compiler otherwise elides) and
// sync.Pool, which drops items at random. Allocation counts are asserted
// in the plain build (.ci/run runs those tests without -race too).
const raceEnabled = true
