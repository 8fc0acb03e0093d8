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
//	eventlog compact  [--data DIR | --url URL]        merge each day into as few segments as fit
//	eventlog retention [--data DIR --max-age D --max-bytes N | --url URL] [--dry-run]
//	                                                   drop the segments retention expires (or say which it would)
//	eventlog delete   [--data DIR | --url URL] --filter KQL [--start T] [--end T]
//	                                                   delete matching events; with --data also purge them from disk
//	eventlog backup   [--data DIR] --to DIR | --url URL --to NAME
//	                                                   copy the store as of one sequence number; incremental
//	eventlog restore  --from BACKUP [--data DIR]       copy a backup into a new data directory and verify it
//	eventlog keys     create --name N --role R [--space S]... [--expires D] | list | revoke ID  [--data DIR | --url URL]
//	                                                   API keys: the first one on a stopped store, later ones through a server
//	eventlog notice   [--url URL | --config FILE] [--format text|json]
//	                                                   what is collected, pseudonymised, who may read, how long it is kept
//	eventlog pseudonym reveal [--data DIR --key-file F | --url URL] [--field NAME] PSEUDONYM CANDIDATE...
//	                                                   which candidate value the pseudonym stands for, if any (audited)
//	eventlog version                                   the module version and commit of this binary (also --version)
//
// The command tree is cobra's (help, --version, completion, suggestions
// for a mistyped command); each command parses its flags with pflag,
// GNU-style and in any position among its arguments. --help prints a
// command's usage on stdout with exit status 0; a misuse prints one line
// and exits 2.
//
// With --url (or $EVENTLOG_URL), ingest, query, export, tail, compact,
// retention, delete, backup and keys work through a server's HTTP API instead of opening
// a data directory, and print what they print with --data; --api-key (or
// $EVENTLOG_API_KEY) is the key they send.
// retention, delete and backup work through a server's HTTP API instead of opening
// a data directory, and print what they print with --data. An https URL's
// certificate is verified against the system's roots, or against the CA
// certificates of --ca FILE (or $EVENTLOG_CA).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/eventlogdb/eventlog/internal/buildinfo"
	"github.com/spf13/cobra"
	flag "github.com/spf13/pflag"
)

// command is one subcommand: its name, arguments, one-line summary and
// entry point.
type command struct {
	name, args, summary string
	run                 func(args []string, stdin io.Reader, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "", "serve a data directory over HTTP until SIGINT or SIGTERM", runServe},
		{"ingest", "[FILE]", "load NDJSON events from a file or stdin, reporting bad lines and keeping the rest", runIngest},
		{"query", "", "print a page of events matching a KQL filter and time range, sorted, with aggregations", runQuery},
		{"export", "", "write every matching event as NDJSON, in order, in constant memory", runExport},
		{"tail", "", "print events as they are stored, like tail -f, until interrupted (--url: through a server's _tail)", runTail},
		{"find", "", "print events matching a time range, terms and refs as NDJSON", runFind},
		{"register", "PROVIDER ACTION...", "register a provider and its actions", runRegister},
		{"stats", "", "print the data directory's counters", runStats},
		{"inspect", "SEGMENT_FILE...", "describe segment files: footer, blocks, columns, postings", runInspect},
		{"verify", "", "check every checksum of a data directory (--chain: also every event against the Merkle tree and every signed head; --head HEAD.json --pubkey KEY: against a head kept elsewhere); exit 1 naming each problem", runVerify},
		{"verify-bundle", "FILE.tar", "check an evidence bundle (export --bundle) offline: the head's signature and every event's inclusion proof", runVerifyBundle},
		{"integrity", "pubkey|head|heads|proof ID|consistency FROM TO|compact", "the Merkle tree over the log: the public key, signed heads (--sign: sign one now), an event's inclusion proof, a consistency proof; compact packs wholly erased ranges of the leaf log to their subtree hashes (store stopped)", runIntegrity},
		{"repair", "", "salvage damaged WAL and segments, keeping sequence numbers; print what was lost", runRepair},
		{"compact", "", "merge each day's segments into as few as fit now (or have a server do it, --url) and print what was merged", runCompact},
		{"delete", "", "delete the events a KQL filter and time range select, and purge them from disk (--url: through a server)", runDelete},
		{"retention", "", "drop the segments past --max-age or --max-bytes (or a server's policy, --url); --dry-run lists them", runRetention},
		{"backup", "", "copy a live store, as of one sequence number, to a directory on another disk (--url: under a server's --backup-dir)", runBackup},
		{"keys", "create|list|revoke", "manage API keys: create (the secret is shown once), list, revoke; on a stopped store (--data) or a running server (--url, admin key)", runKeys},
		{"holds", "create|list|release NAME", "incident holds: keep the events of a window (KQL filter, start, end) against retention until released; on a stopped store (--data) or a running server (--url, admin key)", runHolds},
		{"object-store", "verify|pull DIR", "check that every object the latest manifest published in a bucket names is there, intact (verify); restore a data directory from the bucket (pull)", runObjectStore},
		{"restore", "", "copy a backup into a new data directory and verify it", runRestore},
		{"bench", "| compare A.json B.json", "append a workload to the engine or a server and report throughput, latency, disk and CPU", runBench},
		{"notice", "", "print the privacy notice of a server (--url) or of serve's settings: what is collected, what is pseudonymised, who may read, how long it is kept", runNotice},
		{"pseudonym", "reveal PSEUDONYM CANDIDATE...", "check candidate values against a pseudonym with the key: the only way back from a pseudonym to a person; recorded as an audit event in the store (--data, stopped) or by its server (--url)", runPseudonym},
		{"version", "", "print the module version and commit this binary was built from (also --version)", runVersion},
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Errors that end a command with a given exit status. A wrapped errUsage
// is a misuse: its message is printed and the status is 2. errReported
// means the command has printed what went wrong (ingest's bad lines) and
// exits 1.
var (
	errUsage    = errors.New("usage")
	errReported = errors.New("reported")
)

// helpShown is what parseFlags returns for --help: the command's usage,
// printed on stdout with exit status 0.
type helpShown struct{ usage string }

func (h *helpShown) Error() string { return "help requested" }

// run runs the command line args and returns the exit status. The command
// tree is cobra's: it finds the subcommand, answers eventlog --help, help
// COMMAND, --version and completion; each subcommand parses its own flags
// with pflag (cobra's flag package), so flags go before or after its
// arguments, and --help prints its usage in one style.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := rootCommand(stdin, stdout, stderr)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if len(args) == 0 {
		root.SetOut(stderr)
		usage(root)
		return 2
	}
	cmd, err := root.ExecuteC()
	return exitStatus(cmd.Name(), err, stdout, stderr)
}

