package main

import (
	"testing"

	"github.com/eventlogdb/eventlog/internal/buildinfo"
)

func TestVersion(t *testing.T) {
	want := buildinfo.Read().String() + "\n"
	for _, args := range [][]string{{"version"}, {"--version"}} {
		if code, out, errs := runCLI(t, "", args...); code != 0 || out != want || errs != "" {
			t.Errorf("%v: exit %d, %q, stderr %q; want %q", args, code, out, errs, want)
		}
	}
}
