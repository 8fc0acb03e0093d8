package server

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
)

// bigFixture stores n events of about 10 KB: an export of them is larger
// than the loopback socket buffers, so a client that does not read
// blocks the server's writes.
func bigFixture(t *testing.T, cfg Config, n int) *env {
	e := newEnv(t, cfg)
	msg := strings.Repeat("m", 10_000)
	events := make([]event.Event, n)
	for i := range events {
		events[i].Timestamp, _ = event.ParseDate(tsAt(i))
		events[i].Message = msg
		events[i].Event.Provider, events[i].Event.Action = "actions", "execute"
	}
	// Straight into the DB: the small RequestTimeout of some tests would
	// cut a big ingest request.
	if _, err := e.db.Append(context.Background(), events...); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestExportOutlivesRequestTimeout: an export is bounded per flush, not by
// RequestTimeout.
func TestExportOutlivesRequestTimeout(t *testing.T) {
	e := bigFixture(t, Config{RequestTimeout: 50 * time.Millisecond, FlushTimeout: 5 * time.Second}, 3000)
	resp, err := http.Get(e.ts.URL + "/api/events/_export")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	start := time.Now()
	lines := 0
	r := bufio.NewReaderSize(resp.Body, 1<<20)
	for {
		line, err := r.ReadSlice('\n')
		if err == io.EOF && len(line) == 0 {
			break
		}
		if err != nil {
			t.Fatalf("after %d lines: %v", lines, err)
		}
		if lines++; lines%300 == 0 {
			time.Sleep(15 * time.Millisecond) // a slow reader
		}
	}
	if lines != 3000 || time.Since(start) < 100*time.Millisecond {
		t.Fatalf("%d lines in %v", lines, time.Since(start))
	}
}

// TestExportStalledClient: a client that stops reading for longer than
// FlushTimeout gets a cut connection, not a silently short export.
func TestExportStalledClient(t *testing.T) {
	e := bigFixture(t, Config{FlushTimeout: 100 * time.Millisecond}, 3000)
	resp, err := http.Get(e.ts.URL + "/api/events/_export")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	time.Sleep(600 * time.Millisecond)
	data, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Fatalf("read %d bytes with no error; want the export cut", len(data))
	}
	if n := strings.Count(string(data), "\n"); n >= 3000 {
		t.Fatalf("%d lines, %v", n, err)
	}
}

// TestExportClientGoneLeavesNothing: a client that goes away in the middle
// of an export leaves no goroutine running and nothing charged to the
// store's memory budget.
func TestExportClientGoneLeavesNothing(t *testing.T) {
	e := bigFixture(t, Config{FlushTimeout: 5 * time.Second}, 3000)
	before := goleak.IgnoreCurrent()
	resp, err := http.Get(e.ts.URL + "/api/events/_export")
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReaderSize(resp.Body, 1<<20)
	for range 10 {
		if _, err := r.ReadSlice('\n'); err != nil {
			t.Fatal(err)
		}
	}
	resp.Body.Close()
	e.ts.CloseClientConnections()
	acct := e.db.Memory().Account(eventlog.AccountQueries)
	for acct.Used() != 0 { // the handler has not yet seen the client go
		time.Sleep(10 * time.Millisecond)
	}
	goleak.VerifyNone(t, before)
}
