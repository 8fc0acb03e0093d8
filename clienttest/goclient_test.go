package clienttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"

	"github.com/eventlogdb/eventlog/server"
)

// statusCounter is a transport that counts the answers of each status.
type statusCounter struct {
	next   http.RoundTripper
	counts [600]atomic.Int64
}

func (c *statusCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if err == nil && resp.StatusCode < len(c.counts) {
		c.counts[resp.StatusCode].Add(1)
	}
	return resp, err
}

// goClient returns an official client for the store's /es routes, with
// the retry settings a shipper uses: 429 retried with a short backoff.
func (s *store) goClient(compress bool) (*elasticsearch.Client, *statusCounter) {
	s.t.Helper()
	sc := &statusCounter{next: http.DefaultTransport}
	es, err := elasticsearch.NewClient(elasticsearch.Config{
		Addresses:           []string{s.esURL},
		Transport:           sc,
		RetryOnStatus:       []int{429, 502, 503, 504},
		MaxRetries:          50,
		RetryBackoff:        func(int) time.Duration { return 20 * time.Millisecond },
		CompressRequestBody: compress,
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return es, sc
}

// docs returns n documents of a test, each with a distinct message.
func docs(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", prefix, i)
	}
	return out
}

// TestGoClientInfoAndBulk: the client's product check passes, and a
// Bulk request (gzip-compressed, as the client sends it when told) stores
// every document once, answered item by item as Elasticsearch does.
func TestGoClientInfoAndBulk(t *testing.T) {
	s := newStore(t, server.Config{})
	es, _ := s.goClient(true)
	info, err := es.Info()
	if err != nil || info.IsError() {
		t.Fatalf("Info: %v %v", err, info)
	}
	info.Body.Close()
	msgs := docs("go-bulk", 50)
	var body bytes.Buffer
	for _, m := range msgs {
		fmt.Fprintf(&body, "{\"create\":{}}\n{\"message\":%q,\"@timestamp\":\"2026-01-02T03:04:05Z\"}\n", m)
	}
	res, err := es.Bulk(&body, es.Bulk.WithIndex("go-bulk"))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.IsError() {
		t.Fatalf("Bulk: %s", res)
	}
	var out struct {
		Errors bool
		Items  []map[string]struct {
			Status int
			Result string
			Index  string `json:"_index"`
		}
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if out.Errors || len(out.Items) != len(msgs) {
		t.Fatalf("errors %v, %d items, want none and %d", out.Errors, len(out.Items), len(msgs))
	}
	for i, it := range out.Items {
		if c := it["create"]; c.Status != 201 || c.Result != "created" || c.Index != "go-bulk" {
			t.Fatalf("item %d: %+v", i, it)
		}
	}
	s.wantEachOnce("_index:go-bulk", msgs)
}

// TestGoClientBulkIndexerRetriesOverload runs esutil.BulkIndexer with
// four workers against a server admitting one write at a time, which
// refuses with 429 the requests that wait longer than a millisecond: the
// client retries them, reports every item indexed, and every document is
// stored once.
func TestGoClientBulkIndexerRetriesOverload(t *testing.T) {
	s := newStore(t, server.Config{
		MaxConcurrentWrites: 1, WriteQueueTimeout: time.Millisecond,
		MaxBulkBytes: 16 << 10, MaxBodyBytesInFlight: 16 << 10,
	})
	es, sc := s.goClient(false)
	var failed atomic.Int64
	var firstFailure atomic.Value
	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{
		Client: es, Index: "go-indexer", NumWorkers: 4, FlushBytes: 4 << 10, FlushInterval: time.Hour,
		OnError: func(_ context.Context, err error) { failed.Add(1); firstFailure.CompareAndSwap(nil, err.Error()) },
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs := docs("go-indexer", 2000)
	for _, m := range msgs {
		err := bi.Add(context.Background(), esutil.BulkIndexerItem{
			Action: "index",
			Body:   strings.NewReader(fmt.Sprintf(`{"message":%q}`, m)),
			OnFailure: func(_ context.Context, _ esutil.BulkIndexerItem, res esutil.BulkIndexerResponseItem, err error) {
				failed.Add(1)
				firstFailure.CompareAndSwap(nil, fmt.Sprintf("%d %s: %s %v", res.Status, res.Error.Type, res.Error.Reason, err))
			},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := bi.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := bi.Stats()
	if failed.Load() != 0 || st.NumFailed != 0 || st.NumIndexed != uint64(len(msgs)) {
		t.Fatalf("stats %+v, %d failures (first: %v), want all %d indexed", st, failed.Load(), firstFailure.Load(), len(msgs))
	}
	if n := sc.counts[http.StatusTooManyRequests].Load(); n == 0 {
		t.Fatalf("no request was refused with 429 (%d flushes): the test did not exercise overload", st.NumFlushed)
	} else {
		t.Logf("%d flushes, %d answers 429 retried", st.NumFlushed, n)
	}
	s.wantEachOnce("_index:go-indexer", msgs)
}

// TestGoClientResendWithIDs: a shipper that resends everything it sent
// (it never saw the answers) with the same _id stores nothing twice, and
// esutil.BulkIndexer reports both passes as successes (a resent index of
// the same document is a noop).
func TestGoClientResendWithIDs(t *testing.T) {
	s := newStore(t, server.Config{})
	es, _ := s.goClient(false)
	msgs := docs("go-resend", 300)
	for pass := range 2 {
		bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{Client: es, Index: "go-resend", NumWorkers: 2, FlushBytes: 8 << 10})
		if err != nil {
			t.Fatal(err)
		}
		var noops atomic.Int64
		for _, m := range msgs {
			err := bi.Add(context.Background(), esutil.BulkIndexerItem{
				Action: "index", DocumentID: "id-" + m,
				Body: strings.NewReader(fmt.Sprintf(`{"message":%q,"@timestamp":"2026-01-02T03:04:05Z"}`, m)),
				OnSuccess: func(_ context.Context, _ esutil.BulkIndexerItem, res esutil.BulkIndexerResponseItem) {
					if res.Result == "noop" {
						noops.Add(1)
					}
				},
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		if err := bi.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		st := bi.Stats()
		wantNoops := int64(0)
		if pass == 1 {
			wantNoops = int64(len(msgs))
		}
		if st.NumFailed != 0 || st.NumIndexed != uint64(len(msgs)) || noops.Load() != wantNoops {
			t.Fatalf("pass %d: stats %+v, %d noops; want all %d indexed, %d noops", pass, st, noops.Load(), len(msgs), wantNoops)
		}
	}
	s.wantEachOnce("_index:go-resend", msgs)
}
