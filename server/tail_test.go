package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
)

// tailClient reads one _tail stream, SSE or NDJSON.
type tailClient struct {
	t      *testing.T
	resp   *http.Response
	r      *bufio.Reader
	cancel context.CancelFunc
	ndjson bool
}

// tailRecord is one record of a stream: an event, a heartbeat or the
// last error.
type tailRecord struct {
	ping bool
	seq  uint64
	doc  map[string]any
	end  *tailEnd
}

type tailEnd struct {
	Error      string `json:"error"`
	ResumeFrom uint64 `json:"resume_from"`
}

// openTail opens a stream at base+path with the given headers (Accept:
// application/x-ndjson asks for NDJSON), and checks its header.
func openTail(t *testing.T, client *http.Client, url string, header map[string]string) *tailClient {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	c := &tailClient{t: t, resp: resp, r: bufio.NewReaderSize(resp.Body, 1<<20), cancel: cancel,
		ndjson: header["Accept"] == ctNDJSONTail}
	t.Cleanup(c.close)
	want := ctEventStream
	if c.ndjson {
		want = ctNDJSONTail
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != want {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %d %s %s", url, resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	return c
}

// close cancels the request (the client goes away).
func (c *tailClient) close() {
	c.cancel()
	c.resp.Body.Close()
}

// next reads the next record.
func (c *tailClient) next() (tailRecord, error) {
	if c.ndjson {
		return c.nextNDJSON()
	}
	return c.nextSSE()
}

func (c *tailClient) nextNDJSON() (tailRecord, error) {
	line, err := c.r.ReadBytes('\n')
	if err != nil {
		return tailRecord{}, err
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	if len(line) == 0 {
		return tailRecord{ping: true}, nil
	}
	return decodeTailData(line, "")
}

// nextSSE reads one SSE block (lines up to an empty one).
func (c *tailClient) nextSSE() (tailRecord, error) {
	var id, name string
	var data []byte
	comment := false
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return tailRecord{}, err
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			switch {
			case comment && data == nil:
				return tailRecord{ping: true}, nil
			case name == "error":
				var end tailEnd
				if err := json.Unmarshal(data, &end); err != nil {
					return tailRecord{}, fmt.Errorf("error event %q: %v", data, err)
				}
				return tailRecord{end: &end}, nil
			case name != "" || id == "":
				return tailRecord{}, fmt.Errorf("SSE event %q without id: %q", name, data)
			}
			return decodeTailData(data, id)
		case line == ": ping":
			comment = true
		case strings.HasPrefix(line, "id: "):
			id = line[4:]
		case strings.HasPrefix(line, "event: "):
			name = line[7:]
		case strings.HasPrefix(line, "data: "):
			if data != nil {
				return tailRecord{}, fmt.Errorf("an event's data on two lines: %q", line)
			}
			data = []byte(line[6:])
		default:
			return tailRecord{}, fmt.Errorf("unexpected SSE line %q", line)
		}
	}
}

// decodeTailData decodes an event's document (or the last error) and
// checks its _id, _seq and SSE id agree.
func decodeTailData(data []byte, id string) (tailRecord, error) {
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return tailRecord{}, fmt.Errorf("record %q: %v", data, err)
	}
	if _, ok := doc["error"]; ok {
		var end tailEnd
		err := json.Unmarshal(data, &end)
		return tailRecord{end: &end}, err
	}
	seqf, _ := doc["_seq"].(float64)
	seq := uint64(seqf)
	if !bytes.HasPrefix(data, []byte(`{"_id":"`+eventlog.IDOf(seq)+`","_seq":`+strconv.FormatUint(seq, 10)+`,`)) {
		return tailRecord{}, fmt.Errorf("document does not start with its _id and _seq: %.80s", data)
	}
	if id != "" && id != strconv.FormatUint(seq, 10) {
		return tailRecord{}, fmt.Errorf("SSE id %s for _seq %d", id, seq)
	}
	return tailRecord{seq: seq, doc: doc}, nil
}

