package memory

import (
	"math"
	"runtime/debug"
	"sync"
)

// goLimitMu serializes SetGoLimit and its undo: the runtime's limit is one
// per process, shared by every store in it.
var goLimitMu sync.Mutex

// SetGoLimit sets the Go runtime's soft memory limit
// (runtime/debug.SetMemoryLimit) to limit bytes, unless one is set already
// (by GOMEMLIMIT, the embedding program or another store) or limit <= 0,
// and reports whether it did. undo puts the previous limit back if the
// runtime's is still the one set here; it does nothing otherwise.
func SetGoLimit(limit int64) (set bool, undo func()) {
	goLimitMu.Lock()
	defer goLimitMu.Unlock()
	if limit <= 0 || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		return false, func() {}
	}
	debug.SetMemoryLimit(limit)
	return true, func() {
		goLimitMu.Lock()
		defer goLimitMu.Unlock()
		if debug.SetMemoryLimit(-1) == limit {
			debug.SetMemoryLimit(math.MaxInt64)
		}
	}
}
