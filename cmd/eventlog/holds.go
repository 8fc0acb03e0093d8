package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/server"
)

// routeHolds is the server's hold API.
const routeHolds = "api/_holds"

// holdsUsage is the synopsis of eventlog holds.
const holdsUsage = `usage: eventlog holds create --name NAME --filter KQL [--start T] [--end T] --reason TEXT [--format json]
       eventlog holds list [--format json]
       eventlog holds release NAME
each with --data DIR (a stopped store) or --url URL --api-key KEY (an admin key of a running server; an auditor key may list)
`

// runHolds manages incident holds: on a stopped store's data directory
// (--data), or through a running server's hold API (--url). When an
// incident starts, a hold on its window keeps its events however short
// retention is, until released.
func runHolds(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, data := newFlags("holds", stderr)
	rawURL := addURLFlag(fs)
	format := fs.String("format", "text", "text or json")
	var req eventlog.HoldRequest
	fs.StringVar(&req.Name, "name", "", "create: the hold's name (letters, digits, '.', '_', '-'), used to release it (required)")
	fs.StringVar(&req.Filter, "filter", "", `create: the KQL filter of the events to hold (required; "@timestamp:*" for all in the window)`)
	fs.StringVar(&req.Start, "start", "", "create: hold events stamped from this time (RFC 3339, now-2h, ...); none: unbounded")
	fs.StringVar(&req.End, "end", "", "create: hold events stamped up to this time; none: unbounded, so events arriving later are held too")
	fs.StringVar(&req.Reason, "reason", "", "create: why, e.g. the incident's reference (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return fmt.Errorf("--format %q: want text or json: %w", *format, errUsage)
	}
	sub, rest := fs.Arg(0), fs.Args()[min(1, fs.NArg()):]
	if sub != "create" {
		for _, f := range []string{"name", "filter", "start", "end", "reason"} {
			if isSet(fs, f) {
				return fmt.Errorf("--%s is a flag of holds create: %w", f, errUsage)
			}
		}
	}
	c, err := remote(fs, *rawURL, nil)
	if err != nil {
		return err
	}
	h := holdsCmd{dir: *data, json: *format == "json", out: stdout}
	if c != nil {
		h.do = func(method, path string, body, out any) error {
			return c.Do(context.Background(), method, path, nil, body, out)
		}
	}
	switch {
	case sub == "create" && len(rest) == 0:
		return h.create(req)
	case sub == "list" && len(rest) == 0:
		return h.list()
	case sub == "release" && len(rest) == 1:
		return h.release(rest[0])
	case sub == "":
		return fmt.Errorf("want a subcommand: create, list or release\n%s: %w", holdsUsage, errUsage)
	}
	return fmt.Errorf("%q: want create, list or release NAME\n%s: %w", strings.Join(fs.Args(), " "), holdsUsage, errUsage)
}

// holdsCmd runs a holds subcommand on a directory (do nil) or a server.
type holdsCmd struct {
	dir  string
	do   func(method, path string, body, out any) error
	json bool
	out  io.Writer
}

// onStore runs fn on the stopped store (read-only for a list).
func (h holdsCmd) onStore(readOnly bool, fn func(*eventlog.DB) error) error {
	db, err := openForMaintenance(h.dir, eventlog.Options{MaintenanceInterval: -1, ReadOnly: readOnly}, "/api/_holds")
	if err != nil {
		return err
	}
	return errors.Join(fn(db), db.Close())
}

// create puts a hold and prints it.
func (h holdsCmd) create(req eventlog.HoldRequest) error {
	if req.Name == "" || req.Filter == "" || req.Reason == "" {
		return fmt.Errorf("--name, --filter and --reason are required: %w", errUsage)
	}
	var made eventlog.Hold
	var err error
	if h.do != nil {
		err = h.do(http.MethodPost, routeHolds, req, &made)
	} else {
		err = h.onStore(false, func(db *eventlog.DB) error {
			made, err = db.CreateHold(context.Background(), req)
			return err
		})
	}
	if err != nil {
		return err
	}
	if h.json {
		return printJSONValue(h.out, made)
	}
	_, err = fmt.Fprintf(h.out, "hold %s: %s from %s to %s (%s)\n", made.Name, made.Filter, orDash(made.Start), orDash(made.End), made.Reason)
	return err
}

// list prints the holds with the events each pins.
func (h holdsCmd) list() error {
	var ans server.HoldsAnswer
	var err error
	if h.do != nil {
		err = h.do(http.MethodGet, routeHolds, nil, &ans)
	} else {
		err = h.onStore(true, func(db *eventlog.DB) error {
			ans.Holds, err = db.HoldsWithCounts(context.Background())
			return err
		})
	}
	if err != nil {
		return err
	}
	if ans.Holds == nil {
		ans.Holds = []eventlog.HoldInfo{}
	}
	if h.json {
		return printJSONValue(h.out, ans)
	}
	tw := tabwriter.NewWriter(h.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tFILTER\tSTART\tEND\tEVENTS\tCREATED\tREASON")
	for _, x := range ans.Holds {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", x.Name, x.Filter, orDash(x.Start), orDash(x.End), x.Events, x.Created, x.Reason)
	}
	return tw.Flush()
}

// release releases the named hold.
func (h holdsCmd) release(name string) error {
	var err error
	if h.do != nil {
		err = h.do(http.MethodDelete, routeHolds+"/"+url.PathEscape(name), nil, nil)
	} else {
		err = h.onStore(false, func(db *eventlog.DB) error {
			_, err := db.ReleaseHold(context.Background(), name)
			return err
		})
	}
	if err != nil {
		return err
	}
	if h.json {
		return printJSONValue(h.out, map[string]string{"released": name})
	}
	_, err = fmt.Fprintf(h.out, "released %s\n", name)
	return err
}

// orDash is s, or "-" for an unbounded end of a window.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
