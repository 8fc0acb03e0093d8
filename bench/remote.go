package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/eventlogdb/eventlog/client"
	"github.com/eventlogdb/eventlog/event"
)

// Retry limits of the bench's client: how often one batch is offered to a
// server that keeps answering 429, and the longest wait between two offers
// whatever Retry-After says.
const (
	maxBulkAttempts = 20
	maxRetryWait    = 5 * time.Second
)

// remote is an eventlog server, driven over its HTTP API through package
// client: events go to POST /api/events/_bulk as NDJSON, queries to
// _search and _aggregate, the WAL's counters come from /api/_stats and the
// process's from /metrics.
type remote struct {
	c  *client.Client
	hc *http.Client
	// throttled counts the 429 answers retried since append last took it.
	throttled atomic.Int64
	// The server process's CPU seconds when the run started and its
	// largest RSS sampled since; cpu0 < 0 when /metrics is unreadable.
	cpu0, rss float64
	// apiKey is sent to /metrics too (Config.APIKey).
	apiKey string
	// es: events go to /es/_bulk (Config.ES).
	es bool
}

// openRemote checks the URL and registers pairs with the server.
func openRemote(ctx context.Context, cfg *Config, pairs map[string][]string) (*remote, error) {
	hc := cfg.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = cfg.Concurrency + 2 // writers + queries + stats
		hc = &http.Client{Transport: tr}
	}
	t := &remote{hc: hc, cpu0: -1, apiKey: cfg.APIKey, es: cfg.ES}
	c, err := client.New(cfg.URL, &client.Options{
		HTTPClient: hc, MaxAttempts: maxBulkAttempts, MaxRetryWait: maxRetryWait, OnRetry: t.retried, APIKey: cfg.APIKey,
	})
	if err != nil {
		return nil, err
	}
	t.c = c
	for provider, actions := range pairs {
		if err := c.Do(ctx, http.MethodPut, "api/providers/"+provider, nil, map[string][]string{"actions": actions}, nil); err != nil {
			return nil, fmt.Errorf("register %s: %w", provider, err)
		}
	}
	if m, err := t.metrics(ctx); err == nil {
		t.cpu0, t.rss = m.cpu, m.rss
	}
	return t, nil
}

// retried counts the retries of an overloaded server's 429s.
func (t *remote) retried(err error, _ time.Duration) {
	var ae *client.APIError
	if errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests {
		t.throttled.Add(1)
	}
}

// append posts events as one _bulk request, which the client retries
// while the server answers 429, and returns the 429s retried since the
// last append took them (their total over a run is exact). A rejected
// event fails the run: the workload is decoded and registered before it
// starts, so a rejection is a bug to see.
func (t *remote) append(ctx context.Context, events []event.Event, scratch *[]byte) (int, error) {
	*scratch = t.encode((*scratch)[:0], events)
	return t.send(ctx, *scratch, len(events))
}

// encode appends the request body of events to dst: NDJSON, with an
// action line before each event for /es/_bulk.
func (t *remote) encode(dst []byte, events []event.Event) []byte {
	for i := range events {
		if t.es {
			dst = append(dst, esCreateLine...)
		}
		dst = append(event.AppendJSON(dst, &events[i]), '\n')
	}
	return dst
}

// send posts body, the encoding of n events, as append does.
func (t *remote) send(ctx context.Context, body []byte, n int) (int, error) {
	if t.es {
		failed, first, err := t.c.ESBulk(ctx, body)
		if err == nil && failed > 0 {
			err = fmt.Errorf("server rejected %d of %d events (first: %s)", failed, n, first)
		}
		return int(t.throttled.Swap(0)), err
	}
	// Only the refused lines are answered: decoding an item per stored
	// event would cost the client, on the server's cores, more than
	// encoding the events.
	items, err := t.c.BulkFailures(ctx, body)
	if err == nil {
		err = rejected(items, n)
	}
	return int(t.throttled.Swap(0)), err
}

