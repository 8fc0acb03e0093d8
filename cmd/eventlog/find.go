package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	flag "github.com/spf13/pflag"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
)

// termFlags collects repeated --term FIELD=V1,V2 flags.
type termFlags []eventlog.Term

func (t *termFlags) String() string { return fmt.Sprint(*t) }

// Type names the flag's argument in usage.
func (t *termFlags) Type() string { return "FIELD=V1,V2" }

func (t *termFlags) Set(s string) error {
	field, values, ok := strings.Cut(s, "=")
	if !ok || field == "" || values == "" {
		return fmt.Errorf("expected FIELD=VALUE[,VALUE...], got %q", s)
	}
	*t = append(*t, eventlog.Term{Field: field, Values: strings.Split(values, ",")})
	return nil
}

func runFind(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, data := newFlags("find", stderr)
	var req eventlog.FindRequest
	var terms termFlags
	fs.Var(&terms, "term", "FIELD=V1,V2: equality on an indexed field (repeatable; values ORed, terms ANDed)")
	start := fs.String("start", "", "earliest @timestamp, RFC 3339 (inclusive)")
	end := fs.String("end", "", "latest @timestamp, RFC 3339 (inclusive)")
	ref := fs.String("ref", "", "TYPE:ID1,ID2: events referencing these saved objects")
	space := fs.String("space", "", "space of --ref (default: the default space)")
	primary := fs.Bool("primary", true, "with --ref, match only primary refs (as Kibana's _find)")
	desc := fs.Bool("desc", false, "newest first")
	count := fs.Bool("count", false, "print only the number of matching events")
	fs.IntVar(&req.Limit, "limit", 20, "events per page")
	fs.StringVar(&req.Cursor, "cursor", "", "continue after an earlier page")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := parseFindFlags(&req, fs, *start, *end, *ref, *space, *primary, *desc); err != nil {
		return err
	}
	req.Terms = terms
	db, err := openRead(*data)
	if err != nil {
		return err
	}
	defer db.Close()
	if *count {
		n, err := db.Count(context.Background(), req)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, n)
		return nil
	}
	it, err := db.Find(context.Background(), req)
	if err != nil {
		return err
	}
	defer it.Close()
	w := bufio.NewWriter(stdout)
	var line []byte
	for it.Next() {
		r := it.Record()
		line = append(eventlog.AppendDocument(line[:0], r.Seq, &r.Event), '\n')
		w.Write(line)
	}
	if err := w.Flush(); err != nil { // the page first, then where the next one starts
		return err
	}
	if c := it.Cursor(); c != "" {
		fmt.Fprintf(stderr, "next page: --cursor %s\n", c)
	}
	return it.Err()
}

func parseFindFlags(req *eventlog.FindRequest, fs *flag.FlagSet, start, end, ref, space string, primary, desc bool) error {
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: %w", fs.Arg(0), errUsage)
	}
	for _, b := range []struct {
		name, val string
		dst       *time.Time
	}{{"--start", start, &req.Start}, {"--end", end, &req.End}} {
		if b.val == "" {
			continue
		}
		d, err := event.ParseDate(b.val)
		if err != nil {
			return fmt.Errorf("%s: %w", b.name, err)
		}
		*b.dst = d.Time()
	}
	if ref != "" {
		typ, ids, ok := strings.Cut(ref, ":")
		if !ok || typ == "" || ids == "" {
			return fmt.Errorf("--ref: expected TYPE:ID1,ID2, got %q", ref)
		}
		req.SavedObjects = &eventlog.RefFilter{Type: typ, IDs: strings.Split(ids, ","), Space: space, PrimaryOnly: primary}
	}
	if desc {
		req.Order = eventlog.Descending
	}
	return nil
}
