// Package buildinfo says which build of eventlog is running: the module
// version and the commit it was built from, as the Go toolchain records
// them in the binary (runtime/debug.ReadBuildInfo). The CLI's version
// command and the server's eventlog_build_info metric both read it here.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Info is what the binary records of its build.
type Info struct {
	// Version is the main module's version: a tag such as v1.2.0 for a
	// binary built by go install MODULE@VERSION, "(devel)" for one built in
	// a checkout.
	Version string
	// Revision is the commit the binary was built from ("unknown" when the
	// build did not record it, as go test and go run do not); Modified says
	// the work tree had changes on top of it.
	Revision string
	Modified bool
	// GoVersion is the toolchain that built the binary.
	GoVersion string
}

// Read returns the running binary's build information.
func Read() Info {
	in := Info{Version: "(devel)", Revision: "unknown", GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return in
	}
	if v := bi.Main.Version; v != "" {
		in.Version = v
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Revision = s.Value
		case "vcs.modified":
			in.Modified = s.Value == "true"
		}
	}
	return in
}

// String is the one line the version command prints:
// "eventlog VERSION (commit REVISION[, modified], GOVERSION)".
func (in Info) String() string {
	rev := in.Revision
	if in.Modified {
		rev += ", modified"
	}
	return fmt.Sprintf("eventlog %s (commit %s, %s)", in.Version, rev, in.GoVersion)
}
