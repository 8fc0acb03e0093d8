package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	flag "github.com/spf13/pflag"

	"github.com/schollz/progressbar/v3"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/bench"
	"github.com/eventlogdb/eventlog/event"
)

const benchUsage = `usage: eventlog bench [flags]
       eventlog bench compare A.json B.json
       eventlog bench http [flags]   (issue 15's end-to-end HTTP benchmark: eventlog bench http --help)

Appends a workload to the embedded engine (in a temporary directory unless
--data is given) or to a server (--url, through POST /api/events/_bulk) and
prints what it measured: events/s and MB/s of JSON, append latency
percentiles, bytes on disk per event after the final seal, peak RSS, CPU
time, WAL fsyncs and, with --queries, query latencies. --json prints the
same as one JSON object; compare sets two such reports side by side.

flags:
`

func runBench(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "compare" {
		return runBenchCompare(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "http" {
		return runBenchHTTP(args[1:], stdout, stderr)
	}
	f, err := parseBenchFlags(args, stderr)
	if err != nil {
		return err
	}
	cfg, err := f.config()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	bar := newBenchProgress(stderr, cfg)
	cfg.Progress = bar.update
	rep, err := bench.Run(ctx, cfg)
	bar.finish()
	if rep == nil {
		return err
	}
	if perr := f.print(rep, stdout); perr != nil {
		return errors.Join(err, perr)
	}
	if errors.Is(err, context.Canceled) {
		return errors.New("interrupted: the report covers the events appended until then")
	}
	return err
}

// benchFlags are the flags of eventlog bench.
type benchFlags struct {
	fs                                  *flag.FlagSet
	data, url, apiKey, input, out, sync string
	seed                                int64
	events                              int64
	duration                            time.Duration
	batch, concurrency, pool            int
	rate, queries                       float64
	segmentMax                          sizeFlag
	json, prepare                       bool
	// Generator distributions.
	late, skew, eventRate float64
	maxLateness           time.Duration
	objects               int
}

func parseBenchFlags(args []string, stderr io.Writer) (*benchFlags, error) {
	f := &benchFlags{fs: flag.NewFlagSet("eventlog bench", flag.ContinueOnError)}
	fs := f.fs
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), benchUsage)
		fs.PrintDefaults()
	}
	fs.StringVar(&f.data, "data", "", "data directory of the embedded engine (default: a new temporary directory, removed afterwards)")
	fs.StringVar(&f.url, "url", "", "bench the eventlog server at this URL (http://HOST:PORT) instead of the embedded engine")
	fs.StringVar(&f.apiKey, "api-key", os.Getenv("EVENTLOG_API_KEY"), "with --url: the API key to send, a writer's (env EVENTLOG_API_KEY)")
	fs.StringVar(&f.input, "input", "", "append the events of this NDJSON file (cycled, timestamps moved on each cycle) instead of generated ones, which are all distinct")
	fs.Int64Var(&f.seed, "seed", 1, "seed of the generator: equal seeds give equal events")
	fs.Int64Var(&f.events, "events", 0, "events to append (default 1000000, or the --input file's count; with --duration, whichever comes first)")
	durationVar(fs, &f.duration, "duration", 0, "append for this long (e.g. 30s)")
	fs.IntVar(&f.batch, "batch", bench.DefaultBatch, "events per append (per _bulk request with --url)")
	fs.IntVar(&f.concurrency, "concurrency", bench.DefaultConcurrency, "writers, each appending one batch at a time")
	fs.StringVar(&f.sync, "sync", "always", "durability of the embedded engine: always, interval or none")
	fs.Float64Var(&f.rate, "rate", 0, "offer this many events/s (open loop: latency counts from when each batch was due); 0: as fast as the writers go")
	fs.Var(&f.segmentMax, "segment-max-bytes", "head size that seals into a segment, e.g. 16MiB (default: the engine's, 64MiB)")
	fs.Float64Var(&f.queries, "queries", 0, "run this many queries per second alongside ingest (a mix of page, count, terms, stats and saved-object queries)")
	fs.BoolVar(&f.prepare, "prepare", false, "with --url: make every _bulk body before the clock starts and only send them while timed, so the client's generator does not take the cores of a server on the same machine (holds every body in memory until sent)")
	fs.BoolVar(&f.json, "json", false, "print the report as one JSON object")
	fs.StringVar(&f.out, "out", "", "also write the report as a self-contained HTML page with charts to this file")
	fs.IntVar(&f.pool, "pool", 0, "removed: the generator makes every event distinct as the run appends it, so there is no pool to size")
	_ = fs.MarkHidden("pool")
	fs.Float64Var(&f.late, "late", bench.DefaultOutOfOrder, "generator: fraction of events whose @timestamp is moved back (out of order)")
	durationVar(fs, &f.maxLateness, "max-lateness", bench.DefaultMaxLateness, "generator: how far back a late event may be moved")
	fs.IntVar(&f.objects, "objects", bench.DefaultObjectPool, "generator: distinct saved objects (rules and connectors) events refer to")
	fs.Float64Var(&f.skew, "skew", bench.DefaultObjectSkew, "generator: Zipf exponent (> 1) of the saved-object draw; higher is more skewed")
	fs.Float64Var(&f.eventRate, "event-rate", 0, "generator: events per second of event time (how fast @timestamp advances); 0: the run's events spread over 30 days")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q: %w", fs.Arg(0), errUsage)
	}
	return f, f.check()
}

