package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strings"

	"github.com/eventlogdb/eventlog/query"
)

// exportErrorTrailer is the trailer a server sets on an export that failed
// after its first event: "TYPE: REASON".
const exportErrorTrailer = "X-Eventlog-Error"

// Export returns every event req selects, in its order, as _export streams
// them: in constant memory, however many there are. An export the server
// could not finish ends with an error (its last line, or its
// X-Eventlog-Error trailer, or the connection cut), never silently short.
// It is not retried once its first event has come.
func (c *Client) Export(ctx context.Context, req query.Request) iter.Seq2[query.Hit, error] {
	return func(yield func(query.Hit, error) bool) {
		body, err := json.Marshal(req)
		if err != nil {
			yield(query.Hit{}, wrap("_export", err))
			return
		}
		resp, err := c.send(ctx, request{method: http.MethodPost, path: "api/events/_export", contentType: "application/json", body: body})
		if err != nil {
			yield(query.Hit{}, err)
			return
		}
		defer resp.Body.Close()
		for h, err := range hits(resp.Body) {
			if !yield(h, err) || err != nil {
				return
			}
		}
		if err := exportTrailer(resp); err != nil {
			yield(query.Hit{}, err)
		}
	}
}

// hits reads the events of an NDJSON stream, to its end or its first
// error.
func hits(r io.Reader) iter.Seq2[query.Hit, error] {
	return func(yield func(query.Hit, error) bool) {
		ls := newLines(r)
		for {
			line, err := ls.next()
			switch {
			case err == io.EOF:
				return
			case err != nil:
				yield(query.Hit{}, wrap("_export", err))
				return
			case isBlank(line):
				continue
			}
			h, err := decodeHit(line)
			if err != nil {
				err = wrap("_export", err)
			}
			if !yield(h, err) || err != nil {
				return
			}
		}
	}
}

// exportTrailer is the error the X-Eventlog-Error trailer of a finished
// export names, or nil.
func exportTrailer(resp *http.Response) error {
	v := resp.Trailer.Get(exportErrorTrailer)
	if v == "" {
		return nil
	}
	typ, reason, ok := strings.Cut(v, ": ")
	if !ok {
		return wrap("_export", errors.New(v))
	}
	return &APIError{Status: http.StatusInternalServerError, Type: typ, Reason: reason}
}

// ExportBundle writes to w the evidence bundle of the events req selects
// (_export?bundle=true: a tar file with the latest signed head, a proof
// per event, the public key and a README), which needs an admin or
// auditor key not scoped to spaces. The server answers the whole bundle
// or an error, so nothing is written to w on an error.
func (c *Client) ExportBundle(ctx context.Context, req query.Request, w io.Writer) error {
	body, err := json.Marshal(req)
	if err != nil {
		return wrap("_export", err)
	}
	resp, err := c.send(ctx, request{method: http.MethodPost, path: "api/events/_export", params: url.Values{"bundle": {"true"}}, contentType: "application/json", body: body})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-tar" {
		return wrap("_export", fmt.Errorf("the server answered %q, not a bundle (application/x-tar): is it older than bundle=true?", ct))
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return wrap("_export", err)
	}
	return nil
}
