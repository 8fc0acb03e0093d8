package server

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"pgregory.net/rapid"
)

// TestBulkChunksKeepItemsAndOrder: a _bulk of three chunks (bulkChunk
// documents each) with bad lines on the chunks' edges answers every item
// as if it were decoded at once: the bad ones fail with their line, the
// others are stored in line order under consecutive sequence numbers, and
// the stored documents are the lines sent, even after later requests reuse
// the body's memory (the events were decoded sharing it).
func TestBulkChunksKeepItemsAndOrder(t *testing.T) {
	e := newEnv(t, Config{})
	n := 2*bulkChunk + 100
	bad := map[int]string{ // line index -> the error type it must get
		0:               typeInvalidEvent,
		bulkChunk - 1:   typeUnregistered,
		bulkChunk:       typeInvalidEvent,
		2*bulkChunk - 1: typeInvalidEvent,
		n - 1:           typeUnregistered,
	}
	docs := make([]string, n)
	for i := range docs {
		switch bad[i] {
		case typeInvalidEvent:
			docs[i] = `{"event":{"provider":"alerting",`
		case typeUnregistered:
			docs[i] = ev{ts: tsAt(i), provider: "alerting", action: "sleep", outcome: "success"}.json()
		default:
			docs[i] = ev{ts: tsAt(i), provider: "alerting", action: "execute", outcome: "success", refType: "rule", refID: fmt.Sprintf("r%d", i)}.json()
		}
	}
	r := e.do("POST", "/api/events/_bulk", ctNDJSON, ndjson(docs...))
	var got bulkAnswer
	r.decode(t, &got)
	if r.status != http.StatusOK || !got.Errors || len(got.Items) != n {
		t.Fatalf("got %d, %d items: %.300s", r.status, len(got.Items), r.body)
	}
	var next uint64 = 1
	for i, it := range got.Items {
		if typ, isBad := bad[i]; isBad {
			if it.Status == 201 || it.Error == nil || it.Error.Type != typ || it.Line != i+1 {
				t.Fatalf("item %d: %+v, want a %s error on line %d", i, it, typ, i+1)
			}
			continue
		}
		if it.Status != 201 || it.Seq != next {
			t.Fatalf("item %d: status %d seq %d, want 201 and seq %d", i, it.Status, it.Seq, next)
		}
		next++
	}
	e.wantCount(n - len(bad))

	// Another request through the same pooled buffers, then every stored
	// event must still be its line.
	other := make([]string, 50)
	for i := range other {
		other[i] = ev{ts: tsAt(n + i), provider: "actions", action: "execute", outcome: "failure", refType: "connector", refID: strings.Repeat("z", 30)}.json()
	}
	e.bulk(other...)
	var page struct {
		Data []struct {
			TS     string `json:"@timestamp"`
			Kibana struct {
				SavedObjects []struct{ ID string } `json:"saved_objects"`
			} `json:"kibana"`
		}
	}
	r = e.do("POST", "/api/events/_search", ctJSON, `{"filter":"event.provider:alerting","per_page":10000}`)
	if r.status != http.StatusOK {
		t.Fatalf("search: %d %s", r.status, r.body)
	}
	r.decode(t, &page)
	i := 0
	for _, h := range page.Data {
		for bad[i] != "" {
			i++
		}
		if h.TS != tsAt(i) || len(h.Kibana.SavedObjects) != 1 || h.Kibana.SavedObjects[0].ID != fmt.Sprintf("r%d", i) {
			t.Fatalf("stored event for line %d: %+v", i+1, h)
		}
		i++
	}
	if len(page.Data) != n-len(bad) {
		t.Fatalf("searched %d alerting events, want %d", len(page.Data), n-len(bad))
	}
}

