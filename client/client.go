package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// Options configure a Client. The zero value of each field is the default
// it documents; a nil *Options is all defaults.
type Options struct {
	// HTTPClient sends the requests. Nil: a client of its own over a clone
	// of http.DefaultTransport, with no overall timeout (tails and exports
	// last as long as their context).
	HTTPClient *http.Client
	// RootCAs verify the certificate of an https server. Nil: the system's
	// roots. Ignored when HTTPClient is set: that client's transport
	// decides.
	RootCAs *x509.CertPool
	// Certificates are presented to a server that asks for a client
	// certificate (mutual TLS). Ignored when HTTPClient is set.
	Certificates []tls.Certificate
	// BatchSize is how many events Ingest sends in one _bulk request.
	// Zero: 1000.
	BatchSize int
	// MaxAttempts bounds how often one request is sent while the server
	// answers 429 or 503. Zero: 10.
	MaxAttempts int
	// MinBackoff and MaxBackoff bound the exponential backoff between two
	// attempts, and between two connections of a Tail. Zero: 100ms and 5s.
	MinBackoff, MaxBackoff time.Duration
	// MaxRetryWait caps the wait a Retry-After header asks for. Zero: 30s.
	MaxRetryWait time.Duration
	// OnRetry, when set, is called before each wait: with the error of the
	// attempt (or why a Tail's stream ended) and how long the wait is.
	OnRetry func(err error, wait time.Duration)
	// APIKey, when set, is sent with every request as "Authorization:
	// ApiKey <APIKey>": the encoded value eventlog keys create prints
	// (base64 of "id:secret"). Empty: no credentials.
	APIKey string
}

// withDefaults returns a copy of o with every zero field set.
func (o *Options) withDefaults() Options {
	var d Options
	if o != nil {
		d = *o
	}
	if d.HTTPClient == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if d.RootCAs != nil || d.Certificates != nil {
			tr.TLSClientConfig = &tls.Config{RootCAs: d.RootCAs, Certificates: d.Certificates, MinVersion: tls.VersionTLS12}
		}
		d.HTTPClient = &http.Client{Transport: tr}
	}
	setDefault(&d.BatchSize, 1000)
	setDefault(&d.MaxAttempts, 10)
	setDefault(&d.MinBackoff, 100*time.Millisecond)
	setDefault(&d.MaxBackoff, 5*time.Second)
	setDefault(&d.MaxRetryWait, 30*time.Second)
	d.MaxBackoff = max(d.MaxBackoff, d.MinBackoff)
	return d
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Client talks to one eventlog server. It is safe for concurrent use.
type Client struct {
	base *url.URL
	hc   *http.Client
	opts Options
}

// New returns a client of the server at rawURL (http://HOST:PORT, or
// https, with an optional path prefix).
func New(rawURL string, opts *Options) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("eventlog client: server URL %q: want http://HOST:PORT", rawURL)
	}
	o := opts.withDefaults()
	return &Client{base: u, hc: o.HTTPClient, opts: o}, nil
}

// URL is the server's URL, as given to New.
func (c *Client) URL() string { return c.base.String() }

// CloseIdleConnections closes the HTTP client's idle connections.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// Do sends in (nil: no body) as JSON with method to the API path (with the
// query params) and decodes a 2xx answer into out (nil: discard it). It is
// what the typed methods are built on, for the routes they do not cover
// (maintenance, registry, destinations). A non-idempotent method (POST,
// PUT, DELETE) is retried as a write is; GET as a read.
func (c *Client) Do(ctx context.Context, method, path string, params url.Values, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("eventlog client: %s %s: %w", method, path, err)
		}
	}
	r := request{method: method, path: path, params: params, body: body, write: method != http.MethodGet}
	if in != nil {
		r.contentType = "application/json"
	}
	resp, err := c.send(ctx, r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return decodeAnswer(resp, path, out)
}

// decodeAnswer decodes a 2xx answer's JSON into out, or discards it.
func decodeAnswer(resp *http.Response, path string, out any) error {
	if out == nil {
		_, err := io.Copy(io.Discard, resp.Body)
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("eventlog client: %s: bad answer: %w", path, err)
	}
	return nil
}

// request is one API call, made anew for each attempt.
type request struct {
	method, path, contentType string
	params                    url.Values
	header                    http.Header
	body                      []byte
	// write marks a request that may store something: retried only when
	// that cannot store it twice.
	write bool
}

func (c *Client) newRequest(ctx context.Context, r request) (*http.Request, error) {
	u := c.base.JoinPath(r.path)
	u.RawQuery = r.params.Encode()
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("eventlog client: %w", err)
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	if r.contentType != "" {
		req.Header.Set("Content-Type", r.contentType)
	}
	if c.opts.APIKey != "" {
		req.Header.Set("Authorization", "ApiKey "+c.opts.APIKey)
	}
	return req, nil
}

// send sends r until the server answers 2xx, returning the response for
// the caller to read and close, or until an error that is not retried.
func (c *Client) send(ctx context.Context, r request) (*http.Response, error) {
	tries := 0
	resp, err := backoff.Retry(ctx, func() (*http.Response, error) {
		tries++
		return c.attempt(ctx, r)
	}, c.retryOptions(c.opts.MaxAttempts)...)
	var p *backoff.PermanentError
	if err != nil && tries > 1 && tries == c.opts.MaxAttempts && !errors.As(err, &p) {
		return nil, fmt.Errorf("eventlog client: gave up after %d attempts: %w", tries, unwrapRetry(err))
	}
	return resp, unwrapRetry(err)
}

// attempt sends r once; its error says whether to try again (see retry.go).
func (c *Client) attempt(ctx context.Context, r request) (*http.Response, error) {
	req, err := c.newRequest(ctx, r)
	if err != nil {
		return nil, backoff.Permanent(err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.networkError(ctx, r, err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, c.answerError(r, readAPIError(resp, time.Now()))
}

// isDial reports whether err is a failure to connect: the request never
// reached the server.
func isDial(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
