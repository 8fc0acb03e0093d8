package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
)

func runIngest(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, data := newFlags("ingest", stderr)
	sync := fs.String("sync", "always", "durability: always, interval or none")
	allow := fs.Bool("allow-unregistered", false, "accept provider/action pairs that are not registered")
	batch := fs.Int("batch", 1000, "events per append")
	if err := fs.Parse(args); err != nil {
		return err
	}
	in := stdin
	if fs.NArg() > 1 {
		return fmt.Errorf("at most one FILE: %w", errUsage)
	}
	if fs.NArg() == 1 {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	policy, err := eventlog.ParseSyncPolicy(*sync)
	if err != nil {
		return err
	}
	db, err := eventlog.Open(*data, eventlog.Options{Sync: policy, AllowUnregistered: *allow})
	if err != nil {
		return err
	}
	events, err := readNDJSON(in, event.DefaultLimits())
	if err == nil {
		err = appendAll(db, events, *batch)
	}
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ingested %d events into %s\n", len(events), *data)
	return nil
}

// readNDJSON decodes every non-blank line, collecting every bad line's
// error so one run reports them all.
func readNDJSON(r io.Reader, lim event.Limits) ([]event.Event, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), lim.MaxDocumentBytes+1)
	var events []event.Event
	var errs []error
	for line := 1; sc.Scan(); line++ {
		b := sc.Bytes()
		if len(trimSpace(b)) == 0 {
			continue
		}
		ev, err := event.Decode(b, lim)
		if err != nil {
			errs = append(errs, fmt.Errorf("line %d: %w", line, err))
			if len(errs) == 20 {
				errs = append(errs, errors.New("stopping after 20 errors"))
				break
			}
			continue
		}
		events = append(events, ev)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("a line is longer than the %d-byte document limit", lim.MaxDocumentBytes)
		}
		errs = append(errs, err)
	}
	if errs != nil {
		return nil, fmt.Errorf("nothing stored:\n%w", errors.Join(errs...))
	}
	return events, nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// appendAll appends in batches after checking every event, so a bad event
// late in the input does not leave the earlier batches stored.
func appendAll(db *eventlog.DB, events []event.Event, batch int) error {
	if batch <= 0 {
		return fmt.Errorf("--batch must be positive")
	}
	if err := db.Validate(events...); err != nil {
		return fmt.Errorf("nothing stored: %w", err)
	}
	for i := 0; i < len(events); i += batch {
		end := min(i+batch, len(events))
		if _, err := db.Append(context.Background(), events[i:end]...); err != nil {
			return fmt.Errorf("events %d..%d: %w (events before %d were stored)", i, end-1, err, i)
		}
	}
	return nil
}
