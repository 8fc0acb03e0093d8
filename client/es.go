package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// ESBulk posts an Elasticsearch _bulk body (an action line before each
// document) to the server's Elasticsearch-compatible /es/_bulk, retried as
// Bulk is (while the server answers 429, which stores nothing), and
// returns how many items failed, the first failure described. It asks
// for the answer Beats and Elastic Agent ask for (filter_path=
// errors,items.*.error,items.*.status: each item's status, and the error
// of a failed one). It is what eventlog bench http --es measures against
// the native _bulk.
func (c *Client) ESBulk(ctx context.Context, ndjson []byte) (failed int, first string, err error) {
	resp, err := c.send(ctx, request{
		method: http.MethodPost, path: "es/_bulk", contentType: "application/x-ndjson", body: ndjson, write: true,
		params: url.Values{"filter_path": {"errors,items.*.error,items.*.status"}},
	})
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var answer struct {
		Errors bool                `json:"errors"`
		Items  []map[string]esItem `json:"items"`
	}
	if err := decodeAnswer(resp, "es/_bulk", &answer); err != nil {
		return 0, "", err
	}
	for i, item := range answer.Items {
		for op, it := range item {
			if it.Status/100 == 2 {
				continue
			}
			if failed++; failed == 1 {
				first = fmt.Sprintf("item %d (%s): %d %s: %s", i, op, it.Status, it.Error.Type, it.Error.Reason)
			}
		}
	}
	return failed, first, nil
}

// esItem is an item of Elasticsearch's _bulk answer.
type esItem struct {
	Status int `json:"status"`
	Error  struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
}
