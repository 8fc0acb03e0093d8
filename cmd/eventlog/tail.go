package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/eventlogdb/eventlog/client"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query"
)

// tailPoll is how often tail --data opens the directory again to see what
// other processes have stored: a read-only open is a snapshot.
const tailPoll = time.Second

func runTail(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return tailCommand(ctx, args, stdout, stderr)
}

// tailStart is where a tail begins: a sequence number, or now.
type tailStart struct {
	seq uint64
	now bool
}

func parseTailStart(s string) (tailStart, error) {
	switch s {
	case "now":
		return tailStart{now: true}, nil
	case "beginning":
		return tailStart{seq: 1}, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return tailStart{}, fmt.Errorf("--from %q: want a sequence number, beginning or now: %w", s, errUsage)
	}
	return tailStart{seq: max(n, 1)}, nil
}

// tailCommand prints the events as they arrive until ctx is done (SIGINT
// or SIGTERM), which is a success.
func tailCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, data := newFlags("tail", stderr)
	url := addURLFlag(fs)
	filter := fs.String("filter", "", "KQL filter: print only the matching events")
	from := fs.String("from", "now", "where to start: a sequence number, beginning or now (events stored from now on)")
	format := fs.String("format", "", "ndjson or table (default: table on a terminal, ndjson otherwise)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (quote a filter with spaces: --filter '...'): %w", fs.Arg(0), errUsage)
	}
	start, err := parseTailStart(*from)
	if err != nil {
		return err
	}
	table, err := tailFormat(*format, stdout)
	if err != nil {
		return err
	}
	client, err := remote(fs, *url, sayReconnect(stderr))
	if err != nil {
		return err
	}
	var follow followFunc
	if client != nil {
		follow = func(ctx context.Context, out chan<- query.Hit) error {
			return followRemote(ctx, client, start, *filter, out)
		}
	} else {
		follow = func(ctx context.Context, out chan<- query.Hit) error {
			return followDir(ctx, *data, start, *filter, out)
		}
	}
	if err := printFollowed(ctx, follow, newTailPrinter(stdout, table)); err != nil {
		return explainTail(*filter, err)
	}
	return nil
}

// explainTail words a refused filter as query does, without the
// library's prefix and with a caret under the position.
func explainTail(filter string, err error) error {
	var ae *client.APIError
	if !errors.As(err, &ae) && errors.Is(err, eventlog.ErrInvalidRequest) {
		ae = &client.APIError{Status: http.StatusBadRequest, Reason: err.Error()}
		err = ae
	}
	if ae != nil {
		ae.Reason = strings.TrimPrefix(ae.Reason, "eventlog: tail: ")
	}
	return (&selection{filter: filter}).explain(err)
}

func tailFormat(f string, stdout io.Writer) (table bool, err error) {
	switch f {
	case "":
		return isTerminal(stdout), nil
	case formatTable, formatNDJSON:
		return f == formatTable, nil
	}
	return false, fmt.Errorf("--format %q: want ndjson or table: %w", f, errUsage)
}

// followFunc sends the events of a tail to out, in order, until ctx is
// done (then it returns nil) or it fails.
type followFunc func(ctx context.Context, out chan<- query.Hit) error

// printFollowed prints what follow sends, flushing whenever it has
// nothing more at hand, until ctx is done (nil) or follow or a write
// fails.
func printFollowed(ctx context.Context, follow followFunc, p *tailPrinter) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	hits := make(chan query.Hit, 1024)
	done := make(chan error, 1)
	go func() {
		defer close(hits)
		done <- follow(ctx, hits)
	}()
	if err := p.start(); err != nil {
		return err
	}
	var werr error
	for h := range hits {
		if werr != nil {
			continue // draining until follow sees the cancel
		}
		werr = p.print(h.Seq, &h.Event)
		if werr == nil && len(hits) == 0 {
			werr = p.flush()
		}
		if werr != nil {
			cancel()
		}
	}
	if werr != nil {
		return fmt.Errorf("write: %w", werr)
	}
	if err := <-done; err != nil && ctx.Err() == nil {
		return err
	}
	return p.flush()
}

// tailPrinter prints events as find and export do (NDJSON), or as the
// rows of a table whose columns have fixed widths, since rows come one
// at a time.
type tailPrinter struct {
	w     *bufio.Writer
	table bool
	line  []byte
}

func newTailPrinter(w io.Writer, table bool) *tailPrinter {
	return &tailPrinter{w: bufio.NewWriterSize(w, 64<<10), table: table}
}

const tailRow = "%-8s  %-29s  %-16s  %-16s  %-13s  %s\n"

// start prints the table's header.
func (p *tailPrinter) start() error {
	if !p.table {
		return nil
	}
	fmt.Fprintf(p.w, tailRow, "seq", "@timestamp", "event.provider", "event.action", "event.outcome", "message")
	return p.w.Flush()
}

func (p *tailPrinter) print(seq uint64, ev *event.Event) error {
	if p.table {
		_, err := fmt.Fprintf(p.w, tailRow, strconv.FormatUint(seq, 10), cell(timestamp(ev)), cell(ev.Event.Provider),
			cell(ev.Event.Action), cell(ev.Event.Outcome), cell(truncate(ev.Message, messageWidth)))
		return err
	}
	p.line = append(eventlog.AppendDocument(p.line[:0], seq, ev), '\n')
	_, err := p.w.Write(p.line)
	return err
}

func (p *tailPrinter) flush() error { return p.w.Flush() }

// followDir tails a data directory, which another process (a server, an
// ingest) may be writing: it opens it read-only, which takes no lock but
// is a snapshot, and so opens it again every tailPoll to see what was
// stored since, resuming after the last event it sent.
func followDir(ctx context.Context, data string, start tailStart, filter string, out chan<- query.Hit) error {
	if err := requireDataDir(data); err != nil { // else a typo would wait forever
		return err
	}
	p, err := pseudonymFromEnv(data)
	if err != nil {
		return err
	}
	next, first := start.seq, true
	for ctx.Err() == nil {
		db, err := eventlog.Open(data, eventlog.Options{ReadOnly: true, Pseudonymizer: p})
		switch {
		case err != nil && first:
			return err
		case err != nil:
			// A writer sealing or compacting under the open: try again.
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(tailPoll):
			}
			continue
		case first && start.now:
			st := db.Stats()
			next = min(st.LastSeq, st.DurableSeq) + 1
		}
		first = false
		next, err = followSnapshot(ctx, db, next, filter, out)
		if cerr := db.Close(); err == nil && cerr != nil && !errors.Is(cerr, eventlog.ErrClosed) {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// followSnapshot sends the events of db from next on, closing db after
// tailPoll (its tail then ends), and returns where to go on from.
func followSnapshot(ctx context.Context, db *eventlog.DB, next uint64, filter string, out chan<- query.Hit) (uint64, error) {
	events, err := db.Tail(ctx, eventlog.TailRequest{From: next, Filter: filter})
	if err != nil {
		return next, err
	}
	closer := time.AfterFunc(tailPoll, func() { db.Close() })
	defer closer.Stop()
	for rec, err := range events {
		switch {
		case errors.Is(err, eventlog.ErrClosed):
			return next, nil
		case err != nil:
			return next, err
		}
		select {
		case out <- query.Hit{Seq: rec.Seq, Event: rec.Event}:
		case <-ctx.Done():
			return next, nil
		}
		next = rec.Seq + 1
	}
	return next, nil
}
