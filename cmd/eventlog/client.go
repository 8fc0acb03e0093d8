package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query"
)

// addURLFlag defines --url, which makes query, export and ingest work
// through a server's HTTP API instead of opening --data.
func addURLFlag(fs *flag.FlagSet) *string {
	return fs.String("url", os.Getenv("EVENTLOG_URL"), "work through the eventlog server at this URL (http://HOST:PORT) instead of --data (env EVENTLOG_URL)")
}

// remote returns the client of the server --url names, or nil without
// --url. --url with an explicit --data is a usage error.
func remote(fs *flag.FlagSet, rawURL string) (*apiClient, error) {
	if rawURL == "" {
		return nil, nil
	}
	if isSet(fs, "data") {
		return nil, fmt.Errorf("--url and --data: give the server or the data directory, not both: %w", errUsage)
	}
	return newAPIClient(rawURL)
}

// isSet reports whether the flag name was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// maxBulkAttempts bounds how often ingest sends one batch while the server
// answers 429 (overloaded), and maxRetryWait how long it waits between
// two attempts, whatever Retry-After says.
const (
	maxBulkAttempts = 10
	maxRetryWait    = 30 * time.Second
)

// apiClient calls the HTTP API of an eventlog server.
type apiClient struct {
	base *url.URL
	http *http.Client
}

func newAPIClient(rawURL string) (*apiClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("--url %q: want http://HOST:PORT: %w", rawURL, errUsage)
	}
	return &apiClient{base: u, http: &http.Client{}}, nil
}

// String is the server's URL, as given.
func (c *apiClient) String() string { return c.base.String() }

// apiError is an error answer of the server:
// {"status":N,"error":{"type":T,"reason":R}}.
type apiError struct {
	Status     int
	Type       string
	Reason     string
	retryAfter string // the Retry-After header of a 429
}

// Error is the reason alone for a mistake of the request, as the local
// commands say it; other answers name the status too.
func (e *apiError) Error() string {
	if e.Status >= 400 && e.Status < 500 && e.Status != http.StatusTooManyRequests {
		return e.Reason
	}
	return fmt.Sprintf("server: %d %s: %s", e.Status, e.Type, e.Reason)
}

// post sends body to the API path and returns the response if its status
// is 2xx; otherwise the server's error, closing the response.
func (c *apiClient) post(ctx context.Context, path, contentType string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base.JoinPath(path).String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, readAPIError(resp)
}

