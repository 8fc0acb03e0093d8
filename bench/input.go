package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/eventlogdb/eventlog/event"
)

// ReadWorkload reads a workload from NDJSON, one event per line (blank lines
// are skipped), decoding each line as the store does under lim. A line that
// does not decode is an error naming it: benchmarking with events the store
// would reject measures nothing. The events are cycled as the generator's
// are; a cycle moves the times on by the range of their @timestamps plus
// one average gap, rounded up to whole seconds.
func ReadWorkload(r io.Reader, name string, lim event.Limits) (*Workload, error) {
	maxLine := lim.MaxDocumentBytes
	if maxLine <= 0 {
		maxLine = event.DefaultLimits().MaxDocumentBytes
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, min(64<<10, maxLine+2)), maxLine+2) // +2: "\r\n"
	var events []event.Event
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		e, err := event.Decode(text, lim)
		if err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", name, line, err)
		}
		events = append(events, e)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("over %d bytes", maxLine)
		}
		return nil, fmt.Errorf("%s: line %d: %w", name, line+1, err)
	}
	if len(events) == 0 {
		return nil, fmt.Errorf("%s: no events", name)
	}
	w := newWorkload(events, name)
	span := timeSpan(events)
	w.span = cycleSpan(span + span/int64(len(events)))
	return w, nil
}

// ReadWorkloadFile reads the NDJSON file path with ReadWorkload.
func ReadWorkloadFile(path string, lim event.Limits) (*Workload, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadWorkload(f, path, lim)
}
