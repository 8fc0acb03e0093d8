package main

import (
	"bufio"
	"context"
	"fmt"
	"io"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/query"
)

func runExport(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs, data := newFlags("export", stderr)
	url := addURLFlag(fs)
	sel := addSelectionFlags(fs)
	bundle := fs.String("bundle", "", "write an evidence bundle (a tar file: the events, the latest signed head, an inclusion proof for each, the public key and a README) to this file instead of NDJSON; check it with verify-bundle")
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
	if *bundle != "" {
		if client != nil {
			return remoteBundle(client, *bundle, req, stderr)
		}
		return exportBundle(*data, *bundle, req, stderr)
	}
	var each exportFunc
	if client != nil {
		each = remoteExport(client)
	} else {
		db, err := openRead(*data)
		if err != nil {
			return err
		}
		defer db.Close()
		each = db.Export
	}
	n, err := export(each, req, stdout, stderr)
	switch {
	case err != nil && n == 0:
		return sel.explain(err)
	case err != nil:
		return fmt.Errorf("after %d events: %w", n, err)
	}
	fmt.Fprintf(stderr, "exported %d events\n", n)
	return nil
}

// exportFunc calls fn with every event req selects, in order: DB.Export,
// or remoteExport through a server.
type exportFunc func(ctx context.Context, req query.Request, fn func(query.Hit) error) error

// export writes every event req selects to stdout as NDJSON, in order,
// counting them on a progress bar on stderr when it is a terminal. Memory
// stays constant: DB.Export reads a page at a time, and a server streams.
func export(each exportFunc, req query.Request, stdout, stderr io.Writer) (int, error) {
	bar := newEventProgress(stderr, "exporting")
	w := bufio.NewWriterSize(stdout, 64<<10)
	n := 0
	var line []byte
	err := each(context.Background(), req, func(h query.Hit) error {
		line = append(eventlog.AppendDocument(line[:0], h.Seq, &h.Event), '\n')
		if _, err := w.Write(line); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		n++
		bar.Add(1)
		return nil
	})
	// Also on error: the events before it go out whole, never a cut line.
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	bar.Finish() // also on error: it stops the spinner
	return n, err
}
