// Command eventlog is the eventlog binary: it loads events into a data
// directory, queries them, and shows what the directory holds.
//
//	eventlog ingest   [--data DIR] [FILE]     load NDJSON events (stdin by default)
//	eventlog find     [--data DIR] [flags]    print matching events as NDJSON
//	eventlog register [--data DIR] PROVIDER ACTION...
//	eventlog stats    [--data DIR]
//	eventlog inspect  SEGMENT_FILE...
//	eventlog verify   [--data DIR]
//	eventlog repair   [--data DIR]
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// command is one subcommand: its name, one-line summary and entry point.
type command struct {
	name, summary string
	run           func(args []string, stdin io.Reader, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"ingest", "load NDJSON events from a file or stdin (all or nothing)", runIngest},
		{"find", "print events matching a time range, terms and refs as NDJSON", runFind},
		{"register", "register a provider and its actions", runRegister},
		{"stats", "print the data directory's counters", runStats},
		{"inspect", "describe segment files: footer, blocks, columns, postings", runInspect},
		{"verify", "check every checksum of a data directory; exit 1 naming each problem", runVerify},
		{"repair", "salvage damaged WAL and segments, keeping sequence numbers; print what was lost", runRepair},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// errUsage marks an error already explained by a flag set's usage output.
var errUsage = errors.New("usage")

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		return 2
	}
	for _, c := range commands() {
		if c.name == args[0] {
			err := c.run(args[1:], stdin, stdout, stderr)
			switch {
			case err == nil:
				return 0
			case errors.Is(err, errUsage), errors.Is(err, flag.ErrHelp):
				return 2
			default:
				fmt.Fprintf(stderr, "eventlog %s: %v\n", c.name, err)
				return 1
			}
		}
	}
	fmt.Fprintf(stderr, "eventlog: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: eventlog COMMAND [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'eventlog COMMAND --help' for a command's flags.")
}

// newFlags makes a subcommand's flag set with the shared --data flag.
func newFlags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("eventlog "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", envOr("EVENTLOG_DATA", "./data"), "data directory (env EVENTLOG_DATA)")
	return fs, data
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
