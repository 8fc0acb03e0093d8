package bench

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that runs leave no goroutine behind: writers, sampler,
// query runner, HTTP connections.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
