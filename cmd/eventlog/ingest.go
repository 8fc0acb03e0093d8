package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/schollz/progressbar/v3"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
)

// maxLineErrors is how many bad lines ingest prints before only counting.
const maxLineErrors = 100

func runIngest(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, data := newFlags("ingest", stderr)
	url := addURLFlag(fs)
	sync := fs.String("sync", "always", "durability: always, interval or none (not with --url: the server's setting)")
	allow := fs.Bool("allow-unregistered", false, "accept provider/action pairs that are not registered (not with --url)")
	batch := fs.Int("batch", 1000, "events per append (per request with --url)")
	unknown := fs.String("unknown-fields", "reject", "fields outside the event schema: reject (the line fails) or keep (stored and returned in place); with --url, reject leaves it to the server's setting")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return fmt.Errorf("at most one FILE: %w", errUsage)
	}
	if *batch < 1 || *batch > 100_000 {
		return fmt.Errorf("--batch must be between 1 and 100000")
	}
	keep, err := parseUnknownFields(*unknown)
	if err != nil {
		return fmt.Errorf("--unknown-fields: %w", err)
	}
	client, err := remote(fs, *url, nil)
	if err != nil {
		return err
	}
	if client != nil && (isSet(fs, "sync") || isSet(fs, "allow-unregistered")) {
		return fmt.Errorf("--sync and --allow-unregistered are the server's settings (eventlog serve --help), not the client's: %w", errUsage)
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
	if client != nil {
		return ingest(&bulkBatch{c: client, keep: keep}, *batch, in, size, client.URL(), stdout, stderr)
	}
	p, err := pseudonymFromEnv(*data)
	if err != nil {
		return err
	}
	db, err := eventlog.Open(*data, eventlog.Options{Sync: policy, AllowUnregistered: *allow, Pseudonymizer: p})
	if err != nil {
		return err
	}
	return ingest(&dbBatch{db: db, keep: keep}, *batch, in, size, *data, stdout, stderr)
}

// ingest streams in into store and closes it, showing a progress bar of
// size bytes on stderr, then prints the summary naming target.
func ingest(store batchStore, batch int, in io.Reader, size int64, target string, stdout, stderr io.Writer) error {
	bar := newByteProgress(stderr, size, "ingesting")
	ing := &ingester{store: store, batch: batch, bar: bar}
	err := ing.run(io.TeeReader(in, bar))
	bar.Finish() // also on error: it stops the spinner
	if cerr := store.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%w (%d events were stored before it)", err, ing.stored)
	}
	return ing.summary(stdout, stderr, target)
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

// maxBatchBytes also ends a batch: it bounds the memory a batch of large
// events takes, and the size of a _bulk request.
const maxBatchBytes = 4 << 20

// batchStore stores batches of NDJSON lines: the data directory (dbBatch)
// or a server through its API (bulkBatch, in client.go).
type batchStore interface {
	// add adds one line to the pending batch, or says why it cannot be
	// stored. It does not keep line.
	add(line []byte) error
	// flush stores the pending batch and empties it. It returns the lines
	// the store refused (Index is the line's place in the batch; a client
	// id stored with different content is refused) and how many lines it
	// found already stored (their client id, same content), having stored
	// the others, or an error when it could not say what it stored.
	flush() (refused []eventlog.ItemError, duplicates int, err error)
	// close releases the store.
	close() error
}

// ingester streams NDJSON into a store a batch at a time, storing the
// valid lines and reporting each bad one with its line number.
type ingester struct {
	store batchStore
	batch int
	bar   *progressbar.ProgressBar // prints the line errors above itself

	lines      []int       // the pending batch's i-th line is line lines[i] of the input
	bytes      int         // the pending batch's size
	badNow     []lineError // the pending batch's bad lines, printed at flush
	stored     int         // events stored
	duplicates int         // lines whose client id was already stored (same content)
	bad        int         // lines rejected
	printed    int         // bad lines printed, at most maxLineErrors
}

// lineError is why one input line was not stored.
type lineError struct {
	line int
	err  error
}