// events reads n events, skipping heartbeats, and fails on anything else.
func (c *tailClient) events(n int) []tailRecord {
	c.t.Helper()
	stop := time.AfterFunc(20*time.Second, c.cancel) // never hang the test
	defer stop.Stop()
	var out []tailRecord
	for len(out) < n {
		rec, err := c.next()
		switch {
		case err != nil:
			c.t.Fatalf("after %d events: %v", len(out), err)
		case rec.end != nil:
			c.t.Fatalf("after %d events: the stream ended: %+v", len(out), *rec.end)
		case rec.ping:
			continue
		}
		out = append(out, rec)
	}
	return out
}

// upTo reads up to n events, stopping before the stream's last record
// (left to end), skipping heartbeats.
func (c *tailClient) upTo(n int) ([]tailRecord, error) {
	stop := time.AfterFunc(20*time.Second, c.cancel)
	defer stop.Stop()
	var out []tailRecord
	for len(out) < n {
		if !c.ndjson {
			if b, _ := c.r.Peek(len("event: error")); string(b) == "event: error" {
				return out, nil
			}
		} else if b, _ := c.r.Peek(len(`{"error"`)); string(b) == `{"error"` {
			return out, nil
		}
		rec, err := c.next()
		if err != nil {
			return out, fmt.Errorf("after %d events: %v", len(out), err)
		}
		if !rec.ping {
			out = append(out, rec)
		}
	}
	return out, nil
}

// end reads up to the stream's last record, skipping heartbeats and
// counting events, and checks that the stream ends after it.
func (c *tailClient) end() (events []tailRecord, end tailEnd) {
	c.t.Helper()
	stop := time.AfterFunc(20*time.Second, c.cancel)
	defer stop.Stop()
	for {
		rec, err := c.next()
		switch {
		case err != nil:
			c.t.Fatalf("after %d events, no last record: %v", len(events), err)
		case rec.end != nil:
			if rest, err := io.ReadAll(c.r); err != nil || len(rest) > 0 {
				c.t.Fatalf("after the last record: %q, %v", rest, err)
			}
			return events, *rec.end
		case !rec.ping:
			events = append(events, rec)
		}
	}
}

// wantSeqs checks that recs are the events from..from+len-1, in order.
func wantSeqs(t *testing.T, recs []tailRecord, from uint64) {
	t.Helper()
	for i, r := range recs {
		if r.seq != from+uint64(i) {
			t.Fatalf("event %d has _seq %d, want %d (a gap or a duplicate)", i, r.seq, from+uint64(i))
		}
	}
}

// appendEvents appends n events "event i" (i from first) in one batch.
func appendEvents(t *testing.T, db *eventlog.DB, first, n int, provider string) {
	t.Helper()
	evs := make([]event.Event, n)
	for i := range evs {
		evs[i].Timestamp, _ = event.ParseDate(tsAt(first + i))
		evs[i].Event.Provider, evs[i].Event.Action = provider, "execute"
		evs[i].Message = fmt.Sprint("event ", first+i)
	}
	if _, err := db.Append(context.Background(), evs...); err != nil {
		t.Error(err)
	}
}

func newClient(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

var ndjsonAccept = map[string]string{"Accept": ctNDJSONTail}

// TestTailHistoryThenLive: a tail gives the stored events, then those
// appended while it runs, with no gap and no duplicate while heads roll
// into segments underneath, in both forms.
func TestTailHistoryThenLive(t *testing.T) {
	for name, header := range map[string]map[string]string{"sse": nil, "ndjson": ndjsonAccept} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, Config{})
			appendEvents(t, e.db, 0, 700, "alerting")
			if err := e.db.Roll(context.Background()); err != nil {
				t.Fatal(err)
			}
			appendEvents(t, e.db, 700, 300, "alerting")
			c := openTail(t, newClient(t), e.ts.URL+"/api/events/_tail", header)
			var wg sync.WaitGroup
			wg.Go(func() {
				for i := range 30 {
					appendEvents(t, e.db, 1000+i*100, 100, "alerting")
					if i%7 == 3 {
						if err := e.db.Roll(context.Background()); err != nil {
							t.Error(err)
						}
					}
				}
			})
			got := c.events(4000)
			wg.Wait()
			wantSeqs(t, got, 1)
			for i, r := range got {
				if msg := r.doc["message"]; msg != fmt.Sprint("event ", i) {
					t.Fatalf("_seq %d: message %v", r.seq, msg)
				}
			}
		})
	}
}