// esCreateLine is the action line before each event sent to /es/_bulk.
const esCreateLine = `{"create":{"_index":"bench"}}` + "\n"

// rejected describes the items a _bulk answer of n events rejected, or is
// nil.
func rejected(items []client.BulkItem, n int) error {
	failed, first := 0, ""
	for _, it := range items {
		if it.Status/100 != 2 {
			if failed++; failed == 1 {
				first = fmt.Sprintf("line %d: %d %+v", it.Line, it.Status, it.Error)
			}
		}
	}
	if failed == 0 {
		return nil
	}
	return fmt.Errorf("server rejected %d of %d events (first: %s)", failed, n, first)
}

// query runs k through _search or _aggregate, discarding the answer as it
// reads it, so that the latency measured is the server's, not the time to
// decode its events.
func (t *remote) query(ctx context.Context, k QueryKind) error {
	path := "api/events/_search"
	if k.Aggregate {
		path = "api/events/_aggregate"
	}
	return t.c.Do(ctx, http.MethodPost, path, nil, k.Req, nil)
}

func (t *remote) fsyncs(ctx context.Context) (uint64, bool) {
	var st struct {
		WAL struct {
			Fsyncs uint64 `json:"fsyncs"`
		} `json:"wal"`
	}
	err := t.c.Do(ctx, http.MethodGet, "api/_stats", nil, nil, &st)
	return st.WAL.Fsyncs, err == nil
}

func (t *remote) sample(ctx context.Context) {
	if m, err := t.metrics(ctx); err == nil {
		t.rss = max(t.rss, m.rss)
	}
}

// finish reports the server's CPU time over the run and the largest RSS
// sampled, when its /metrics has the process collector's figures.
func (t *remote) finish(ctx context.Context, rep *Report) error {
	m, err := t.metrics(ctx)
	if err != nil || t.cpu0 < 0 {
		return nil // the report goes without the server's figures
	}
	p := &Process{PeakRSSBytes: int64(max(t.rss, m.rss)), CPUSeconds: m.cpu - t.cpu0}
	if rep.Events > 0 {
		p.CPUMicrosPerEvent = p.CPUSeconds / float64(rep.Events) * 1e6
	}
	rep.Server = p
	return nil
}

func (t *remote) close() error {
	t.c.CloseIdleConnections()
	return nil
}

// processMetrics are the process collector's figures of a server.
type processMetrics struct{ cpu, rss float64 }

// metrics reads process_cpu_seconds_total and
// process_resident_memory_bytes from the server's /metrics.
func (t *remote) metrics(ctx context.Context) (processMetrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.metricsURL(), nil)
	if err != nil {
		return processMetrics{}, err
	}
	req.Header.Set("Accept", "text/plain")
	if t.apiKey != "" {
		req.Header.Set("Authorization", "ApiKey "+t.apiKey)
	}
	resp, err := t.hc.Do(req)
	if err != nil {
		return processMetrics{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return processMetrics{}, fmt.Errorf("/metrics: %s", resp.Status)
	}
	return parseProcessMetrics(resp.Body)
}

// metricsURL is the server's /metrics.
func (t *remote) metricsURL() string {
	u, _ := url.JoinPath(t.c.URL(), "metrics") // client.New checked the URL
	return u
}

// parseProcessMetrics finds the two process metrics in the Prometheus
// text format.
func parseProcessMetrics(r io.Reader) (processMetrics, error) {
	var m processMetrics
	found := 0
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		var dst *float64
		switch {
		case !ok:
			continue
		case name == "process_cpu_seconds_total":
			dst = &m.cpu
		case name == "process_resident_memory_bytes":
			dst = &m.rss
		default:
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return m, fmt.Errorf("/metrics: %s: %w", name, err)
		}
		*dst = v
		found++
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	if found < 2 {
		return m, errors.New("/metrics: no process_cpu_seconds_total and process_resident_memory_bytes")
	}
	return m, nil
}
