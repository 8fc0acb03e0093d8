// Package client is the Go client of an eventlog server's HTTP API: what a
// service uses to store events in a server and read them back.
//
//	c, err := client.New("http://127.0.0.1:9700", nil)
//	items, err := c.Ingest(ctx, events)             // batched _bulk, retried while safe
//	for hit, err := range c.Query(ctx, query.Request{Filter: "event.outcome:failure"}) { ... }
//	agg, err := c.Aggregate(ctx, req)              // _aggregate
//	for hit, err := range c.Export(ctx, req) { ... } // _export, streamed
//	for hit, err := range c.Tail(ctx, client.TailRequest{Now: true}) { ... }
//
// Every method takes a context and answers a server's error as an
// *APIError carrying its status, type, reason and, for a failed write, its
// outcome. A server that requires API keys gets Options.APIKey with every
// request ("Authorization: ApiKey ..."); a 401 or 403 is not retried.
//
// # Retries
//
// A request is sent again, with exponential backoff and jitter
// (github.com/cenkalti/backoff/v5), when the server answers 429 or 503,
// waiting what Retry-After asks (seconds or an HTTP date) when it asks,
// at most Options.MaxAttempts times. Reads are also retried after a
// network error. A write (Bulk, Ingest) is retried only when it cannot
// store an event twice: after a 429, a 503 without "outcome":"unknown",
// an answer saying "outcome":"not_stored", or a connection that was never
// made. After any other network error, or an answer saying
// "outcome":"unknown", the events may or may not be stored: the error
// matches ErrOutcomeUnknown and nothing is sent again.
//
// # Iterators
//
// Query, Export and Tail return iter.Seq2[query.Hit, error]: a loop over
// the events, ending early on break. An error is the last value; a loop
// that breaks on it (or ignores it) sees no more. Query follows the
// server's search_after cursors, so it reads every match, past the
// 10,000-event page window, in pages of Request.PerPage. Tail reconnects
// after a dropped connection or a stream the server ended, resuming after
// the last event it yielded (Last-Event-ID), until ctx is done or the
// server refuses the request.
package client
