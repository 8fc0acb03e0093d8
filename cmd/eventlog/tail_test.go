package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/internal/syncbuf"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/server"
)

// tailRun is a tail command running in the background.
type tailRun struct {
	out, errs syncbuf.Buffer
	cancel    context.CancelFunc
	done      chan error
}

// startTail runs eventlog tail with args until stop (or the test's end).
func startTail(t *testing.T, args ...string) *tailRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &tailRun{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- tailCommand(ctx, args[1:], &r.out, &r.errs) }() // args[0] is "tail"
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	return r
}

// waitLines waits until the command has printed n lines and returns them.
func (r *tailRun) waitLines(t *testing.T, n int) []string {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		out := r.out.String()
		if lines := strings.SplitAfter(out, "\n"); len(lines)-1 >= n {
			return lines[:n]
		}
		select {
		case err := <-r.done:
			r.done <- err // for the cleanup
			t.Fatalf("tail ended with %v; printed:\n%s\nstderr:\n%s", err, out, r.errs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %d lines; printed:\n%s\nstderr:\n%s", n, out, r.errs.String())
		}
	}
}

// stop interrupts the command, which must end without error.
func (r *tailRun) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("tail: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("tail still running 10 s after its interrupt")
	}
}

// appendN stores n events "tailed i" (from first) of provider alerting.
func appendN(t *testing.T, db *eventlog.DB, first, n int) {
	t.Helper()
	evs := make([]event.Event, n)
	for i := range evs {
		evs[i].Event.Provider, evs[i].Event.Action = "alerting", "execute"
		evs[i].Message = fmt.Sprint("tailed ", first+i)
	}
	if _, err := db.Append(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}
}

// openServed opens the data directory for writing and serves it on a
// loopback httptest server.
func openServed(t *testing.T, data string) (*eventlog.DB, string) {
	t.Helper()
	db, err := eventlog.Open(data, eventlog.Options{AllowUnregistered: true})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(server.New(db, server.Config{}, nil, nil).Handler())
	t.Cleanup(func() {
		ts.Close()
		db.Close()
	})
	return db, ts.URL
}

