package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/eventlogdb/eventlog/event"
)

// BulkItem is the server's answer for one event of a _bulk request.
type BulkItem struct {
	// Status is 201 for a stored event, 200 for one already stored (a
	// client id seen before, same content), 4xx for a refused one (409:
	// a client id stored with different content).
	Status int `json:"status"`
	// ID and Seq identify a stored event: ID is its client id when it has
	// one, else the engine id.
	ID  string `json:"_id"`
	Seq uint64 `json:"_seq"`
	// Result is "created" (stored by this request) or "noop" (already
	// stored).
	Result string `json:"result"`
	// Error says why an event was refused.
	Error *ItemError `json:"error"`
	// Line is a refused event's line in the body (from 1); for Ingest, its
	// place among the events given (from 1).
	Line int `json:"line"`
}

// ItemError is why the server refused one event.
type ItemError struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// Bulk posts NDJSON, an event per line, to _bulk, which stores each valid
// line and refuses the others, and returns an item per non-blank line. It
// is retried while that cannot store a line twice (see the package doc).
// The server's setting decides whether fields outside the schema are kept;
// BulkKeep keeps them.
func (c *Client) Bulk(ctx context.Context, ndjson []byte) ([]BulkItem, error) {
	return c.bulk(ctx, ndjson, nil)
}

// BulkKeep is Bulk with ?unknown_fields=keep: fields outside the event
// schema are kept (returned in place, filterable) instead of refused.
func (c *Client) BulkKeep(ctx context.Context, ndjson []byte) ([]BulkItem, error) {
	return c.bulk(ctx, ndjson, url.Values{"unknown_fields": {"keep"}})
}

// BulkFailures is Bulk answering only for the lines the server refused
// (?items=failed): none when every line was stored. It is for shippers that
// need no stored event's id or sequence number, and spares both sides the
// answer's item per stored line (about 70 bytes each), which cost the
// bench's client more CPU to decode than it spent encoding the events.
func (c *Client) BulkFailures(ctx context.Context, ndjson []byte) ([]BulkItem, error) {
	return c.bulk(ctx, ndjson, url.Values{"items": {"failed"}})
}

func (c *Client) bulk(ctx context.Context, ndjson []byte, params url.Values) ([]BulkItem, error) {
	resp, err := c.send(ctx, request{
		method: http.MethodPost, path: "api/events/_bulk", contentType: "application/x-ndjson",
		params: params, body: ndjson, write: true,
	})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var answer struct {
		Items []BulkItem `json:"items"`
	}
	if err := decodeAnswer(resp, "_bulk", &answer); err != nil {
		return nil, err
	}
	return answer.Items, nil
}

// Ingest stores events through _bulk, Options.BatchSize at a time, and
// returns an item per event, in order: the stored ones with their ID and
// sequence number, the refused ones with their Error. On an error it
// returns the items of the batches stored before it; the error names the
// events of the batch that failed. Kept unknown fields (Event.Extra) are
// sent and kept.
func (c *Client) Ingest(ctx context.Context, events []event.Event) ([]BulkItem, error) {
	items := make([]BulkItem, 0, len(events))
	var body []byte
	for first := 0; first < len(events); first += c.opts.BatchSize {
		batch := events[first:min(first+c.opts.BatchSize, len(events))]
		body = body[:0]
		for i := range batch {
			body = append(event.AppendJSON(body, &batch[i]), '\n')
		}
		got, err := c.BulkKeep(ctx, body)
		if err == nil && len(got) != len(batch) {
			err = fmt.Errorf("eventlog client: _bulk answered %d items for %d events", len(got), len(batch))
		}
		if err != nil {
			return items, fmt.Errorf("events %d to %d: %w", first+1, first+len(batch), err)
		}
		for i := range got {
			got[i].Line = first + i + 1
		}
		items = append(items, got...)
	}
	return items, nil
}
