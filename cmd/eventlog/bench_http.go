package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"text/tabwriter"
	"time"

	flag "github.com/spf13/pflag"

	"github.com/eventlogdb/eventlog/bench"
)

const benchHTTPUsage = `usage: eventlog bench http [flags]

Issue 15's end-to-end benchmark. Starts ` + "`eventlog serve --sync always`" + ` on an
empty data directory (this binary, or --bin), ingests --events generated
events (every one distinct) with --clients concurrent _bulk clients in
batches of --batch until a count sees them all, then runs the issue's
queries over HTTP, each answer checked against the generator's own
expectation, and times each --runs times warm (with --settle, once the
server has sealed what it held in memory). Reports events/s, the
server's peak RSS and (on Linux) the peaks of its anonymous memory and of
its mapped file pages during the ingest and during the queries, bytes on
disk per event (after the server's final seal, by column family) and each
query's first latency (before anything warmed the server's caches for it),
median and p99.

flags:
`

// benchHTTPFlags are the flags of eventlog bench http.
type benchHTTPFlags struct {
	cfg        bench.SuiteConfig
	bin, data  string
	serveFlags []string
	json       bool
	rest       bool
}

// benchRestLimit is how long bench http --rest waits for the server's
// background merges: about a minute and a half is enough at 2M events
// (29 cold days).
const benchRestLimit = 10 * time.Minute

func parseBenchHTTPFlags(args []string) (*benchHTTPFlags, error) {
	f := &benchHTTPFlags{}
	fs := flag.NewFlagSet("eventlog bench http", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), benchHTTPUsage)
		fs.PrintDefaults()
	}
	fs.Int64Var(&f.cfg.Events, "events", bench.DefaultSuiteEvents, "events to ingest")
	fs.IntVar(&f.cfg.Batch, "batch", bench.DefaultSuiteBatch, "events per _bulk request")
	fs.IntVar(&f.cfg.Clients, "clients", bench.DefaultSuiteClients, "concurrent _bulk clients")
	fs.BoolVar(&f.cfg.ES, "es", false, "ingest through the Elasticsearch-compatible /es/_bulk (a create action line before each event) instead of /api/events/_bulk")
	fs.IntVar(&f.cfg.Runs, "runs", bench.DefaultSuiteRuns, "timed runs of each query, after a checked one")
	fs.BoolVar(&f.cfg.Settle, "settle", false, "before the queries, have the server seal every event it holds in memory (POST /api/_roll; what --segment-idle does by itself once ingest pauses), so they measure a settled server rather than one just done ingesting")
	fs.BoolVar(&f.cfg.Prepare, "prepare", true, "make every _bulk body before the ingest's clock starts, so that the client only sends while timed and its generator does not take the cores of the server it measures (--prepare=false: generate while sending; holds about 760 bytes an event in the client's memory until sent)")
	fs.Int64Var(&f.cfg.Seed, "seed", 1, "seed of the generator")
	fs.StringVar(&f.bin, "bin", "", "eventlog binary that serves (default: this one)")
	fs.StringVar(&f.data, "data", "", "the server's data directory, which must not hold events (default: a new temporary directory, removed afterwards)")
	fs.StringArrayVar(&f.serveFlags, "serve-flag", nil, "a flag for eventlog serve, e.g. --serve-flag=--pprof-addr=127.0.0.1:6060 (repeatable)")
	fs.BoolVar(&f.json, "json", false, "print the report as one JSON object")
	fs.BoolVar(&f.rest, "rest", false, "after the queries, wait (up to 10 minutes) until the server's background merges are done and report the disk then too: what the store keeps at rest, beside what it held as the queries ended")
	if err := parseFlags(fs, args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected argument %q: %w", fs.Arg(0), errUsage)
	case f.cfg.Events < 1 || f.cfg.Batch < 1 || f.cfg.Clients < 1 || f.cfg.Runs < 1:
		return nil, fmt.Errorf("--events, --batch, --clients and --runs must be at least 1: %w", errUsage)
	}
	return f, nil
}

func runBenchHTTP(args []string, stdout, stderr io.Writer) error {
	f, err := parseBenchHTTPFlags(args)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	dir, cleanup, err := benchDataDir(f.data)
	if err != nil {
		return err
	}
	defer cleanup()
	srv, err := startBenchServer(f.bin, dir, f.serveFlags)
	if err != nil {
		return err
	}
	f.cfg.URL = srv.url
	f.cfg.Log = func(s string) { fmt.Fprintln(stderr, "bench http:", s) }
	mem := startMemorySampler(srv.pid(), benchMemoryEvery)
	f.cfg.Phase = mem.enter
	bar := newBenchProgress(stderr, bench.Config{Events: f.cfg.Events})
	f.cfg.Progress = bar.update
	rep, err := bench.RunSuite(ctx, f.cfg)
	bar.finish()
	phases := mem.finish()
	var rest benchRest
	if err == nil && f.rest {
		rest, err = waitBenchRest(ctx, f, srv.url, dir, rep)
	}
	peak, serr := srv.stop()
	if err = errors.Join(err, serr); rep == nil || err != nil {
		return err
	}
	rep.Server = &bench.SuiteServer{PeakRSSBytes: peak, Memory: phases,
		EndDisk: rest.endDisk, RestSeconds: rest.took.Seconds(), PendingMerges: rest.pending}
	if rep.Server.Disk, err = bench.StoreDisk(dir, rep.Ingest.Events, rep.Ingest.JSONBytes); err != nil {
		return err
	}
	rep.Server.Layout = rep.Server.Disk.Layout
	if f.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return writeSuiteText(stdout, dir, rep)
}

