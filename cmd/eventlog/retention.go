package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/eventlogdb/eventlog"
)

// retentionReport is what a retention run dropped, or with DryRun what it
// would drop: the body of POST /api/_retention.
type retentionReport struct {
	DryRun         bool                      `json:"dry_run"`
	Dropped        []eventlog.DroppedSegment `json:"dropped"`
	BytesReclaimed int64                     `json:"bytes_reclaimed"`
	// Held and HeldBytes: the expired segments incident holds kept.
	Held      []eventlog.DroppedSegment `json:"held,omitempty"`
	HeldBytes int64                     `json:"held_bytes,omitempty"`
}

// runRetention drops the segments a retention policy expires (--max-age,
// --max-bytes), or has a server apply its own (--url: POST
// /api/_retention), and prints each drop; --dry-run only says what would
// be dropped.
func runRetention(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, data := newFlags("retention", stderr)
	rawURL := addURLFlag(fs)
	maxAge := fs.String("max-age", "", "drop segments whose events are all older than this, by @timestamp: 240h, 30d, 2w")
	var maxBytes sizeFlag
	fs.Var(&maxBytes, "max-bytes", "drop the oldest segments while segments and WAL are larger than this: 10GiB, 500MB")
	spaceAges := fs.String("space-max-age", "", "give the events of a Kibana space their own max age in place of --max-age (team-a=30d,audit=off: off keeps for ever); an event in several spaces is kept while any of them keeps it")
	dryRun := fs.Bool("dry-run", false, "print what would be dropped, changing nothing")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	timeout := durationOpt(fs, "timeout", 0, "stop after this long (with --url: the server's --request-timeout by default)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: %w", fs.Arg(0), errUsage)
	}
	client, err := remote(fs, *rawURL, nil)
	if err != nil {
		return err
	}
	var policy eventlog.Options
	switch {
	case client != nil && (isSet(fs, "max-age") || isSet(fs, "max-bytes") || isSet(fs, "space-max-age")):
		return fmt.Errorf("with --url the server applies its own --retention-max-age, --retention-max-bytes and --retention-space-max-age; --max-age, --max-bytes and --space-max-age are for --data: %w", errUsage)
	case client == nil:
		if policy, err = retentionPolicy(*maxAge, int64(maxBytes), *spaceAges); err != nil {
			return err
		}
	}
	ctx, stop := maintenanceContext(*timeout)
	defer stop()
	var rep retentionReport
	if client != nil {
		q := timeoutParam(*timeout)
		if *dryRun {
			q.Set("dry_run", "true")
		}
		err = client.Do(ctx, http.MethodPost, "api/_retention", q, nil, &rep)
	} else {
		rep, err = retainDir(ctx, *data, policy, *dryRun)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSONValue(stdout, rep)
	}
	printRetention(stdout, rep)
	return nil
}

// retentionPolicy is the engine's options for --max-age, --max-bytes and
// --space-max-age, at least one of which must be given.
func retentionPolicy(maxAge string, maxBytes int64, spaceAges string) (eventlog.Options, error) {
	var o eventlog.Options
	if maxAge == "" && maxBytes == 0 && spaceAges == "" {
		return o, fmt.Errorf("give --max-age, --max-bytes, --space-max-age or several (the data directory keeps no policy; a server's is its --retention-max-age, --retention-max-bytes and --retention-space-max-age): %w", errUsage)
	}
	if spaceAges != "" {
		ages, err := parseSpaceMaxAge(spaceAges)
		if err != nil {
			return o, fmt.Errorf("--space-max-age: %v: %w", err, errUsage)
		}
		o.RetentionSpaceMaxAge = ages
	}
	if maxAge != "" {
		d, err := parseDuration(maxAge)
		if err != nil || d <= 0 {
			return o, fmt.Errorf("--max-age %q: want a positive duration such as 240h, 30d or 2w: %w", maxAge, errUsage)
		}
		o.RetentionMaxAge = d
	}
	o.RetentionMaxBytes = maxBytes
	return o, nil
}

// retainDir applies the retention policy of opts to dir; a dry run opens
// it read-only and only plans.
func retainDir(ctx context.Context, dir string, opts eventlog.Options, dryRun bool) (retentionReport, error) {
	rep := retentionReport{DryRun: dryRun}
	opts.MaintenanceInterval = -1
	opts.ReadOnly = dryRun
	db, err := openForMaintenance(dir, opts, "/api/_retention")
	if err != nil {
		return rep, err
	}
	var res eventlog.RetentionResult
	if dryRun {
		res, err = db.RetentionPlan()
	} else {
		res, err = db.ApplyRetention(ctx)
	}
	rep.Dropped, rep.BytesReclaimed, rep.Held, rep.HeldBytes = res.Dropped, res.BytesReclaimed, res.Held, res.HeldBytes
	if rep.Dropped == nil {
		rep.Dropped = []eventlog.DroppedSegment{}
	}
	return rep, errors.Join(err, db.Close())
}

// printRetention prints one line per segment dropped (or that would be),
// then the totals.
func printRetention(w io.Writer, rep retentionReport) {
	verb := "dropped"
	if rep.DryRun {
		verb = "would drop"
	}
	for _, d := range rep.Held {
		fmt.Fprintf(w, "kept %s: %s, but an incident hold pins its events (%d %s, %s; eventlog holds list)\n", d.Name, d.Reason,
			d.Events, plural(d.Events, "event", "events"), bytesIEC(d.Bytes))
	}
	if len(rep.Dropped) == 0 {
		fmt.Fprintln(w, "nothing to drop")
		return
	}
	events := 0
	for _, d := range rep.Dropped {
		events += d.Events
		note := ""
		if d.Undelivered {
			note = " (not yet delivered to every destination)"
		}
		fmt.Fprintf(w, "%s %s: %s, %d %s from %s to %s (seq %d-%d), %s%s\n", verb, d.Name, d.Reason,
			d.Events, plural(d.Events, "event", "events"), d.MinTS.Format(time.RFC3339Nano), d.MaxTS.Format(time.RFC3339Nano),
			d.MinSeq, d.MaxSeq, bytesIEC(d.Bytes), note)
	}
	fmt.Fprintf(w, "%s %d %s: %d %s, %s\n", verb, len(rep.Dropped), plural(len(rep.Dropped), "segment", "segments"),
		events, plural(events, "event", "events"), bytesIEC(rep.BytesReclaimed))
}
