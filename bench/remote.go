package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/eventlogdb/eventlog/event"
)

// Limits of the HTTP client: how often one batch is offered to a server
// that keeps answering 429, and the longest wait between two offers
// whatever Retry-After says.
const (
	maxBulkAttempts = 20
	maxRetryWait    = 5 * time.Second
)

// remote is an eventlog server, driven over its HTTP API: events go to
// POST /api/events/_bulk as NDJSON, queries to _search and _aggregate, the
// WAL's counters come from /api/_stats and the process's from /metrics.
type remote struct {
	base *url.URL
	hc   *http.Client
	// The server process's CPU seconds when the run started and its
	// largest RSS sampled since; cpu0 < 0 when /metrics is unreadable.
	cpu0, rss float64
}

// openRemote checks the URL and registers pairs with the server.
func openRemote(ctx context.Context, cfg *Config, pairs map[string][]string) (*remote, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("url %q: want http://HOST:PORT", cfg.URL)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = cfg.Concurrency + 2 // writers + queries + stats
		hc = &http.Client{Transport: tr}
	}
	t := &remote{base: u, hc: hc, cpu0: -1}
	for provider, actions := range pairs {
		body, _ := json.Marshal(map[string][]string{"actions": actions})
		if err := t.do(ctx, http.MethodPut, "/api/providers/"+url.PathEscape(provider), "application/json", body, nil); err != nil {
			return nil, fmt.Errorf("register %s: %w", provider, err)
		}
	}
	if m, err := t.metrics(ctx); err == nil {
		t.cpu0, t.rss = m.cpu, m.rss
	}
	return t, nil
}

// httpError is a non-2xx answer.
type httpError struct {
	status     int
	body       string
	retryAfter string
}

func (e *httpError) Error() string { return fmt.Sprintf("server answered %d: %s", e.status, e.body) }

// do sends body to path and decodes a 2xx answer into out (nil: discard).
func (t *remote) do(ctx context.Context, method, path, contentType string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, t.base.JoinPath(path).String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := t.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		return &httpError{status: resp.StatusCode, body: strings.TrimSpace(string(b)), retryAfter: resp.Header.Get("Retry-After")}
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// bulkAnswer is the part of a _bulk answer the client reads.
type bulkAnswer struct {
	Errors bool `json:"errors"`
	Items  []struct {
		Status int             `json:"status"`
		Line   int             `json:"line"`
		Error  json.RawMessage `json:"error"`
	} `json:"items"`
}

// append posts events as one _bulk request, waiting and retrying while the
// server answers 429. A rejected event fails the run: the workload is
// decoded and registered before it starts, so a rejection is a bug to see.
func (t *remote) append(ctx context.Context, events []event.Event, scratch *[]byte) (int, error) {
	body := (*scratch)[:0]
	for i := range events {
		body = append(event.AppendJSON(body, &events[i]), '\n')
	}
	*scratch = body
	for attempt := 1; ; attempt++ {
		var ans bulkAnswer
		err := t.do(ctx, http.MethodPost, "/api/events/_bulk", "application/x-ndjson", body, &ans)
		var he *httpError
		if errors.As(err, &he) && he.status == http.StatusTooManyRequests && attempt < maxBulkAttempts {
			if err := sleepCtx(ctx, retryWait(he.retryAfter)); err != nil {
				return attempt, err
			}
			continue
		}
		if err == nil && ans.Errors {
			err = rejected(&ans)
		}
		return attempt - 1, err
	}
}

// rejected describes the items a _bulk answer rejected.
func rejected(ans *bulkAnswer) error {
	n, first := 0, ""
	for _, it := range ans.Items {
		if it.Status/100 != 2 {
			if n++; n == 1 {
				first = fmt.Sprintf("line %d: %d %s", it.Line, it.Status, it.Error)
			}
		}
	}
	return fmt.Errorf("server rejected %d of %d events (first: %s)", n, len(ans.Items), first)
}

// retryWait is how long to wait for a Retry-After value (seconds).
func retryWait(h string) time.Duration {
	s, err := strconv.Atoi(strings.TrimSpace(h))
	if err != nil || s <= 0 {
		return 100 * time.Millisecond
	}
	return min(time.Duration(s)*time.Second, maxRetryWait)
}

func (t *remote) query(ctx context.Context, k QueryKind) error {
	path := "/api/events/_search"
	if k.Aggregate {
		path = "/api/events/_aggregate"
	}
	body, err := json.Marshal(k.Req)
	if err != nil {
		return err
	}
	return t.do(ctx, http.MethodPost, path, "application/json", body, nil)
}

func (t *remote) fsyncs(ctx context.Context) (uint64, bool) {
	var st struct {
		WAL struct {
			Fsyncs uint64 `json:"fsyncs"`
		} `json:"wal"`
	}
	err := t.do(ctx, http.MethodGet, "/api/_stats", "", nil, &st)
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
	t.hc.CloseIdleConnections()
	return nil
}

// processMetrics are the process collector's figures of a server.
type processMetrics struct{ cpu, rss float64 }

// metrics reads process_cpu_seconds_total and
// process_resident_memory_bytes from the server's /metrics.
func (t *remote) metrics(ctx context.Context) (processMetrics, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.base.JoinPath("/metrics").String(), nil)
	if err != nil {
		return processMetrics{}, err
	}
	req.Header.Set("Accept", "text/plain")
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
