// Command eventlog is the eventlog binary: it serves a data directory over
// HTTP, loads events into it, queries them, and shows what the directory
// holds.
//
//	eventlog serve    [--data DIR] [--addr HOST:PORT] [--config FILE]
//	                                                   the HTTP API, until SIGINT or SIGTERM
//	eventlog ingest   [--data DIR | --url URL] [FILE]  load NDJSON events (stdin by default), keeping the valid lines
//	eventlog query    [--data DIR | --url URL] [flags] a page of matching events (KQL filter, time range, sort, aggregations)
//	eventlog export   [--data DIR | --url URL] [flags] every matching event as NDJSON, in order
//	eventlog tail     [--data DIR | --url URL] [--filter KQL] [--from SEQ|beginning|now] [--format ndjson|table]
//	                                                   print events as they are stored, like tail -f, until SIGINT
//	eventlog find     [--data DIR] [flags]             print matching events as NDJSON (term filters)
//	eventlog register [--data DIR] PROVIDER ACTION...
//	eventlog stats    [--data DIR]
//	eventlog inspect  SEGMENT_FILE...
//	eventlog verify   [--data DIR]
//	eventlog repair   [--data DIR]
//	eventlog compact  [--data DIR | --url URL]        merge small segments now
//	eventlog retention [--data DIR --max-age D --max-bytes N | --url URL] [--dry-run]
//	                                                   drop the segments retention expires (or say which it would)
//	eventlog delete   [--data DIR | --url URL] --filter KQL [--start T] [--end T]
//	                                                   delete matching events; with --data also purge them from disk
//	eventlog backup   [--data DIR] --to DIR | --url URL --to NAME
//	                                                   copy the store as of one sequence number; incremental
//	eventlog restore  --from BACKUP [--data DIR]       copy a backup into a new data directory and verify it
//	eventlog version                                   the module version and commit of this binary (also --version)
//
// With --url (or $EVENTLOG_URL), ingest, query, export, tail, compact,
// retention, delete and backup work through a server's HTTP API instead of opening
// a data directory, and print what they print with --data.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// command is one subcommand: its name, one-line summary and entry point.
type command struct {
	name, summary string
	run           func(args []string, stdin io.Reader, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "serve a data directory over HTTP until SIGINT or SIGTERM", runServe},
		{"ingest", "load NDJSON events from a file or stdin, reporting bad lines and keeping the rest", runIngest},
		{"query", "print a page of events matching a KQL filter and time range, sorted, with aggregations", runQuery},
		{"export", "write every matching event as NDJSON, in order, in constant memory", runExport},
		{"tail", "print events as they are stored, like tail -f, until interrupted (--url: through a server's _tail)", runTail},
		{"find", "print events matching a time range, terms and refs as NDJSON", runFind},
		{"register", "register a provider and its actions", runRegister},
		{"stats", "print the data directory's counters", runStats},
		{"inspect", "describe segment files: footer, blocks, columns, postings", runInspect},
		{"verify", "check every checksum of a data directory; exit 1 naming each problem", runVerify},
		{"repair", "salvage damaged WAL and segments, keeping sequence numbers; print what was lost", runRepair},
		{"compact", "merge small segments now (or have a server do it, --url) and print what was merged", runCompact},
		{"delete", "delete the events a KQL filter and time range select, and purge them from disk (--url: through a server)", runDelete},
		{"retention", "drop the segments past --max-age or --max-bytes (or a server's policy, --url); --dry-run lists them", runRetention},
		{"backup", "copy a live store, as of one sequence number, to a directory on another disk (--url: under a server's --backup-dir)", runBackup},
		{"restore", "copy a backup into a new data directory and verify it", runRestore},
		{"bench", "append a workload to the engine or a server and report throughput, latency, disk and CPU", runBench},
		{"version", "print the module version and commit this binary was built from (also --version)", runVersion},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Errors that end a command with a given exit status. errUsage alone is
// already explained by a flag set's usage output; wrapped, its message is
// printed and the status is 2. errReported means the command has printed
// what went wrong (ingest's bad lines) and exits 1.
var (
	errUsage    = errors.New("usage")
	errReported = errors.New("reported")
)

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		return 2
	}
	if args[0] == "--version" {
		args[0] = "version"
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return exitStatus(c.name, c.run(args[1:], stdin, stdout, stderr), stderr)
		}
	}
	fmt.Fprintf(stderr, "eventlog: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// exitStatus prints a command's error, unless already explained, and
// returns the process's exit status.
func exitStatus(name string, err error, stderr io.Writer) int {
	switch {
	case err == nil:
		return 0
	case err == errUsage, errors.Is(err, flag.ErrHelp):
		return 2
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "eventlog %s: %s\n", name, strings.TrimSuffix(err.Error(), ": "+errUsage.Error()))
		return 2
	case errors.Is(err, errReported):
		return 1
	}
	fmt.Fprintf(stderr, "eventlog %s: %s\n", name, cliMessage(err))
	return 1
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

// parseFlags parses args into fs. The flag package has already printed
// a bad flag's error and the usage, so the error returned is errUsage
// (exit status 2) or flag.ErrHelp.
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		return errUsage
	}
	return err
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