// TestTailResumes: Last-Event-ID wins over from and resumes with the next
// event; from=now starts with the next event stored; from=N at N.
func TestTailResumes(t *testing.T) {
	e := newEnv(t, Config{})
	client := newClient(t)
	appendEvents(t, e.db, 0, 10, "alerting")
	c := openTail(t, client, e.ts.URL+"/api/events/_tail?from=2", map[string]string{"Last-Event-ID": "6"})
	wantSeqs(t, c.events(4), 7)
	c.close()
	c = openTail(t, client, e.ts.URL+"/api/events/_tail?from=3", ndjsonAccept)
	wantSeqs(t, c.events(8), 3)
	c.close()

	now := openTail(t, client, e.ts.URL+"/api/events/_tail?from=now", nil)
	beginning := openTail(t, client, e.ts.URL+"/api/events/_tail?from=beginning", ndjsonAccept)
	appendEvents(t, e.db, 10, 2, "alerting")
	wantSeqs(t, now.events(2), 11)
	wantSeqs(t, beginning.events(12), 1)
}

// TestTailHeartbeats: an idle stream gets ": ping" comments (SSE) or empty
// lines (NDJSON), and says how often in a header.
func TestTailHeartbeats(t *testing.T) {
	e := newEnv(t, Config{HeartbeatInterval: 20 * time.Millisecond})
	for _, header := range []map[string]string{nil, ndjsonAccept} {
		c := openTail(t, newClient(t), e.ts.URL+"/api/events/_tail", header)
		if h := c.resp.Header.Get(HeaderHeartbeat); h != "20ms" {
			t.Fatalf("%s: %q", HeaderHeartbeat, h)
		}
		for range 3 {
			if rec, err := c.next(); err != nil || !rec.ping {
				t.Fatalf("want a heartbeat, got %+v, %v", rec, err)
			}
		}
		c.close()
	}
}

// TestTailSlowReader: a client that stops reading while events keep
// coming is cut off once the bounded buffer stays full, with a last record
// saying exactly where to resume; resuming there loses nothing.
func TestTailSlowReader(t *testing.T) {
	for name, header := range map[string]map[string]string{"sse": nil, "ndjson": ndjsonAccept} {
		t.Run(name, func(t *testing.T) {
			const n = 3000 // of 10 KB: more than the socket buffers hold
			e := bigFixture(t, Config{MaxTailLag: 2, TailStallTimeout: 100 * time.Millisecond, FlushTimeout: 20 * time.Second}, n)
			client := newClient(t)
			c := openTail(t, client, e.ts.URL+"/api/events/_tail", header)
			time.Sleep(500 * time.Millisecond) // not reading
			got, end := c.end()
			if end.Error != "slow reader" || len(got) == n || end.ResumeFrom != uint64(len(got))+1 {
				t.Fatalf("%d events then %+v", len(got), end)
			}
			wantSeqs(t, got, 1)
			// Resuming where it says, again after each cut (a reader slowed
			// by the race detector may be cut again), gives every event once.
			cuts := 1
			for len(got) < n && cuts < 100 {
				c = openTail(t, client, e.ts.URL+"/api/events/_tail?from="+strconv.FormatUint(end.ResumeFrom, 10), header)
				more, err := c.upTo(n - len(got))
				if err != nil {
					t.Fatal(err)
				}
				wantSeqs(t, more, end.ResumeFrom)
				got = append(got, more...)
				if len(got) < n {
					_, end = c.end()
					if end.Error != "slow reader" || end.ResumeFrom != uint64(len(got))+1 {
						t.Fatalf("after %d events: %+v", len(got), end)
					}
					cuts++
				}
				c.close()
			}
			wantSeqs(t, got, 1)
			if len(got) != n {
				t.Fatalf("%d events in %d streams", len(got), cuts)
			}
			if m := scrapeSample(t, e, `eventlog_tail_streams_ended_total{reason="slow_reader"}`); m != strconv.Itoa(cuts) {
				t.Fatalf("slow_reader ends: %s, want %d", m, cuts)
			}
		})
	}
}

