package client

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"

	"github.com/eventlogdb/eventlog/query"
)

// Page is one page of a search.
type Page struct {
	// Total is the exact number of matching events.
	Total int
	// Hits are the page's events, in the request's order.
	Hits []query.Hit
	// Next continues after the page's last hit (query.Request.SearchAfter);
	// "" when no match follows it.
	Next string
	// Aggregations is the JSON of the request's aggregations, computed over
	// the same snapshot as the page (nil without Aggs).
	Aggregations json.RawMessage
}

// searchAnswer is the body of a _search answer.
type searchAnswer struct {
	Total        int               `json:"total"`
	Data         []json.RawMessage `json:"data"`
	Next         *string           `json:"next"`
	Aggregations json.RawMessage   `json:"aggregations"`
}

// Search answers one page of req through _search.
func (c *Client) Search(ctx context.Context, req query.Request) (*Page, error) {
	var ans searchAnswer
	if err := c.read(ctx, "api/events/_search", req, &ans); err != nil {
		return nil, err
	}
	p := &Page{Total: ans.Total, Hits: make([]query.Hit, len(ans.Data)), Aggregations: ans.Aggregations}
	if ans.Next != nil {
		p.Next = *ans.Next
	}
	for i, raw := range ans.Data {
		h, err := decodeHit(raw)
		if err != nil {
			return nil, wrap("_search", err)
		}
		p.Hits[i] = h
	}
	return p, nil
}

// read posts req as JSON to a read route and decodes the answer into out.
func (c *Client) read(ctx context.Context, path string, req query.Request, out any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return wrap(path, err)
	}
	resp, err := c.send(ctx, request{method: http.MethodPost, path: path, contentType: "application/json", body: body})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return decodeAnswer(resp, path, out)
}

// Query returns every event req selects, in its order, reading page after
// page of req.PerPage through _search and its search_after cursors (req's
// Page is ignored; its SearchAfter, if any, is where it starts). Unlike
// one page, it is not bounded by the 10,000-event window.
func (c *Client) Query(ctx context.Context, req query.Request) iter.Seq2[query.Hit, error] {
	return func(yield func(query.Hit, error) bool) {
		req.Page, req.Aggs = 0, nil
		for {
			p, err := c.Search(ctx, req)
			if err != nil {
				yield(query.Hit{}, err)
				return
			}
			for _, h := range p.Hits {
				if !yield(h, nil) {
					return
				}
			}
			if p.Next == "" || len(p.Hits) == 0 {
				return
			}
			req.SearchAfter = p.Next
		}
	}
}

// Aggregation is the answer of _aggregate.
type Aggregation struct {
	// Total is the number of events the request selects.
	Total int `json:"total"`
	// Aggregations holds each aggregation's JSON by the request's names,
	// in the shape of query.AggResult's MarshalJSON.
	Aggregations map[string]json.RawMessage `json:"aggregations"`
}

// Aggregate computes req.Aggs over the events req selects, through
// _aggregate.
func (c *Client) Aggregate(ctx context.Context, req query.Request) (*Aggregation, error) {
	var a Aggregation
	if err := c.read(ctx, "api/events/_aggregate", req, &a); err != nil {
		return nil, err
	}
	return &a, nil
}
