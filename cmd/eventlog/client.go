package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	flag "github.com/spf13/pflag"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/client"
	"github.com/eventlogdb/eventlog/query"
)

// addURLFlag defines --url, which makes query, export and ingest work
// through a server's HTTP API instead of opening --data; --api-key, the key
// sent to it; and --ca and --client-cert/--client-key for an https server.
func addURLFlag(fs *flag.FlagSet) *string {
	fs.String("api-key", "", "with --url: the API key to send, as eventlog keys create prints it (env EVENTLOG_API_KEY; the flag shows in ps, the variable does not)")
	fs.String("ca", os.Getenv("EVENTLOG_CA"), "PEM file of the CA certificates that verify an https --url server, instead of the system's (env EVENTLOG_CA)")
	fs.String("client-cert", os.Getenv("EVENTLOG_CLIENT_CERT"), "PEM certificate to present to a server that requires one (mutual TLS), with --client-key (env EVENTLOG_CLIENT_CERT)")
	fs.String("client-key", os.Getenv("EVENTLOG_CLIENT_KEY"), "PEM private key of --client-cert (env EVENTLOG_CLIENT_KEY)")
	return fs.String("url", os.Getenv("EVENTLOG_URL"), "work through the eventlog server at this URL (http://HOST:PORT or https://HOST:PORT) instead of --data (env EVENTLOG_URL)")
}

// clientCertificates loads --client-cert and --client-key, or returns
// nil without them.
func clientCertificates(fs *flag.FlagSet) ([]tls.Certificate, error) {
	cert, key := fs.Lookup("client-cert"), fs.Lookup("client-key")
	if cert == nil || key == nil || cert.Value.String() == "" && key.Value.String() == "" {
		return nil, nil
	}
	if cert.Value.String() == "" || key.Value.String() == "" {
		return nil, fmt.Errorf("--client-cert and --client-key: give both or neither: %w", errUsage)
	}
	pair, err := tls.LoadX509KeyPair(cert.Value.String(), key.Value.String())
	if err != nil {
		return nil, fmt.Errorf("--client-cert and --client-key: %w", err)
	}
	return []tls.Certificate{pair}, nil
}

// caPool reads the --ca file, or returns nil (the system's roots) without
// one.
func caPool(fs *flag.FlagSet) (*x509.CertPool, error) {
	f := fs.Lookup("ca")
	if f == nil || f.Value.String() == "" {
		return nil, nil
	}
	b, err := os.ReadFile(f.Value.String())
	if err != nil {
		return nil, fmt.Errorf("--ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("--ca %s: no PEM certificate in it", f.Value.String())
	}
	return pool, nil
}

// apiKey is the --api-key of fs, else $EVENTLOG_API_KEY.
func apiKey(fs *flag.FlagSet) string {
	if k, err := fs.GetString("api-key"); err == nil && k != "" {
		return k
	}
	return os.Getenv("EVENTLOG_API_KEY")
}

// remote returns the client of the server --url names, or nil without
// --url. --url with an explicit --data is a usage error. onRetry, when
// set, hears of each retry (see client.Options.OnRetry).
func remote(fs *flag.FlagSet, rawURL string, onRetry func(error, time.Duration)) (*client.Client, error) {
	if rawURL == "" {
		return nil, nil
	}
	if isSet(fs, "data") {
		return nil, fmt.Errorf("--url and --data: give the server or the data directory, not both: %w", errUsage)
	}
	roots, err := caPool(fs)
	if err != nil {
		return nil, err
	}
	certs, err := clientCertificates(fs)
	if err != nil {
		return nil, err
	}
	c, err := client.New(rawURL, &client.Options{OnRetry: onRetry, APIKey: apiKey(fs), RootCAs: roots, Certificates: certs})
	if err != nil {
		return nil, fmt.Errorf("--url %q: want http://HOST:PORT or https://HOST:PORT: %w", rawURL, errUsage)
	}
	return c, nil
}

// isSet reports whether the flag name was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// cliMessage is how the CLI says err: a server's refusal of the request
// (4xx but 429) as its reason alone, as the local commands say it, and the
// client package's prefixes dropped, the command's name standing for them.
func cliMessage(err error) string {
	msg := err.Error()
	var ae *client.APIError
	if errors.As(err, &ae) && ae.Status/100 == 4 && ae.Status != http.StatusTooManyRequests {
		msg = strings.Replace(msg, ae.Error(), ae.Reason, 1)
	}
	msg = strings.ReplaceAll(msg, "eventlog client: ", "")
	return strings.ReplaceAll(msg, "eventlog server: ", "server: ")
}

// remoteQuery answers req as DB.Query does, through _search, which
// computes the aggregations too (over the same snapshot as the page), and
// returns them as JSON.
func remoteQuery(ctx context.Context, c *client.Client, req query.Request) (*query.Result, []byte, error) {
	page, err := c.Search(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	res := &query.Result{Total: page.Total, Page: max(req.Page, 1), PerPage: req.PerPage, Hits: page.Hits, Next: page.Next}
	if res.PerPage == 0 {
		res.PerPage = query.DefaultPerPage
	}
	return res, page.Aggregations, nil
}

// remoteExport is DB.Export through a server's _export.
func remoteExport(c *client.Client) exportFunc {
	return func(ctx context.Context, req query.Request, fn func(query.Hit) error) error {
		for h, err := range c.Export(ctx, req) {
			if err != nil {
				return err
			}
			if err := fn(h); err != nil {
				return err
			}
		}
		return nil
	}
}

// bulkBatch stores batches through a server's _bulk API.
type bulkBatch struct {
	c    *client.Client
	body []byte // the pending batch as NDJSON
	n    int    // its lines
	keep bool   // ask the server to keep fields outside the schema
}

func (b *bulkBatch) add(line []byte) error {
	b.body = append(append(b.body, line...), '\n')
	b.n++
	return nil
}

// flush sends the pending batch. Lines answered 4xx are refused with the
// server's reason; any other answer but 201 is an error. The batch has no
// blank line, so the server's line numbers are its lines' places.
func (b *bulkBatch) flush() (refused []eventlog.ItemError, dups int, err error) {
	send := b.c.Bulk
	if b.keep {
		send = b.c.BulkKeep
	}
	items, err := send(context.Background(), b.body)
	if err != nil {
		return nil, 0, err
	}
	if len(items) != b.n {
		return nil, 0, fmt.Errorf("_bulk answered %d items for %d lines", len(items), b.n)
	}
	for i, it := range items {
		switch {
		case it.Status == http.StatusCreated:
		case it.Status == http.StatusOK && it.Result == "noop":
			dups++
		case it.Status/100 == 4 && it.Error != nil && it.Line >= 1 && it.Line <= b.n:
			refused = append(refused, eventlog.ItemError{Index: it.Line - 1, Err: errors.New(it.Error.Reason)})
		default:
			return nil, 0, fmt.Errorf("_bulk answered %+v for line %d", it, i+1)
		}
	}
	b.body, b.n = b.body[:0], 0
	return refused, dups, nil
}

func (b *bulkBatch) close() error { return nil }