// scrapeSample returns the value of one sample of /metrics, as text.
func scrapeSample(t *testing.T, e *env, sample string) string {
	t.Helper()
	r := e.do("GET", "/metrics", "", "")
	for line := range strings.SplitSeq(string(r.body), "\n") {
		if v, ok := strings.CutPrefix(line, sample+" "); ok {
			return v
		}
	}
	t.Fatalf("no %s in /metrics", sample)
	return ""
}

// TestTailCancelStopsGoroutines: a client that goes away, whether its
// tail is waiting for events or sending them, leaves no goroutine behind.
func TestTailCancelStopsGoroutines(t *testing.T) {
	e := newEnv(t, Config{HeartbeatInterval: 10 * time.Millisecond})
	appendEvents(t, e.db, 0, 3000, "alerting")
	client := newClient(t)
	before := goleak.IgnoreCurrent()
	for i := range 6 {
		c := openTail(t, client, e.ts.URL+"/api/events/_tail?from="+strconv.Itoa(1+i*500), ndjsonAccept)
		c.events(10) // then it goes away with much left to send, or waiting
		c.close()
	}
	waitFor(t, "the tails to end", func() bool {
		return scrapeSample(t, e, "eventlog_tail_streams") == "0"
	})
	client.CloseIdleConnections()
	http.DefaultClient.CloseIdleConnections() // the scrapes'
	goleak.VerifyNone(t, before)
	if m := scrapeSample(t, e, `eventlog_tail_streams_ended_total{reason="client_closed"}`); m != "6" {
		t.Fatalf("client_closed ends: %s", m)
	}
}

// TestTailShutdown: Run's shutdown ends open tails at once, each with a
// last record saying where to resume, even one whose client does not read;
// and a tail outlives ReadTimeout.
func TestTailShutdown(t *testing.T) {
	e := newEnv(t, Config{ReadTimeout: 200 * time.Millisecond, ShutdownTimeout: 20 * time.Second, FlushTimeout: 20 * time.Second})
	appendEvents(t, e.db, 0, 5, "alerting")
	big := make([]event.Event, 3000) // of 10 KB: they fill the socket buffers
	for i := range big {
		big[i].Event.Provider, big[i].Event.Action = "actions", "execute"
		big[i].Message = strings.Repeat("m", 10_000)
	}
	if _, err := e.db.Append(context.Background(), big...); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- e.srv.Run(ctx, ln) }()
	base := "http://" + ln.Addr().String() + "/api/events/_tail?filter="
	client := newClient(t)
	sse := openTail(t, client, base+"event.provider:alerting", nil)
	nd := openTail(t, client, base+"event.provider:alerting&from=3", ndjsonAccept)
	stalled := openTail(t, client, base+"event.provider:actions", nil)
	wantSeqs(t, sse.events(5), 1)
	wantSeqs(t, nd.events(3), 3)
	time.Sleep(400 * time.Millisecond) // past ReadTimeout
	appendEvents(t, e.db, 5, 1, "alerting")
	wantSeqs(t, sse.events(1), 3006)
	wantSeqs(t, nd.events(1), 3006)

	start := time.Now()
	cancel()
	for _, c := range []*tailClient{sse, nd} {
		if got, end := c.end(); len(got) != 0 || end != (tailEnd{"server shutting down", 3007}) {
			t.Fatalf("%d events, then %+v", len(got), end)
		}
	}
	select {
	case err := <-ran:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return 10 s after its context was done")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("shutdown took %v", d)
	}
	stalled.close()
}