// TestBulkEscapedClientID: a client id spelt with JSON escapes still makes
// the request go whole to Append, which deduplicates it: the same event
// sent again is a noop, not a second copy.
func TestBulkEscapedClientID(t *testing.T) {
	e := newEnv(t, Config{})
	doc := strings.Replace(ev{ts: tsAt(1), provider: "alerting", action: "execute", outcome: "success"}.json(), "{", `{"\u005fid":"one",`, 1)
	for i, want := range []int{201, 200} {
		r := e.do("POST", "/api/events/_bulk", ctNDJSON, ndjson(doc))
		var got bulkAnswer
		r.decode(t, &got)
		if r.status != http.StatusOK || len(got.Items) != 1 || got.Items[0].Status != want || got.Items[0].ID != "one" {
			t.Fatalf("request %d: %d %s, want item status %d", i, r.status, r.body, want)
		}
	}
	e.wantCount(1)
}

// TestBulkClientIDsFoundByDecoding: on the native _bulk, where decoding
// finds the client ids (errClientIDs), a body whose ids, plain or spelt
// with escapes, come in any chunk and among bad lines is answered as if
// appended whole from the start: each event with an id created once and a
// noop when the body is sent again, the others stored each time in line
// order, and each bad line failed with its line and counted as rejected
// once a request.
func TestBulkClientIDsFoundByDecoding(t *testing.T) {
	e := newEnv(t, Config{})
	before := goleak.IgnoreCurrent()
	stored, rejected, round := 0, 0, 0
	rapid.Check(t, func(rt *rapid.T) {
		round++
		// One chunk, or two; ids and bad lines anywhere, often an id in
		// the last chunk and a bad line in the first.
		n := rapid.OneOf(rapid.IntRange(1, 50), rapid.IntRange(bulkChunk+1, bulkChunk+200)).Draw(rt, "n")
		line := rapid.IntRange(0, n-1)
		ids := rapid.SliceOfNDistinct(rapid.OneOf(line, rapid.Just(n-1)), 0, 3, rapid.ID).Draw(rt, "ids")
		bad := rapid.SliceOfNDistinct(rapid.OneOf(line, rapid.Just(0)), 0, 3, rapid.ID).Draw(rt, "bad")
		key := rapid.SampledFrom([]string{`"_id"`, `"\u005fid"`, `"_\u0069d"`, `"_i\u0064"`}).Draw(rt, "key")
		want := make([]int, n) // first status of each line; 0: bad
		docs := make([]string, n)
		for i := range docs {
			docs[i] = ev{ts: tsAt(round*10_000 + i), provider: "alerting", action: "execute", outcome: "success"}.json()
			want[i] = http.StatusCreated
		}
		for _, i := range ids {
			docs[i] = strings.Replace(docs[i], "{", fmt.Sprintf(`{%s:"id-%d-%d",`, key, round, i), 1)
		}
		for _, i := range bad {
			docs[i], want[i] = `{"event":{"provider":"alerting",`, 0
		}
		for send := range 2 {
			r := e.do("POST", "/api/events/_bulk", ctNDJSON, ndjson(docs...))
			var got bulkAnswer
			r.decode(t, &got)
			if r.status != http.StatusOK || len(got.Items) != n {
				rt.Fatalf("send %d: %d, %d items: %.300s", send, r.status, len(got.Items), r.body)
			}
			var last uint64
			for i, it := range got.Items {
				if it.Status == http.StatusCreated {
					if it.Seq <= last {
						rt.Fatalf("send %d, line %d: seq %d after %d, want them in line order", send, i+1, it.Seq, last)
					}
					last = it.Seq
				}
				w := want[i]
				if send == 1 && w != 0 && strings.Contains(docs[i], "id-") {
					w = http.StatusOK // the same event with the same id: a noop
				}
				switch {
				case w == 0 && (it.Error == nil || it.Line != i+1):
					rt.Fatalf("send %d, line %d: %+v, want an error", send, i+1, it)
				case w != 0 && it.Status != w:
					rt.Fatalf("send %d, line %d: %+v, want status %d", send, i+1, it, w)
				}
			}
		}
		stored += 2*(n-len(bad)) - countIDs(docs)
		rejected += 2 * len(bad)
		if got := e.count(); got != stored {
			rt.Fatalf("store holds %d events, want %d", got, stored)
		}
		if got := e.rejectedTotal(); got != rejected {
			rt.Fatalf("%d events counted as rejected, want %d", got, rejected)
		}
	})
	// No decoding worker outlives its request, also when its request
	// turned whole (the connections' goroutines stay for the next).
	goleak.VerifyNone(t, before, goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"), goleak.IgnoreAnyFunction("net/http.(*conn).serve"))
}

// countIDs counts the documents holding a client id of
// TestBulkClientIDsFoundByDecoding.
func countIDs(docs []string) int {
	n := 0
	for _, d := range docs {
		if strings.Contains(d, `"id-`) {
			n++
		}
	}
	return n
}

// rejectedTotal is the sum of eventlog_events_rejected_total over its
// reasons.
func (e *env) rejectedTotal() int {
	e.t.Helper()
	r := e.do("GET", "/metrics", "", "")
	total := 0
	for _, line := range strings.Split(string(r.body), "\n") {
		if rest, ok := strings.CutPrefix(line, "eventlog_events_rejected_total{"); ok {
			var v int
			if _, err := fmt.Sscan(rest[strings.IndexByte(rest, ' ')+1:], &v); err != nil {
				e.t.Fatalf("metric line %q: %v", line, err)
			}
			total += v
		}
	}
	return total
}

// TestMayHoldClientIDs: the body check errs only on the side of yes.
func TestMayHoldClientIDs(t *testing.T) {
	for body, want := range map[string]bool{
		`{"rule_id":"x","message":"an _id in text"}`: false,
		`{"_id":"x"}`:             true,
		`{"\u005fid":"x"}`:        true,
		`{"_\u0069d":"x"}`:        true,
		`{"_i\u0064":"x"}`:        true,
		`{"message":"caf\u00e9"}`: false,
		`{"message":"\u00`:        false,
	} {
		if got := mayHoldClientIDs([]byte(body)); got != want {
			t.Errorf("%s: %v, want %v", body, got, want)
		}
	}
}

// TestHoldsIDKeyLikeContains checks holdsIDKey against bytes.Contains,
// the model, on bodies drawn from the bytes that make up the key and its
// near misses.
func TestHoldsIDKeyLikeContains(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		body := rapid.SliceOf(rapid.SampledFrom([]byte(`"_id:x`))).Draw(t, "body")
		if got, want := holdsIDKey(body), bytes.Contains(body, []byte(`"_id"`)); got != want {
			t.Fatalf("%q: %v, bytes.Contains %v", body, got, want)
		}
	})
}

