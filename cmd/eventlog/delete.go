package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/eventlogdb/eventlog/client"

	"github.com/eventlogdb/eventlog"
)

// routeDelete is the server's delete-by-query route.
const routeDelete = "api/events/_delete_by_query"

// deleteReport is what eventlog delete did: the delete, and on a data
// directory the purge that follows it.
type deleteReport struct {
	eventlog.DeleteResult
	// Compact is the compaction run that purged the deleted rows, and
	// PendingDeletes the deletes still not purged after it (--data only).
	Compact        *eventlog.CompactResult `json:"compact,omitempty"`
	PendingDeletes *int                    `json:"pending_deletes,omitempty"`
}

// runDelete deletes the events a KQL filter and time range select
// (DB.Delete), then on a data directory purges them from disk at once
// (DB.Compact); with --url it has a server do the delete (POST
// /api/events/_delete_by_query), which purges at its next maintenance run.
func runDelete(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, data := newFlags("delete", stderr)
	rawURL := addURLFlag(fs)
	var req eventlog.DeleteRequest
	fs.StringVar(&req.Filter, "filter", "", `KQL filter of the events to delete (required), e.g. 'user.name:alice'`)
	fs.StringVar(&req.Start, "start", "", "earliest @timestamp, inclusive: RFC 3339, now, now-15m, or a duration before now (15m, 2h, 7d); resolved once")
	fs.StringVar(&req.End, "end", "", "latest @timestamp, inclusive: as --start")
	fs.BoolVar(&req.KeptFields, "kept-fields", false, "allow a filter naming fields outside the schema (kept unknown fields); without it such a filter is refused, as a misspelt field would match nothing, or under not everything")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	timeout := durationOpt(fs, "timeout", 0, "stop after this long (with --url: the server's --request-timeout by default)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := checkDeleteArgs(fs.Args(), req); err != nil {
		return err
	}
	client, err := remote(fs, *rawURL, nil)
	if err != nil {
		return err
	}
	ctx, stop := maintenanceContext(*timeout)
	defer stop()
	var rep deleteReport
	if client != nil {
		err = client.Do(ctx, http.MethodPost, routeDelete, timeoutParam(*timeout), req, &rep.DeleteResult)
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("%w (the server may have made the delete all the same: "+
				"query --filter 'event.action:delete-by-query' shows the deletes made)", err)
		}
	} else {
		rep, err = deleteDir(ctx, *data, req)
	}
	if err != nil && rep.FilterSHA256 == "" { // nothing was deleted
		return (&selection{filter: req.Filter}).explain(withoutLibPrefix(err))
	}
	if *asJSON {
		return errors.Join(printJSONValue(stdout, rep), err)
	}
	printDelete(stdout, rep, client)
	return err
}

// checkDeleteArgs refuses positional arguments and a missing filter
// before anything is opened.
func checkDeleteArgs(args []string, req eventlog.DeleteRequest) error {
	switch {
	case len(args) > 0:
		return fmt.Errorf("unexpected argument %q (quote a filter with spaces: --filter '...'): %w", args[0], errUsage)
	case req.Filter == "":
		return fmt.Errorf(`--filter is required (to delete every event in a time range: --filter '@timestamp:*' --start T --end T): %w`, errUsage)
	}
	return nil
}

// deleteDir deletes from dir, then compacts at full speed, which purges
// the deleted rows from the segments and the WAL (no server is sharing
// the disk). When the delete is done but the purge fails, the report has
// the delete and the error says the purge failed.
func deleteDir(ctx context.Context, dir string, req eventlog.DeleteRequest) (deleteReport, error) {
	var rep deleteReport
	db, err := openForMaintenance(dir, eventlog.Options{MaintenanceInterval: -1, CompactionBytesPerSecond: -1}, "/"+routeDelete)
	if err != nil {
		return rep, err
	}
	res, err := db.Delete(ctx, req)
	if err != nil { // the report stays empty: nothing is known deleted
		if cerr := db.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		return rep, err
	}
	rep.DeleteResult = res
	compacted, err := db.Compact(ctx)
	pending := db.Stats().Maintenance.PendingDeletes
	rep.Compact, rep.PendingDeletes = &compacted, &pending
	if err != nil {
		err = fmt.Errorf("the events are deleted (hidden from every read), but purging them from disk failed; "+
			"eventlog compact --data %s finishes it: %w", dir, err)
	}
	return rep, errors.Join(err, db.Close())
}

// libDeletePrefix starts the errors of DB.Delete; the command's own name
// says as much.
const libDeletePrefix = "eventlog: delete: "

// withoutLibPrefix drops libDeletePrefix from err: the wrapper that only
// adds it, or the start of a server's reason.
func withoutLibPrefix(err error) error {
	if ae := (*client.APIError)(nil); errors.As(err, &ae) {
		ae.Reason = strings.TrimPrefix(ae.Reason, libDeletePrefix)
		return err
	}
	if u := errors.Unwrap(err); u != nil && err.Error() == libDeletePrefix+u.Error() {
		return u
	}
	return err
}

// printDelete prints what was deleted, and then what was purged (--data)
// or when the server will purge it (--url).
func printDelete(w io.Writer, rep deleteReport, client *client.Client) {
	fmt.Fprintf(w, "deleted %d %s (recorded as event %d, filter sha256 %s)\n",
		rep.Deleted, plural(rep.Deleted, "event", "events"), rep.Seq, rep.FilterSHA256)
	if rep.Blocked > 0 {
		fmt.Fprintf(w, "%d more %s pinned by incident holds: kept until the holds are released, then deleted (eventlog holds list)\n",
			rep.Blocked, plural(rep.Blocked, "event is", "events are"))
	}
	switch {
	case client != nil:
		fmt.Fprintf(w, "the server purges them from disk at its next maintenance run; to purge now: eventlog compact --url %s\n", client.URL())
	case rep.Compact == nil:
	case *rep.PendingDeletes == 0:
		c := rep.Compact
		fmt.Fprintf(w, "purged from disk: %d %s rewritten or found clean, the WAL sealed; no delete is pending\n",
			c.Purged, plural(c.Purged, "segment", "segments"))
		if c.Merges > 0 {
			fmt.Fprintf(w, "rewrote %d %s into %d (%d %s, the purge's included): %d %s kept, %s → %s\n",
				c.Inputs, plural(c.Inputs, "segment", "segments"), c.Outputs, c.Merges, plural(c.Merges, "merge", "merges"),
				c.Events, plural(c.Events, "event", "events"), bytesIEC(c.BytesBefore), bytesIEC(c.BytesAfter))
		}
	default:
		fmt.Fprintf(w, "purge incomplete: %d %s still pending; eventlog compact --data DIR finishes it\n",
			*rep.PendingDeletes, plural(*rep.PendingDeletes, "delete", "deletes"))
	}
}