// TestTailSpace: under /s/{space} a tail keeps the events of that space,
// as _search does, and a filter error names the position in the filter
// as given.
func TestTailSpace(t *testing.T) {
	e := newEnv(t, Config{})
	fix := func(i int, refSpace, spaceIDs string) string {
		return ev{ts: tsAt(i), provider: "alerting", action: "execute", outcome: "success",
			refType: "alert", refID: fmt.Sprint("a", i), refSpace: refSpace, spaceIDs: spaceIDs}.json()
	}
	e.bulk(fix(1, "s1", ""), fix(2, "", ""), fix(3, "", `["s1"]`), fix(4, "s2", `["default"]`),
		ev{ts: tsAt(5), provider: "actions", action: "execute", outcome: "failure"}.json(), // no space: default
		fix(6, "default", ""), fix(7, `s"\x`, ""),
		fix(8, "", `["s1","default","s2","none","s\"\\x"]`)) // in every space: the last of each
	client := newClient(t)
	for space, want := range map[string][]uint64{"s1": {1, 3, 8}, "default": {2, 3, 4, 5, 6, 8}, "s2": {4, 8}, `s"\x`: {7, 8}, "none": {8}} {
		prefix := "/s/" + strings.NewReplacer(`"`, "%22", `\`, "%5C").Replace(space)
		var page struct {
			Total int   `json:"total"`
			Data  []hit `json:"data"`
		}
		e.do("GET", prefix+"/api/events/_search?sort=@timestamp&size=100", "", "").decode(t, &page)
		if page.Total != len(want) {
			t.Fatalf("%s: _search found %d events %+v, want %v", space, page.Total, page.Data, want)
		}
		c := openTail(t, client, e.ts.URL+prefix+"/api/events/_tail", ndjsonAccept)
		for i, rec := range c.events(len(want)) {
			if rec.seq != page.Data[i].Seq || rec.seq != want[i] {
				t.Fatalf("%s: event %d: tail gave %d, _search %d, want %v", space, i, rec.seq, page.Data[i].Seq, want)
			}
		}
		c.close()
	}
	plain := e.do("GET", "/api/events/_tail?filter=event.outcome:failure%20and", "", "").wantError(t, 400, typeInvalidRequest)
	spaced := e.do("GET", "/s/s1/api/events/_tail?filter=event.outcome:failure%20and", "", "").wantError(t, 400, typeInvalidRequest)
	if plain.Error.Reason != spaced.Error.Reason || !strings.Contains(plain.Error.Reason, "at 26") {
		t.Fatalf("reasons:\n%s\n%s", plain.Error.Reason, spaced.Error.Reason)
	}
}

// TestTailBadRequests: mistakes are answered 400 before the stream starts.
func TestTailBadRequests(t *testing.T) {
	e := newEnv(t, Config{})
	for path, hdr := range map[string]string{
		"/api/events/_tail?from=yesterday":     "",
		"/api/events/_tail?from=-1":            "",
		"/api/events/_tail?filter=a:(":         "",
		"/api/events/_tail?size=10":            "",
		"/api/events/_tail?from=1&from=2":      "",
		"/api/events/_tail?from=1&filter=x:y)": "",
		"/api/events/_tail":                    "abc",
	} {
		req, _ := http.NewRequest("GET", e.ts.URL+path, nil)
		if hdr != "" {
			req.Header.Set("Last-Event-ID", hdr)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		r := response{status: resp.StatusCode, header: resp.Header, body: body}
		r.wantError(t, http.StatusBadRequest, typeInvalidRequest)
	}
}

// TestTailStoreClosed: closing the store ends a tail with a last record.
func TestTailStoreClosed(t *testing.T) {
	e := newEnv(t, Config{})
	appendEvents(t, e.db, 0, 3, "alerting")
	c := openTail(t, newClient(t), e.ts.URL+"/api/events/_tail", nil)
	wantSeqs(t, c.events(3), 1)
	if err := e.db.Close(); err != nil && !errors.Is(err, eventlog.ErrClosed) {
		t.Fatal(err)
	}
	if got, end := c.end(); len(got) != 0 || end != (tailEnd{"the store is closed", 4}) {
		t.Fatalf("%d events, then %+v", len(got), end)
	}
}
