package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	flag "github.com/spf13/pflag"

	"github.com/eventlogdb/eventlog/client"

	"github.com/eventlogdb/eventlog/query"
	"github.com/eventlogdb/eventlog/query/filter"
)

// selection holds the flags query and export share: which events, and in
// which order.
type selection struct {
	filter, start, end string
	sort               listFlag
	typ, space         string
	ids                listFlag
}

// listFlag collects a repeatable flag's values; with split set, each value
// is also split at commas.
type listFlag struct {
	values []string
	split  bool
}

func (l *listFlag) String() string { return strings.Join(l.values, ",") }

// Type names the flag's argument in usage.
func (l *listFlag) Type() string { return "list" }

func (l *listFlag) Set(s string) error {
	if l.split {
		l.values = append(l.values, strings.Split(s, ",")...)
	} else {
		l.values = append(l.values, s)
	}
	return nil
}

// addSelectionFlags defines the selection flags on fs.
func addSelectionFlags(fs *flag.FlagSet) *selection {
	s := &selection{sort: listFlag{split: true}}
	fs.StringVar(&s.filter, "filter", "", `KQL filter, e.g. 'event.provider:alerting and not event.outcome:success' (see go doc ./query/filter)`)
	fs.StringVar(&s.start, "start", "", "earliest @timestamp, inclusive: RFC 3339, now, now-15m, or a duration before now (15m, 2h, 7d)")
	fs.StringVar(&s.end, "end", "", "latest @timestamp, inclusive: as --start")
	fs.Var(&s.sort, "sort", "FIELD[:asc|desc] sort keys, most significant first (repeatable or comma-separated; default @timestamp:asc)")
	fs.StringVar(&s.typ, "type", "", "saved-object type: only events with a primary ref to an object of this type and an --id")
	fs.Var(&s.ids, "id", "saved-object id, with --type (repeatable)")
	fs.StringVar(&s.space, "space", "", "only events in this space (with --type, also the objects' space)")
	return s
}

// request turns the parsed flags into a query request. It checks the
// flags' own syntax; the query engine checks the rest.
func (s *selection) request(fs *flag.FlagSet) (query.Request, error) {
	if fs.NArg() > 0 {
		return query.Request{}, fmt.Errorf("unexpected argument %q (quote a filter with spaces: --filter '...'): %w", fs.Arg(0), errUsage)
	}
	sort, err := parseSort(s.sort.values)
	if err != nil {
		return query.Request{}, err
	}
	req := query.Request{Filter: s.filter, Start: s.start, End: s.end, Sort: sort, Space: s.space}
	switch {
	case s.typ != "" && len(s.ids.values) > 0:
		req.SavedObjects = &query.SavedObjects{Type: s.typ, IDs: s.ids.values, Space: s.space}
	case s.typ != "" || len(s.ids.values) > 0:
		return query.Request{}, fmt.Errorf("--type and --id go together")
	}
	return req, nil
}

// parseSort parses FIELD[:asc|desc] items.
func parseSort(items []string) ([]query.SortField, error) {
	var out []query.SortField
	for _, it := range items {
		field, order, _ := strings.Cut(strings.TrimSpace(it), ":")
		switch {
		case field == "":
			return nil, fmt.Errorf("--sort: empty field in %q", strings.Join(items, ","))
		case order != "" && order != "asc" && order != "desc":
			return nil, fmt.Errorf("--sort %s: order %q is neither asc nor desc", it, order)
		}
		out = append(out, query.SortField{Field: field, Order: order})
	}
	return out, nil
}

// explain rewords an error of a request built from s for the command
// line: without the library's "eventlog: query:" prefix and, for a filter
// error, with the filter text and a caret under the position it names.
// A server's error (--url) is reworded alike from its reason.
func (s *selection) explain(err error) error {
	pos := 0
	if ae := (*client.APIError)(nil); errors.As(err, &ae) {
		ae.Reason = strings.TrimPrefix(ae.Reason, "eventlog: query: ")
		pos = filterPos(ae.Reason)
	} else {
		for {
			u := errors.Unwrap(err)
			if u == nil || u == query.ErrInvalid || !errors.Is(u, query.ErrInvalid) {
				break
			}
			err = u
		}
		if fe := (*filter.Error)(nil); errors.As(err, &fe) {
			pos = fe.Pos
		}
	}
	if pos < 1 {
		return err
	}
	text := []rune(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s.filter))
	pad := min(pos-1, len(text))
	return fmt.Errorf("%w\n  %s\n  %s^", err, string(text), strings.Repeat(" ", pad))
}

// filterPos finds the position a filter error's message names
// ("filter: at 26: ..."), 0 when there is none.
func filterPos(msg string) int {
	_, rest, ok := strings.Cut(msg, "filter: at ")
	if !ok {
		return 0
	}
	num, _, ok := strings.Cut(rest, ": ")
	n, err := strconv.Atoi(num)
	if !ok || err != nil {
		return 0
	}
	return n
}