// check rejects flags out of range or that do not go together.
func (f *benchFlags) check() error {
	bad := func(format string, args ...any) error { return fmt.Errorf(format+": %w", append(args, errUsage)...) }
	switch {
	case f.events < 0 || f.duration < 0:
		return bad("--events and --duration cannot be negative")
	case f.batch < 1 || f.batch > 100_000:
		return bad("--batch must be between 1 and 100000")
	case f.concurrency < 1 || f.concurrency > 1024:
		return bad("--concurrency must be between 1 and 1024")
	case f.rate < 0 || f.queries < 0:
		return bad("--rate and --queries cannot be negative")
	case f.given("pool"):
		return bad("--pool is gone: every generated event is now distinct, made as the run appends it; drop the flag (--events sets how many)")
	case f.late < 0 || f.late > 1:
		return bad("--late must be between 0 and 1")
	case f.skew <= 1:
		return bad("--skew must be above 1")
	case f.objects < 1000 || f.eventRate < 0:
		return bad("--objects must be at least 1000 and --event-rate not negative")
	case f.url != "" && (f.given("data") || f.given("sync") || f.given("segment-max-bytes")):
		return bad("--data, --sync and --segment-max-bytes are the server's settings (eventlog serve --help), not the client's")
	case f.prepare && (f.url == "" || f.duration > 0 && f.events == 0):
		return bad("--prepare needs --url, and --events when --duration is given")
	case f.input != "" && f.givenAny("seed", "late", "max-lateness", "objects", "skew", "event-rate"):
		return bad("the generator's flags (--seed, --late, --skew, ...) do not apply to --input")
	}
	return nil
}

// given reports whether the flag name was on the command line.
func (f *benchFlags) given(name string) bool {
	set := false
	f.fs.Visit(func(fl *flag.Flag) { set = set || fl.Name == name })
	return set
}

func (f *benchFlags) givenAny(names ...string) bool {
	for _, n := range names {
		if f.given(n) {
			return true
		}
	}
	return false
}

// generatorConfig is the generator the flags describe.
func (f *benchFlags) generatorConfig() bench.GeneratorConfig {
	late := f.late
	if late == 0 {
		late = -1 // GeneratorConfig: negative is none, zero the default
	}
	rate := f.eventRate
	if rate == 0 {
		rate = bench.SpreadRate(f.events) // a --duration run: as many as the default --events
	}
	return bench.GeneratorConfig{
		Seed: f.seed, Rate: rate, OutOfOrder: late, MaxLateness: f.maxLateness,
		ObjectPool: f.objects, ObjectSkew: f.skew,
	}
}