// TestTailThroughServer: tail --url prints the stored events as export
// does, then each new one as it is stored; --filter and --from apply.
func TestTailThroughServer(t *testing.T) {
	data := ingestExamples(t)
	_, exported, _ := runCLI(t, "", "export", "--data", data)
	db, url := openServed(t, data)
	all := startTail(t, "tail", "--url", url, "--from", "beginning", "--format", "ndjson")
	alerting := startTail(t, "tail", "--url", url, "--from", "2", "--filter", "event.provider:alerting")
	if got := strings.Join(all.waitLines(t, 4), ""); got != exported {
		t.Fatalf("tail printed\n%s\nexport printed\n%s", got, exported)
	}
	alerting.waitLines(t, 1)
	appendN(t, db, 0, 2)
	if seqs := ndjsonSeqs(t, strings.Join(all.waitLines(t, 6), "")); !reflect.DeepEqual(seqs, []uint64{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("tail: %v", seqs)
	}
	if seqs := ndjsonSeqs(t, strings.Join(alerting.waitLines(t, 3), "")); !reflect.DeepEqual(seqs, []uint64{2, 5, 6}) {
		t.Fatalf("tail --filter: %v", seqs)
	}
	all.stop(t)
	alerting.stop(t)
	if all.errs.String() != "" {
		t.Fatalf("stderr: %s", all.errs.String())
	}
}

// TestTailReconnects: when the server shuts down, tail --url says so,
// retries with a bounded backoff, and once a server answers again goes on
// exactly after the last event it printed.
func TestTailReconnects(t *testing.T) {
	data := ingestExamples(t)
	db, err := eventlog.Open(data, eventlog.Options{AllowUnregistered: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	serveOn := func(addr string) (stop func()) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		ran := make(chan error, 1)
		go func() { ran <- server.New(db, server.Config{}, nil, nil).Run(ctx, ln) }()
		return func() {
			cancel()
			if err := <-ran; err != nil {
				t.Errorf("Run: %v", err)
			}
		}
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	stop := serveOn(addr)
	run := startTail(t, "tail", "--url", "http://"+addr, "--from", "beginning", "--format", "ndjson")
	run.waitLines(t, 4)
	stop()
	appendN(t, db, 0, 2) // while no server answers
	time.Sleep(300 * time.Millisecond)
	stop = serveOn(addr)
	defer stop()
	appendN(t, db, 2, 1)
	if seqs := ndjsonSeqs(t, strings.Join(run.waitLines(t, 7), "")); !reflect.DeepEqual(seqs, []uint64{1, 2, 3, 4, 5, 6, 7}) {
		t.Fatalf("tail: %v", seqs)
	}
	run.stop(t)
	errs := run.errs.String()
	if !strings.Contains(errs, "eventlog tail: _tail: the server ended the stream: server shutting down; reconnecting in ") ||
		!strings.Contains(errs, "connection refused; reconnecting in ") {
		t.Fatalf("stderr:\n%s", errs)
	}
}

// TestTailSilentServer: a stream that stays silent for three heartbeats
// is taken for dead and opened again, from where "now" was resolved.
func TestTailSilentServer(t *testing.T) {
	var conns atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := conns.Add(1)
		w.Header().Set(server.HeaderHeartbeat, "10ms")
		w.Header().Set(server.HeaderTailFrom, "7")
		w.WriteHeader(http.StatusOK)
		if n == 2 {
			if from := r.URL.Query().Get("from"); from != "7" {
				t.Errorf("second connection from %q, want 7", from)
			}
			var ev event.Event
			ev.Message = "seventh"
			w.Write(append(eventlog.AppendDocument(nil, 7, &ev), '\n'))
		}
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer ts.Close()
	run := startTail(t, "tail", "--url", ts.URL, "--format", "ndjson")
	if line := run.waitLines(t, 1)[0]; line != `{"_id":"0000000000000007","_seq":7,"message":"seventh"}`+"\n" {
		t.Fatalf("printed %q", line)
	}
	run.stop(t)
	if errs := run.errs.String(); !strings.Contains(errs, "nothing from the server, not even a heartbeat, in 1s; reconnecting in ") {
		t.Fatalf("stderr:\n%s", errs)
	}
}

// TestTailData: tail --data follows a directory another process writes
// (here: eventlog ingest, which takes the lock the tail does not need).
func TestTailData(t *testing.T) {
	data := ingestExamples(t)
	run := startTail(t, "tail", "--data", data, "--from", "beginning", "--format", "ndjson")
	table := startTail(t, "tail", "--data", data, "--from", "3", "--format", "table")
	_, exported, _ := runCLI(t, "", "export", "--data", data)
	if got := strings.Join(run.waitLines(t, 4), ""); got != exported {
		t.Fatalf("tail printed\n%s\nexport printed\n%s", got, exported)
	}
	more := `{"@timestamp":"2024-05-02T10:00:00Z","event":{"provider":"alerting","action":"execute"},"message":"five"}` + "\n" +
		`{"@timestamp":"2024-05-02T10:00:01Z","event":{"provider":"alerting","action":"execute"},"message":"six"}` + "\n"
	if code, _, errs := runCLI(t, more, "ingest", "--data", data, "--allow-unregistered"); code != 0 {
		t.Fatalf("ingest: %s", errs)
	}
	if seqs := ndjsonSeqs(t, strings.Join(run.waitLines(t, 6), "")); !reflect.DeepEqual(seqs, []uint64{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("tail: %v", seqs)
	}
	rows := table.waitLines(t, 5)
	want := []string{
		"seq       @timestamp                     event.provider    event.action      event.outcome  message\n",
		"3         2024-05-01T16:02:12+02:00      actions           execute           failure        action execution failed: .slack:slack-ops\n",
		"4         2024-05-01T14:05:00.000Z       security          user_login        success        user elastic logged in\n",
		"5         2024-05-02T10:00:00Z           alerting          execute           -              five\n",
		"6         2024-05-02T10:00:01Z           alerting          execute           -              six\n",
	}
	if !reflect.DeepEqual(rows, want) {
		t.Fatalf("table:\n%s", strings.Join(rows, ""))
	}
	run.stop(t)
	table.stop(t)
}

// TestTailFromNow: --from now prints only the events stored after the
// tail started.
func TestTailFromNow(t *testing.T) {
	data := ingestExamples(t)
	db, url := openServed(t, data)
	run := startTail(t, "tail", "--url", url, "--format", "ndjson")
	waitStreams(t, url, 1)
	appendN(t, db, 0, 1)
	if seqs := ndjsonSeqs(t, run.waitLines(t, 1)[0]); !reflect.DeepEqual(seqs, []uint64{5}) {
		t.Fatalf("tail: %v", seqs)
	}
	run.stop(t)
}

// waitStreams waits until the server has n _tail streams open.
func waitStreams(t *testing.T, url string, n int) {
	t.Helper()
	want := fmt.Sprintf("\neventlog_tail_streams %d\n", n)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		resp, err := http.Get(url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		if strings.Contains(b.String(), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the metrics", want)
		}
	}
}

func TestTailErrors(t *testing.T) {
	data := ingestExamples(t)
	_, url := openServed(t, data)
	caret := "eventlog tail: invalid query: filter: at 26: expected an expression after 'and'\n  event.outcome:failure and\n                           ^\n"
	for name, c := range map[string]struct {
		args []string
		code int
		errs string
	}{
		"bad filter":        {[]string{"--data", data, "--filter", "event.outcome:failure and"}, 1, caret},
		"bad filter, --url": {[]string{"--url", url, "--filter", "event.outcome:failure and"}, 1, caret},
		"bad from":          {[]string{"--data", data, "--from", "yesterday"}, 2, `--from "yesterday": want a sequence number, beginning or now`},
		"bad format":        {[]string{"--data", data, "--format", "json"}, 2, `--format "json": want ndjson or table`},
		"an argument":       {[]string{"--data", data, "event.outcome:failure"}, 2, "unexpected argument"},
		"--url and --data":  {[]string{"--data", data, "--url", url}, 2, "--url and --data"},
		"no directory":      {[]string{"--data", t.TempDir() + "/nope"}, 1, "/nope does not exist"},
	} {
		t.Run(name, func(t *testing.T) {
			code, out, errs := runCLI(t, "", append([]string{"tail"}, c.args...)...)
			if code != c.code || out != "" || !strings.Contains(errs, c.errs) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, out, errs, c.code, c.errs)
			}
		})
	}
}
