package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/schollz/progressbar/v3"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
)

// maxLineErrors is how many bad lines ingest prints before only counting.
const maxLineErrors = 100

func runIngest(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, data := newFlags("ingest", stderr)
	sync := fs.String("sync", "always", "durability: always, interval or none")
	allow := fs.Bool("allow-unregistered", false, "accept provider/action pairs that are not registered")
	batch := fs.Int("batch", 1000, "events per append")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return fmt.Errorf("at most one FILE: %w", errUsage)
	}
	if *batch < 1 || *batch > 100_000 {
		return fmt.Errorf("--batch must be between 1 and 100000")
	}
	policy, err := eventlog.ParseSyncPolicy(*sync)
	if err != nil {
		return err
	}
	in, size, err := openInput(fs.Arg(0), stdin)
	if err != nil {
		return err
	}
	defer in.Close()
	db, err := eventlog.Open(*data, eventlog.Options{Sync: policy, AllowUnregistered: *allow})
	if err != nil {
		return err
	}
	bar := newByteProgress(stderr, size, "ingesting")
	ing := &ingester{db: db, batch: *batch, bar: bar}
	err = ing.run(io.TeeReader(in, bar))
	bar.Finish() // also on error: it stops the spinner
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%w (%d events were stored before it)", err, ing.stored)
	}
	return ing.summary(stdout, stderr, *data)
}

// openInput opens FILE, or returns stdin when name is "" or "-", with its
// size in bytes (-1 when unknown) for the progress bar.
func openInput(name string, stdin io.Reader) (io.ReadCloser, int64, error) {
	if name == "" || name == "-" {
		return io.NopCloser(stdin), -1, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, err
	}
	size := int64(-1)
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		size = st.Size()
	}
	return f, size, nil
}

// ingester streams NDJSON into a DB a batch at a time, storing the valid
// lines and reporting each bad one with its line number.
type ingester struct {
	db    *eventlog.DB
	batch int
	bar   *progressbar.ProgressBar // prints the line errors above itself

	events  []event.Event // the pending batch
	lines   []int         // events[i] came from line lines[i]
	badNow  []lineError   // the pending batch's bad lines, printed at flush
	stored  int           // events appended
	bad     int           // lines rejected
	printed int           // bad lines printed, at most maxLineErrors
}

// lineError is why one input line was not stored.
type lineError struct {
	line int
	err  error
}

// run reads r to its end. It returns an error only when storing or reading
// failed; bad lines are counted and reported.
func (g *ingester) run(r io.Reader) error {
	lim := event.DefaultLimits()
	lr := newLineReader(r, lim.MaxDocumentBytes)
	for {
		line, err := lr.next()
		switch {
		case err == io.EOF:
			return g.flush()
		case errors.Is(err, errLineTooLong):
			g.reject(lr.n, err)
			continue
		case err != nil:
			return fmt.Errorf("read line %d: %w", lr.n, err)
		case isBlank(line):
			continue
		}
		ev, err := event.Decode(line, lim)
		if err != nil {
			g.reject(lr.n, err)
			continue
		}
		g.events, g.lines = append(g.events, ev), append(g.lines, lr.n)
		if len(g.events) == g.batch {
			if err := g.flush(); err != nil {
				return err
			}
		}
	}
}

// flush appends the pending batch. When Append rejects it because of some
// invalid events (the registry, limits), those are reported and the others
// appended again, so one bad event never costs the good ones. Then it
// prints the batch's bad lines in line order.
func (g *ingester) flush() error {
	defer g.printBad()
	for len(g.events) > 0 {
		_, err := g.db.Append(context.Background(), g.events...)
		if err == nil {
			g.stored += len(g.events)
			break
		}
		var inv *eventlog.InvalidEventsError
		if !errors.As(err, &inv) || g.dropInvalid(inv.Items) == 0 {
			return fmt.Errorf("store lines %d to %d: %w", g.lines[0], g.lines[len(g.lines)-1], err)
		}
	}
	g.events, g.lines = g.events[:0], g.lines[:0]
	return nil
}

// dropInvalid reports and removes the batch's invalid events, returning
// how many; items are in increasing Index order, as Append lists them.
func (g *ingester) dropInvalid(items []eventlog.ItemError) int {
	keep, next := 0, 0
	for i := range g.events {
		if next < len(items) && items[next].Index == i {
			g.reject(g.lines[i], items[next].Err)
			next++
			continue
		}
		g.events[keep], g.lines[keep] = g.events[i], g.lines[i]
		keep++
	}
	clear(g.events[keep:])
	g.events, g.lines = g.events[:keep], g.lines[:keep]
	return next
}

// reject records a bad line of the pending batch.
func (g *ingester) reject(line int, err error) {
	g.bad++
	g.badNow = append(g.badNow, lineError{line, err})
}

// printBad prints the pending batch's bad lines, in line order, while
// fewer than maxLineErrors were printed.
func (g *ingester) printBad() {
	slices.SortFunc(g.badNow, func(a, b lineError) int { return cmp.Compare(a.line, b.line) })
	for _, e := range g.badNow {
		if g.printed == maxLineErrors {
			break
		}
		progressbar.Bprintf(g.bar, "line %d: %v\n", e.line, e.err)
		g.printed++
	}
	clear(g.badNow)
	g.badNow = g.badNow[:0]
}

// summary prints the outcome; with rejected lines it returns errReported
// so that the exit status is 1.
func (g *ingester) summary(stdout, stderr io.Writer, data string) error {
	if g.bad > g.printed {
		fmt.Fprintf(stderr, "... and %d more\n", g.bad-g.printed)
	}
	if g.bad == 0 {
		fmt.Fprintf(stdout, "ingested %d events into %s\n", g.stored, data)
		return nil
	}
	fmt.Fprintf(stdout, "ingested %d events into %s (%d %s rejected)\n", g.stored, data, g.bad, plural(g.bad, "line", "lines"))
	return errReported
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
