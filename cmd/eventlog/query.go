package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/eventlogdb/eventlog/query"
)

// Output formats of the query command.
const (
	formatTable  = "table"
	formatJSON   = "json"
	formatNDJSON = "ndjson"
)

func runQuery(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, data := newFlags("query", stderr)
	url := addURLFlag(fs)
	sel := addSelectionFlags(fs)
	limit := fs.Int("limit", query.DefaultPerPage, fmt.Sprintf("events per page (page*limit at most %d)", query.MaxWindow))
	page := fs.Int("page", 1, "page number, from 1")
	after := fs.String("after", "", "continue after the last event of an earlier page (the cursor it printed)")
	aggs := fs.String("aggs", "", `aggregations as a JSON object, e.g. '{"by_action":{"terms":{"field":"event.action"}}}'`)
	format := fs.String("format", "", "table, json or ndjson (default: json with --aggs, else table on a terminal and ndjson otherwise)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	req, err := sel.request(fs)
	if err != nil {
		return err
	}
	client, err := remote(fs, *url, nil)
	if err != nil {
		return err
	}
	if *limit < 1 || *page < 1 {
		return fmt.Errorf("--limit and --page must be at least 1")
	}
	req.Page, req.PerPage, req.SearchAfter = *page, *limit, *after
	if req.Aggs, err = parseAggs(*aggs); err != nil {
		return err
	}
	f, err := outputFormat(*format, req.Aggs != nil, stdout)
	if err != nil {
		return err
	}
	var res *query.Result
	var aggsJSON []byte
	if client != nil {
		res, aggsJSON, err = remoteQuery(context.Background(), client, req)
	} else {
		res, aggsJSON, err = localQuery(*data, req)
	}
	if err != nil {
		return sel.explain(err)
	}
	switch f {
	case formatTable:
		return printTable(stdout, res)
	case formatJSON:
		return printJSON(stdout, res, aggsJSON)
	}
	return printNDJSON(stdout, stderr, res)
}

// localQuery answers req over the data directory, with the aggregations
// as JSON.
func localQuery(data string, req query.Request) (*query.Result, []byte, error) {
	db, err := openRead(data)
	if err != nil {
		return nil, nil, err
	}
	defer db.Close()
	res, err := db.Query(context.Background(), req)
	if err != nil || res.Aggregations == nil {
		return res, nil, err
	}
	aggs, err := json.Marshal(res.Aggregations)
	if err != nil {
		return nil, nil, fmt.Errorf("aggregations: %w", err)
	}
	return res, aggs, nil
}

// parseAggs decodes --aggs, refusing unknown keys so that a misspelt
// aggregation type is an error rather than silently ignored.
func parseAggs(s string) (map[string]query.Agg, error) {
	if s == "" {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.DisallowUnknownFields()
	var aggs map[string]query.Agg
	if err := dec.Decode(&aggs); err != nil {
		return nil, fmt.Errorf("--aggs: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("--aggs: text after the JSON object")
	}
	if aggs == nil {
		aggs = map[string]query.Agg{}
	}
	return aggs, nil
}

// outputFormat checks --format or picks the default: json when there are
// aggregations (only json shows them), table for a person at a terminal,
// ndjson for a pipe or a file.
func outputFormat(f string, aggs bool, stdout io.Writer) (string, error) {
	switch {
	case f == "" && aggs:
		return formatJSON, nil
	case f == "" && isTerminal(stdout):
		return formatTable, nil
	case f == "":
		return formatNDJSON, nil
	case f != formatTable && f != formatJSON && f != formatNDJSON:
		return "", fmt.Errorf("--format %q: want table, json or ndjson", f)
	case aggs && f != formatJSON:
		return "", fmt.Errorf("--aggs needs --format json: only json shows aggregations")
	}
	return f, nil
}