// TestBulkWorkingSetCharged: a _bulk whose body fits the memory budget but
// whose working set (its decoded chunk and WAL record) does not is answered
// 429 with Retry-After, stores nothing and leaves nothing charged; while it
// runs, a request's working set is charged to AccountIngest.
func TestBulkWorkingSetCharged(t *testing.T) {
	prev := debug.SetMemoryLimit(math.MaxInt64 - 1) // the test binary keeps its own limit
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	docs := make([]string, 100)
	for i := range docs {
		docs[i] = ev{ts: tsAt(i), provider: "alerting", action: "execute", outcome: "success"}.json()
	}
	body := ndjson(docs...)
	work := bulkWorkingSet([]byte(body), false)
	if want := int64(len(body)) + 101*decodedEventBytes; work != want {
		t.Fatalf("working set %d, want %d", work, want)
	}
	limit := int64(len(body)) + work/2 // the body fits, body and working set do not
	e := &env{t: t, dir: t.TempDir(), cfg: Config{WriteQueueTimeout: 20 * time.Millisecond}, memoryLimit: limit}
	e.open()
	t.Cleanup(e.close)
	r := e.do("POST", "/api/events/_bulk", ctNDJSON, body)
	r.wantError(t, http.StatusTooManyRequests, typeOverloaded)
	if r.header.Get("Retry-After") != "1" || !strings.Contains(string(r.body), fmt.Sprintf("memory limit of %d bytes", limit)) {
		t.Fatalf("Retry-After %q, body %s", r.header.Get("Retry-After"), r.body)
	}
	e.wantCount(0)
	for _, a := range []string{AccountBodies, AccountIngest} {
		if n := e.db.Memory().Account(a).Used(); n != 0 {
			t.Fatalf("a refused request left %d bytes charged to %s", n, a)
		}
	}
}
