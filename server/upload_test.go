package server

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// slowUpload is a request whose body trickles in over a raw connection.
type slowUpload struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

// startSlowUpload sends the headers of a POST to path declaring a body of
// size bytes, with Expect: 100-continue, and waits for the server's 100
// Continue: its handler has started reading the body.
func startSlowUpload(t *testing.T, e *env, path, contentType string, size int) *slowUpload {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.ts.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second)) // a hang fails the test instead
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: test\r\nContent-Type: %s\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n",
		path, contentType, size)
	u := &slowUpload{t: t, conn: conn, br: bufio.NewReader(conn)}
	resp, err := http.ReadResponse(u.br, nil)
	if err != nil {
		t.Fatalf("%s: waiting for 100 Continue: %v", path, err)
	}
	if resp.StatusCode != http.StatusContinue {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s: got %d %s before the body was sent, want 100 Continue", path, resp.StatusCode, body)
	}
	return u
}

// trickle sends one byte of body per interval until the server answers,
// and returns the answer.
func (u *slowUpload) trickle(interval time.Duration) response {
	u.t.Helper()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := u.conn.Write([]byte{' '}); err != nil {
					return // the server hung up
				}
			}
		}
	})
	defer wg.Wait()
	defer close(stop)
	resp, err := http.ReadResponse(u.br, nil)
	if err != nil {
		u.t.Fatalf("waiting for the answer to a slow upload: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		u.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

// TestSlowUploadsDoNotStopIngest: slow uploads, more than there are write
// slots, to every ingest route, hold no write slot while their bodies
// trickle in, so a fast client is stored meanwhile; once the grace period
// passes they are cut off with 408 naming the rate floor.
func TestSlowUploadsDoNotStopIngest(t *testing.T) {
	e := newEnv(t, Config{MaxConcurrentWrites: 2, WriteQueueTimeout: 100 * time.Millisecond,
		MinBodyRate: 1000, BodyRateGrace: 300 * time.Millisecond})
	var slow []*slowUpload
	for _, path := range []string{"/api/events", "/api/events/_bulk", "/api/events", "/api/events/_bulk"} {
		slow = append(slow, startSlowUpload(t, e, path, ctJSON, 10_000))
	}
	if r := e.do("POST", "/api/events", ctJSON, oneEvent(1)); r.status != http.StatusCreated {
		t.Fatalf("fast ingest while %d uploads trickle in: %d %s", len(slow), r.status, r.body)
	}
	e.wantCount(1)
	for i, u := range slow {
		ae := u.trickle(20*time.Millisecond).wantError(t, http.StatusRequestTimeout, typeRequestTimeout)
		if !strings.Contains(ae.Error.Reason, "1000 bytes/s") {
			t.Errorf("slow upload %d: reason %q does not name the rate floor", i, ae.Error.Reason)
		}
	}
	e.wantCount(1)
	if n := e.srv.bodies.inUse(); n != 0 {
		t.Fatalf("%d bytes of the body budget still held after the slow uploads were cut off", n)
	}
}

// TestSlowQueryBodyIsCutOff: the rate floor applies to every route that
// reads a body, not only ingest.
func TestSlowQueryBodyIsCutOff(t *testing.T) {
	e := newEnv(t, Config{MinBodyRate: 1000, BodyRateGrace: 100 * time.Millisecond})
	startSlowUpload(t, e, "/api/events/_search", ctJSON, 500).trickle(20*time.Millisecond).
		wantError(t, http.StatusRequestTimeout, typeRequestTimeout)
}

// TestBodyBudgetFullAnswers429: bodies in flight hold the whole budget; a
// request that finds no room within WriteQueueTimeout is answered 429 with
// Retry-After and stores nothing, and is served once the budget frees.
func TestBodyBudgetFullAnswers429(t *testing.T) {
	e := newEnv(t, Config{MaxBulkBytes: 1000, MaxEventBytes: 1000, MaxBodyBytesInFlight: 1500,
		WriteQueueTimeout: 50 * time.Millisecond, MinBodyRate: -1})
	holder := startSlowUpload(t, e, "/api/events/_bulk", ctNDJSON, 1000) // takes 1000 of 1500
	padded := oneEvent(1) + strings.Repeat(" ", 600-len(oneEvent(1)))
	r := e.do("POST", "/api/events", ctJSON, padded)
	r.wantError(t, http.StatusTooManyRequests, typeOverloaded)
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	e.wantCount(0)
	if got := scrapeSample(t, e, "eventlog_request_body_bytes_in_flight"); got != "1000" {
		t.Errorf("eventlog_request_body_bytes_in_flight %s, want 1000", got)
	}

	holder.conn.Close()
	waitFor(t, "the cut upload to give its budget back", func() bool { return e.srv.bodies.inUse() == 0 })
	if r := e.do("POST", "/api/events", ctJSON, padded); r.status != http.StatusCreated {
		t.Fatalf("with the budget free: %d %s", r.status, r.body)
	}
	e.wantCount(1)
}
