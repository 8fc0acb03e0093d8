package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query"
)

// messageWidth is how many characters of the message the table shows.
const messageWidth = 60

// printNDJSON writes one hit per line on stdout and the total and the
// next page's cursor on stderr, so stdout holds only events.
func printNDJSON(stdout, stderr io.Writer, res *query.Result) error {
	w := bufio.NewWriter(stdout)
	var line []byte
	for i := range res.Hits {
		line = append(eventlog.AppendDocument(line[:0], res.Hits[i].Seq, &res.Hits[i].Event), '\n')
		w.Write(line)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "total: %d\n", res.Total)
	if res.Next != "" {
		fmt.Fprintf(stderr, "next page: --after %s\n", res.Next)
	}
	return nil
}

// printJSON writes the page as one JSON object with the fields of the
// Kibana event log _find response (total, page, per_page, data), the next
// page's cursor when there is one, and the aggregations (aggs, their JSON
// from the engine or a server) when asked for. The envelope and the
// aggregations are indented; each hit of data stays on one line, as export
// and the ndjson format print it.
func printJSON(w io.Writer, res *query.Result, aggs []byte) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "{\n  \"total\": %d,\n  \"page\": %d,\n  \"per_page\": %d,\n  \"data\": [", res.Total, res.Page, res.PerPage)
	var line []byte
	for i := range res.Hits {
		sep := ",\n    "
		if i == 0 {
			sep = sep[1:]
		}
		line = append(line[:0], sep...)
		bw.Write(eventlog.AppendDocument(line, res.Hits[i].Seq, &res.Hits[i].Event))
	}
	if len(res.Hits) > 0 {
		bw.WriteString("\n  ")
	}
	bw.WriteString("]")
	if res.Next != "" {
		next, _ := json.Marshal(res.Next) // a string always marshals
		bw.WriteString(",\n  \"next\": ")
		bw.Write(next)
	}
	if aggs != nil {
		var compact, escaped, indented bytes.Buffer
		if err := json.Compact(&compact, aggs); err != nil {
			return fmt.Errorf("aggregations: %w", err)
		}
		json.HTMLEscape(&escaped, compact.Bytes()) // as json.Marshal escapes, whoever wrote aggs
		json.Indent(&indented, escaped.Bytes(), "  ", "  ")
		bw.WriteString(",\n  \"aggregations\": ")
		bw.Write(indented.Bytes())
	}
	bw.WriteString("\n}\n")
	return bw.Flush()
}

// printTable writes the page as aligned columns, then "N of TOTAL" and the
// next page's flag.
func printTable(w io.Writer, res *query.Result) error {
	bw := bufio.NewWriter(w)
	tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "@timestamp\tevent.provider\tevent.action\tevent.outcome\tmessage")
	for i := range res.Hits {
		ev := &res.Hits[i].Event
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", cell(timestamp(ev)), cell(ev.Event.Provider),
			cell(ev.Event.Action), cell(ev.Event.Outcome), cell(truncate(ev.Message, messageWidth)))
	}
	tw.Flush()
	fmt.Fprintf(bw, "%d of %d\n", len(res.Hits), res.Total)
	if res.Next != "" {
		fmt.Fprintf(bw, "next page: --after %s\n", res.Next)
	}
	return bw.Flush()
}

func timestamp(ev *event.Event) string {
	if ev.Timestamp.IsZero() {
		return ""
	}
	return ev.Timestamp.String()
}

// cell makes s safe for one table cell: control characters (tabs,
// newlines) become spaces and an empty value shows as "-".
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// truncate shortens s to at most n characters, marking a cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	cut, i := 0, 0
	for cut = range s {
		if i == n-1 {
			break
		}
		i++
	}
	return s[:cut] + "…"
}