// readAPIError decodes an error answer, or describes one that is not the
// server's JSON (a proxy's, say).
func readAPIError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var body struct {
		Error struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"error"`
	}
	e := &apiError{Status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	if json.Unmarshal(b, &body) == nil && body.Error.Reason != "" {
		e.Type, e.Reason = body.Error.Type, body.Error.Reason
		return e
	}
	e.Type, e.Reason = "http", strings.TrimSpace(resp.Status+" "+string(bytes.TrimSpace(b)))
	return e
}

// postJSON posts v as JSON and decodes the 2xx answer into out.
func (c *apiClient) postJSON(ctx context.Context, path string, v, out any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	resp, err := c.post(ctx, path, "application/json", body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s: bad answer: %w", path, err)
	}
	return nil
}

// searchAnswer is the body of a _search answer.
type searchAnswer struct {
	Total        int               `json:"total"`
	Data         []json.RawMessage `json:"data"`
	Next         *string           `json:"next"`
	Aggregations json.RawMessage   `json:"aggregations"`
}

// query answers req as DB.Query does, through _search, which computes the
// aggregations too (over the same snapshot as the page), and returns them
// as JSON.
func (c *apiClient) query(ctx context.Context, req query.Request) (*query.Result, []byte, error) {
	var page searchAnswer
	if err := c.postJSON(ctx, "api/events/_search", req, &page); err != nil {
		return nil, nil, err
	}
	res := &query.Result{Total: page.Total, Page: max(req.Page, 1), PerPage: req.PerPage, Hits: make([]query.Hit, len(page.Data))}
	if res.PerPage == 0 {
		res.PerPage = query.DefaultPerPage
	}
	if page.Next != nil {
		res.Next = *page.Next
	}
	for i, raw := range page.Data {
		h, err := decodeAPIEvent(raw)
		if err != nil {
			return nil, nil, fmt.Errorf("_search: %w", err)
		}
		res.Hits[i] = h
	}
	return res, page.Aggregations, nil
}

// export calls fn with every event req selects, in order, as _export
// streams them.
func (c *apiClient) export(ctx context.Context, req query.Request, fn func(query.Hit) error) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	resp, err := c.post(ctx, "api/events/_export", "application/json", body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	lr := newLineReader(resp.Body, 1<<30)
	for {
		line, err := lr.next()
		switch {
		case err == io.EOF:
			if t := resp.Trailer.Get("X-Eventlog-Error"); t != "" {
				return fmt.Errorf("_export: the server ended the export with an error: %s", t)
			}
			return nil
		case err != nil:
			return fmt.Errorf("_export: %w", err)
		case isBlank(line):
			continue
		}
		h, err := decodeAPIEvent(line)
		if err != nil {
			return fmt.Errorf("_export: %w", err)
		}
		if err := fn(h); err != nil {
			return err
		}
	}
}

// eventLimits are the limits events from a server are decoded with: the
// server has checked them against its own.
var eventLimits = event.Limits{MaxDocumentBytes: 1 << 30, MaxStringBytes: 1 << 30, MaxRefs: 1 << 30, MaxTags: 1 << 30, MaxLabels: 1 << 30}

// decodeAPIEvent decodes an event of an answer: the document with its
// engine fields first, {"_id":ID,"_seq":SEQ,...document...}. An error
// object in its place (a stream cut by a failure) is returned as an error.
func decodeAPIEvent(raw []byte) (query.Hit, error) {
	var h query.Hit
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return h, fmt.Errorf("answer holds %.40q where an event should be", raw)
	}
	var id string
	for _, key := range []string{"_id", "_seq"} {
		t, err := dec.Token()
		if err != nil || t != key {
			return h, notAnEvent(raw)
		}
		if key == "_id" {
			err = dec.Decode(&id)
		} else {
			err = dec.Decode(&h.Seq)
		}
		if err != nil {
			return h, fmt.Errorf("event's %s: %w", key, err)
		}
	}
	if id != eventlog.IDOf(h.Seq) {
		return h, fmt.Errorf("event _id %q does not match _seq %d", id, h.Seq)
	}
	rest := bytes.TrimLeft(raw[dec.InputOffset():], " \t\r\n")
	doc := append([]byte{'{'}, bytes.TrimPrefix(rest, []byte(","))...)
	ev, err := event.Decode(doc, eventLimits)
	if err != nil {
		return h, fmt.Errorf("event %d: %w", h.Seq, err)
	}
	h.Event = ev
	return h, nil
}

// notAnEvent is the error for an answer's object that should have been an
// event: the server's error when it is one.
func notAnEvent(raw []byte) error {
	var e struct {
		Status int `json:"status"`
		Error  struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &e) == nil && e.Error.Reason != "" {
		return &apiError{Status: e.Status, Type: e.Error.Type, Reason: e.Error.Reason}
	}
	return fmt.Errorf("answer holds %.60q where an event with _id and _seq first should be", raw)
}

// bulkItem is the answer _bulk gives for one line.
type bulkItem struct {
	Status int    `json:"status"`
	Seq    uint64 `json:"_seq"`
	Error  *struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
	Line int `json:"line"`
}

// bulk posts NDJSON to _bulk and returns an item per line. While the
// server answers 429 it waits as Retry-After says (a second when it says
// nothing) and tries again, up to maxBulkAttempts times: a 429 stores
// nothing, so the retry cannot store a line twice.
func (c *apiClient) bulk(ctx context.Context, body []byte) ([]bulkItem, error) {
	for attempt := 1; ; attempt++ {
		resp, err := c.post(ctx, "api/events/_bulk", "application/x-ndjson", body)
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests && attempt < maxBulkAttempts {
			if err := sleep(ctx, retryAfter(ae.retryAfter, time.Now())); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			if ae != nil && ae.Status == http.StatusTooManyRequests {
				return nil, fmt.Errorf("gave up after %d attempts: %w", attempt, err)
			}
			return nil, err
		}
		defer resp.Body.Close()
		var answer struct {
			Items []bulkItem `json:"items"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
			return nil, fmt.Errorf("_bulk: bad answer: %w", err)
		}
		return answer.Items, nil
	}
}

// retryAfter is how long a Retry-After header (seconds or an HTTP date)
// asks to wait, between 0 and maxRetryWait; a second when it is absent or
// unreadable.
func retryAfter(h string, now time.Time) time.Duration {
	d := time.Second
	if s, err := strconv.Atoi(strings.TrimSpace(h)); err == nil {
		d = time.Duration(s) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryWait)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// bulkBatch stores batches through a server's _bulk API.
type bulkBatch struct {
	c    *apiClient
	body []byte // the pending batch as NDJSON
	n    int    // its lines
}

func (b *bulkBatch) add(line []byte) error {
	b.body = append(append(b.body, line...), '\n')
	b.n++
	return nil
}

// flush sends the pending batch. Lines answered 4xx are refused with the
// server's reason; any other answer but 201 is an error. The batch has no
// blank line, so the server's line numbers are its lines' places.
func (b *bulkBatch) flush() ([]eventlog.ItemError, error) {
	items, err := b.c.bulk(context.Background(), b.body)
	if err != nil {
		return nil, err
	}
	if len(items) != b.n {
		return nil, fmt.Errorf("_bulk answered %d items for %d lines", len(items), b.n)
	}
	var refused []eventlog.ItemError
	for i, it := range items {
		switch {
		case it.Status == http.StatusCreated:
		case it.Status >= 400 && it.Status < 500 && it.Error != nil && it.Line >= 1 && it.Line <= b.n:
			refused = append(refused, eventlog.ItemError{Index: it.Line - 1, Err: errors.New(it.Error.Reason)})
		default:
			return nil, fmt.Errorf("_bulk answered %+v for line %d", it, i+1)
		}
	}
	b.body, b.n = b.body[:0], 0
	return refused, nil
}

func (b *bulkBatch) close() error { return nil }