// config is the run the flags describe, its workload made (or read).
func (f *benchFlags) config() (bench.Config, error) {
	policy, err := eventlog.ParseSyncPolicy(f.sync)
	if err != nil {
		return bench.Config{}, fmt.Errorf("--sync: %v: %w", err, errUsage)
	}
	cfg := bench.Config{
		Seed: f.seed, Dir: f.data, URL: f.url, APIKey: f.apiKey, Events: f.events, Duration: f.duration,
		Batch: f.batch, Concurrency: f.concurrency, Sync: policy, SegmentMaxBytes: int64(f.segmentMax),
		Rate: f.rate, QueryRate: f.queries, Prepare: f.prepare,
	}
	if f.input == "" {
		cfg.Workload = bench.GeneratedWorkload(f.generatorConfig())
		return cfg, nil
	}
	cfg.Workload, err = bench.ReadWorkloadFile(f.input, event.Limits{})
	if err != nil {
		return cfg, err
	}
	if cfg.Events == 0 && cfg.Duration == 0 {
		cfg.Events = int64(cfg.Workload.Len()) // the file once
	}
	return cfg, nil
}

// print writes the report to stdout (text or JSON) and the HTML page to
// --out.
func (f *benchFlags) print(rep *bench.Report, stdout io.Writer) error {
	if f.out != "" {
		if err := writeFileWith(f.out, rep.WriteHTML); err != nil {
			return err
		}
	}
	if f.json {
		return rep.WriteJSON(stdout)
	}
	return rep.WriteText(stdout)
}

// writeFileWith creates name and writes it with write.
func writeFileWith(name string, write func(io.Writer) error) error {
	out, err := os.Create(name)
	if err != nil {
		return err
	}
	return errors.Join(write(out), out.Close())
}

// benchProgress is the live line on stderr: events done (a bar towards
// --events), the current events/s, elapsed time and ETA. It shows only on
// a terminal.
type benchProgress struct {
	bar *progressbar.ProgressBar
}

func newBenchProgress(w io.Writer, cfg bench.Config) *benchProgress {
	total := cfg.Events
	if cfg.Duration > 0 || total == 0 {
		total = -1 // a spinner: the run ends by time
	}
	opts := append(progressOptions(w, "bench"),
		// The rate, elapsed time and ETA are the run's, in the
		// description: the bar's own estimates start off wild.
		progressbar.OptionSetPredictTime(false),
		progressbar.OptionSetElapsedTime(false),
		progressbar.OptionClearOnFinish())
	return &benchProgress{bar: progressbar.NewOptions64(total, opts...)}
}

func (p *benchProgress) update(pr bench.Progress) {
	desc := fmt.Sprintf("bench %7.0f events/s, elapsed %s", pr.Rate, pr.Elapsed.Round(time.Second))
	if eta := pr.ETA(); eta >= 0 {
		desc += ", ETA " + eta.Round(time.Second).String()
	}
	p.bar.Describe(desc)
	_ = p.bar.Set64(pr.Events)
}

func (p *benchProgress) finish() {
	_ = p.bar.Finish()
	_ = p.bar.Clear()
}

// runBenchCompare prints two reports' figures side by side.
func runBenchCompare(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eventlog bench compare", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: eventlog bench compare A.json B.json\n\n"+
			"Prints each figure of two `eventlog bench --json` reports side by side with the ratio B/A,\n"+
			"flagging the changes beyond run-to-run noise as better or WORSE.")
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return fmt.Errorf("want two report files: %w", errUsage)
	}
	a, err := readReportFile(fs.Arg(0))
	if err != nil {
		return err
	}
	b, err := readReportFile(fs.Arg(1))
	if err != nil {
		return err
	}
	return bench.WriteComparison(stdout, fs.Arg(0), fs.Arg(1), a, b, bench.Compare(a, b))
}

func readReportFile(name string) (*bench.Report, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := bench.ReadReport(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return r, nil
}
