package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"time"

	"github.com/eventlogdb/eventlog"
)

// runCompact merges each partition of a data directory into as few
// segments as fit now (DB.Compact), or has a server do it (--url: POST
// /api/_compact), and prints what was done.
func runCompact(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, data := newFlags("compact", stderr)
	rawURL := addURLFlag(fs)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	timeout := durationOpt(fs, "timeout", 0, "stop after this long (with --url: the server's --request-timeout by default)")
	maxSegment := sizeFlag(1 << 30)
	fs.Var(&maxSegment, "max-segment-bytes", "largest segment a merge makes, e.g. 1GiB (the server's --compaction-max-segment-bytes)")
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
	if client != nil && isSet(fs, "max-segment-bytes") {
		return fmt.Errorf("--max-segment-bytes is the server's setting (--compaction-max-segment-bytes), not the client's: %w", errUsage)
	}
	ctx, stop := maintenanceContext(*timeout)
	defer stop()
	var res eventlog.CompactResult
	if client != nil {
		err = client.Do(ctx, http.MethodPost, "api/_compact", timeoutParam(*timeout), nil, &res)
	} else {
		res, err = compactDir(ctx, *data, int64(maxSegment))
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSONValue(stdout, res)
	}
	printCompact(stdout, res)
	return nil
}

// compactDir seals what the WAL holds, so those events are merged too,
// then compacts at full speed (no server is sharing the disk).
func compactDir(ctx context.Context, dir string, maxSegment int64) (eventlog.CompactResult, error) {
	db, err := openForMaintenance(dir, eventlog.Options{
		MaintenanceInterval: -1, CompactionBytesPerSecond: -1, CompactionMaxSegmentBytes: maxSegment,
	}, "/api/_compact")
	if err != nil {
		return eventlog.CompactResult{}, err
	}
	var res eventlog.CompactResult
	err = db.Roll(ctx)
	if err == nil {
		res, err = db.Compact(ctx)
	}
	return res, errors.Join(err, db.Close())
}

func printCompact(w io.Writer, res eventlog.CompactResult) {
	if res.Merges == 0 {
		fmt.Fprintln(w, "nothing to compact")
		return
	}
	fmt.Fprintf(w, "compacted %d segments into %d (%d %s): %d %s, %s → %s\n",
		res.Inputs, res.Outputs, res.Merges, plural(res.Merges, "merge", "merges"), res.Events, plural(res.Events, "event", "events"),
		bytesIEC(res.BytesBefore), bytesIEC(res.BytesAfter))
}

// openForMaintenance opens a data directory that must exist, pseudonymising
// as the environment says unless opts has a Pseudonymizer. One a server
// holds is refused, saying how to go through the server instead.
func openForMaintenance(dir string, opts eventlog.Options, route string) (*eventlog.DB, error) {
	if err := requireDataDir(dir); err != nil {
		return nil, err
	}
	if opts.Pseudonymizer == nil { // the caller's key (pseudonym reveal --key-file) wins
		p, err := pseudonymFromEnv(dir)
		if err != nil {
			return nil, err
		}
		opts.Pseudonymizer = p
	}
	db, err := eventlog.Open(dir, opts)
	if errors.Is(err, eventlog.ErrLocked) {
		return nil, fmt.Errorf("%s is open in another process, probably a running server: "+
			"stop it, or ask it with --url http://HOST:PORT instead of --data (POST %s)", dir, route)
	}
	return db, err
}

// maintenanceContext ends at Ctrl-C or after timeout (0: none).
func maintenanceContext(timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	if timeout <= 0 {
		return ctx, stop
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	return ctx, func() { cancel(); stop() }
}

// timeoutParam is the ?timeout= of a maintenance route (none for 0).
func timeoutParam(timeout time.Duration) url.Values {
	q := url.Values{}
	if timeout > 0 {
		q.Set("timeout", timeout.String())
	}
	return q
}

func printJSONValue(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
