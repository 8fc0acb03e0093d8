package buildinfo

import (
	"runtime"
	"testing"
)

func TestReadInATestBinary(t *testing.T) {
	in := Read()
	// A test binary records no module version and no commit.
	if in.Version != "(devel)" || in.GoVersion != runtime.Version() || in.Revision == "" {
		t.Fatalf("Read() = %+v", in)
	}
}

func TestString(t *testing.T) {
	for in, want := range map[Info]string{
		{Version: "v1.2.0", Revision: "abc123", GoVersion: "go1.26.0"}:                  "eventlog v1.2.0 (commit abc123, go1.26.0)",
		{Version: "(devel)", Revision: "abc123", Modified: true, GoVersion: "go1.26.0"}: "eventlog (devel) (commit abc123, modified, go1.26.0)",
	} {
		if got := in.String(); got != want {
			t.Errorf("%+v: %q, want %q", in, got, want)
		}
	}
}