// benchRest is what bench http --rest measured: the disk as the queries
// ended, how long the server's background merges then took and how many
// were still pending when the wait ended (0 at rest).
type benchRest struct {
	endDisk *bench.Disk
	took    time.Duration
	pending int
}

// waitBenchRest measures the data directory as the queries ended, then
// waits until the server at url has no merge pending (bench.WaitAtRest).
func waitBenchRest(ctx context.Context, f *benchHTTPFlags, url, dir string, rep *bench.SuiteReport) (benchRest, error) {
	var r benchRest
	var err error
	if r.endDisk, err = bench.StoreDisk(dir, rep.Ingest.Events, rep.Ingest.JSONBytes); err != nil {
		return r, err
	}
	f.cfg.Log("waiting for the server's background merges (--rest)")
	r.took, r.pending, err = bench.WaitAtRest(ctx, f.cfg.HTTPClient, url, benchRestLimit)
	return r, err
}

// benchDataDir returns dir, or a new temporary directory and the function
// that removes it.
func benchDataDir(dir string) (string, func(), error) {
	if dir != "" {
		return dir, func() {}, nil
	}
	tmp, err := os.MkdirTemp("", "eventlog-bench-http-")
	if err != nil {
		return "", nil, err
	}
	return tmp, func() { os.RemoveAll(tmp) }, nil
}

// writeSuiteText prints the report for people.
func writeSuiteText(w io.Writer, dir string, r *bench.SuiteReport) error {
	in := r.Ingest
	route := "/api/events/_bulk"
	if r.Config.ES {
		route = "/es/_bulk"
	}
	fmt.Fprintf(w, "eventlog bench http: %d events (every one distinct, %.0f B of JSON on average, seed %d), %d _bulk clients on %s, batches of %d, server on %s\n",
		in.Events, in.Config.AvgJSONBytes, r.Config.Seed, r.Config.Clients, route, r.Config.Batch, dir)
	fmt.Fprintf(w, "machine: %d CPUs (%s), load average %.2f at start, %.2f after ingest\n\n",
		in.Machine.CPUs, in.Machine.CPUModel, in.Machine.Load1Start, in.Machine.Load1End)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "ingest, durable, until searchable\t%.0f events/s (%.2f s; %.0f events/s to the last acknowledgement)\n",
		r.EventsPerSec, r.SearchableSeconds, in.Throughput.EventsPerSec)
	if r.SettleSeconds > 0 {
		fmt.Fprintf(tw, "settled\t%.2f s to seal what the server held in memory before the queries (--settle)\n", r.SettleSeconds)
	}
	fmt.Fprintf(tw, "_bulk latency\tp50 %.1f ms  p99 %.1f ms  max %.1f ms (%d requests, %d answered 429)\n",
		in.Append.P50, in.Append.P99, in.Append.Max, in.Append.Count, in.Throttled)
	if s := r.Server; s != nil {
		fmt.Fprintf(tw, "server peak RSS\t%.1f MiB (whole life: ingest, queries and the final seal)\n", float64(s.PeakRSSBytes)/(1<<20))
		for _, m := range s.Memory {
			fmt.Fprintf(tw, "server memory, %s\tanonymous %.1f MiB, mapped files %.1f MiB (peaks of %d samples, every %d ms)\n",
				m.Phase, float64(m.PeakAnonBytes)/(1<<20), float64(m.PeakFileBytes)/(1<<20), m.Samples, m.SampleEveryMS)
		}
		if in.Server != nil {
			fmt.Fprintf(tw, "server CPU\t%.1f s while ingesting = %.2f µs/event\n", in.Server.CPUSeconds, in.Server.CPUMicrosPerEvent)
		}
		made := "generated while sending (--prepare=false)"
		if in.Config.Prepared {
			made = "bodies made before the clock (--prepare)"
		}
		fmt.Fprintf(tw, "client CPU\t%.1f s while ingesting = %.2f µs/event, %s\n", in.Process.CPUSeconds, in.Process.CPUMicrosPerEvent, made)
		if d := s.EndDisk; d != nil {
			fmt.Fprintf(tw, "disk as the queries ended\t%.1f B/event (%d bytes: segments %d in %d files, WAL %d)\n",
				d.BytesPerEvent, d.Bytes, d.SegmentBytes, d.Segments, d.WALBytes)
		}
		if d := s.Disk; d != nil {
			what := "disk"
			switch {
			case s.EndDisk != nil && s.PendingMerges == 0:
				what = fmt.Sprintf("disk at rest (%.0f s later)", s.RestSeconds)
			case s.EndDisk != nil:
				what = fmt.Sprintf("disk, %d merges still pending after %.0f s", s.PendingMerges, s.RestSeconds)
			}
			fmt.Fprintf(tw, "%s\t%.1f B/event (%d bytes: segments %d in %d files, WAL %d)\n",
				what, d.BytesPerEvent, d.Bytes, d.SegmentBytes, d.Segments, d.WALBytes)
		}
	}
	fmt.Fprintln(tw, "\nquery\tevents\tfirst\tmedian\tp99\tmax\truns\twhat")
	for _, q := range r.Queries {
		l := q.Latency
		fmt.Fprintf(tw, "%s\t%d\t%.2f ms\t%.2f ms\t%.2f ms\t%.2f ms\t%d\t%s\n", q.Name, q.Events, q.FirstMS, l.P50, l.P99, l.Max, l.Count, q.What)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if s := r.Server; s != nil && s.Layout != nil {
		fmt.Fprintln(w)
		return s.Layout.WriteText(w)
	}
	return nil
}