// run reads r to its end. It returns an error only when storing or reading
// failed; bad lines are counted and reported.
func (g *ingester) run(r io.Reader) error {
	lr := newLineReader(r, event.DefaultLimits().MaxDocumentBytes)
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
		if err := g.store.add(line); err != nil {
			g.reject(lr.n, err)
			continue
		}
		g.lines, g.bytes = append(g.lines, lr.n), g.bytes+len(line)
		if len(g.lines) == g.batch || g.bytes >= maxBatchBytes {
			if err := g.flush(); err != nil {
				return err
			}
		}
	}
}

// flush stores the pending batch, then prints its bad lines in line order.
func (g *ingester) flush() error {
	defer g.printBad()
	if len(g.lines) == 0 {
		return nil
	}
	refused, dups, err := g.store.flush()
	if err != nil {
		return fmt.Errorf("store lines %d to %d: %w", g.lines[0], g.lines[len(g.lines)-1], err)
	}
	for _, it := range refused {
		g.reject(g.lines[it.Index], it.Err)
	}
	g.stored += len(g.lines) - len(refused) - dups
	g.duplicates += dups
	g.lines, g.bytes = g.lines[:0], 0
	return nil
}

// dbBatch stores batches in an open data directory.
type dbBatch struct {
	db     *eventlog.DB
	events []event.Event // the pending batch
	index  []int         // events[i] is line index[i] of the batch
	keep   bool          // keep fields outside the schema
}

func (b *dbBatch) add(line []byte) error {
	ev, err := event.DecodeWith(line, event.DecodeOptions{Limits: event.DefaultLimits(), KeepUnknown: b.keep})
	if err != nil {
		return err
	}
	b.events, b.index = append(b.events, ev), append(b.index, len(b.index))
	return nil
}

// flush appends the pending batch. When Append rejects it because of some
// invalid events (the registry, limits), those are refused and the others
// appended again, so one bad event never costs the good ones.
func (b *dbBatch) flush() (refused []eventlog.ItemError, dups int, err error) {
	for len(b.events) > 0 {
		res, err := b.db.Append(context.Background(), b.events...)
		if err == nil {
			refused, dups = b.deduplicated(refused, res)
			break
		}
		var inv *eventlog.InvalidEventsError
		if !errors.As(err, &inv) || len(inv.Items) == 0 {
			return nil, 0, err
		}
		refused = b.dropInvalid(refused, inv.Items)
	}
	clear(b.events)
	b.events, b.index = b.events[:0], b.index[:0]
	return refused, dups, nil
}

// deduplicated adds to refused the events Append found in conflict with a
// stored one, and counts the duplicates.
func (b *dbBatch) deduplicated(refused []eventlog.ItemError, res eventlog.Appended) ([]eventlog.ItemError, int) {
	dups := 0
	for i, it := range res.Items {
		switch it.Result {
		case eventlog.Duplicate:
			dups++
		case eventlog.Conflict:
			err := fmt.Errorf("_id %q: an event with this client id and different content is already stored (_seq %d); not stored", b.events[i].ClientID, it.Seq)
			refused = append(refused, eventlog.ItemError{Index: b.index[i], Err: err})
		}
	}
	return refused, dups
}

// dropInvalid removes the batch's invalid events, adding them to refused;
// items are in increasing Index order, as Append lists them.
func (b *dbBatch) dropInvalid(refused, items []eventlog.ItemError) []eventlog.ItemError {
	keep, next := 0, 0
	for i := range b.events {
		if next < len(items) && items[next].Index == i {
			refused = append(refused, eventlog.ItemError{Index: b.index[i], Err: items[next].Err})
			next++
			continue
		}
		b.events[keep], b.index[keep] = b.events[i], b.index[i]
		keep++
	}
	clear(b.events[keep:])
	b.events, b.index = b.events[:keep], b.index[:keep]
	return refused
}

func (b *dbBatch) close() error { return b.db.Close() }

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
	var notes []string
	if g.duplicates > 0 {
		notes = append(notes, fmt.Sprintf("%d already stored", g.duplicates))
	}
	if g.bad > 0 {
		notes = append(notes, fmt.Sprintf("%d %s rejected", g.bad, plural(g.bad, "line", "lines")))
	}
	if len(notes) == 0 {
		fmt.Fprintf(stdout, "ingested %d events into %s\n", g.stored, data)
	} else {
		fmt.Fprintf(stdout, "ingested %d events into %s (%s)\n", g.stored, data, strings.Join(notes, ", "))
	}
	if g.bad > 0 {
		return errReported
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
