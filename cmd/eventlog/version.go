package main

import (
	"fmt"
	"io"

	"github.com/eventlogdb/eventlog/internal/buildinfo"
)

// runVersion prints which build this binary is: module version, commit and
// Go version, as /metrics' eventlog_build_info says them.
func runVersion(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, _ := newFlags("version", stderr)
	fs.MarkHidden("data")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: %w", fs.Arg(0), errUsage)
	}
	_, err := fmt.Fprintln(stdout, buildinfo.Read())
	return err
}