// rootCommand is the eventlog command with a subcommand per commands()
// entry.
func rootCommand(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "eventlog",
		Short:         "an event store: serve it over HTTP, load events into it, query and inspect it",
		Version:       buildinfo.Read().String(),
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return fmt.Errorf("%v (see 'eventlog --help'): %w", err, errUsage)
	})
	for _, c := range commands() {
		root.AddCommand(&cobra.Command{
			Use:                c.name + " " + c.args,
			Short:              c.summary,
			DisableFlagParsing: true, // the command's own pflag set parses them
			RunE: func(_ *cobra.Command, args []string) error {
				return c.run(args, stdin, stdout, stderr)
			},
		})
	}
	return root
}

// exitStatus prints a command's error, or its help, and returns the
// process's exit status.
func exitStatus(name string, err error, stdout, stderr io.Writer) int {
	var help *helpShown
	switch {
	case err == nil:
		return 0
	case errors.As(err, &help):
		fmt.Fprint(stdout, help.usage)
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "eventlog %s: %s\n", name, strings.TrimSuffix(err.Error(), ": "+errUsage.Error()))
		return 2
	case errors.Is(err, errReported):
		return 1
	case strings.HasPrefix(err.Error(), "unknown command"):
		fmt.Fprintf(stderr, "eventlog: %v\nRun 'eventlog --help' for the commands.\n", err)
		return 2
	}
	fmt.Fprintf(stderr, "eventlog %s: %s\n", name, cliMessage(err))
	return 1
}

// usage prints the root command's help.
func usage(root *cobra.Command) {
	_ = root.Help()
}

// newFlags makes a subcommand's flag set with the shared --data flag; its
// usage is the command's synopsis, summary and flags.
func newFlags(name string, _ io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("eventlog "+name, flag.ContinueOnError)
	fs.Usage = func() { commandUsage(fs, name) }
	data := fs.String("data", envOr("EVENTLOG_DATA", "./data"), "data directory (env EVENTLOG_DATA)")
	return fs, data
}

// commandUsage prints the usage of the command name in the style every
// command shares: synopsis, summary, flags.
func commandUsage(fs *flag.FlagSet, name string) {
	w := fs.Output()
	for _, c := range commands() {
		if c.name == name {
			fmt.Fprintf(w, "usage: eventlog %s\n\n%s\n", strings.TrimSpace(c.name+" [flags] "+c.args), c.summary)
		}
	}
	fmt.Fprintf(w, "\nflags:\n%s", fs.FlagUsages())
}

// parseFlags parses args into fs; flags may come before or after the
// arguments ("--" ends them). --help returns the usage as a *helpShown;
// a bad flag a short usage error (exit status 2).
func parseFlags(fs *flag.FlagSet, args []string) error {
	var help strings.Builder
	fs.SetOutput(&help)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return &helpShown{usage: help.String()}
	case err != nil:
		return fmt.Errorf("%v (see '%s --help'): %w", err, fs.Name(), errUsage)
	}
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
