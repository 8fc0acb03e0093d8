package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/eventlogdb/eventlog/query"
)

// handleSearch answers one page of a query: GET|POST
// [/s/{space}]/api/events/_search →
// {"total":N,"data":[...],"next":"<cursor>"|null} (and "aggregations" when
// the request has aggs; "partial":true and "warnings" when allow_partial
// left damaged ranges out).
func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) error {
	sr, err := s.searchFromRequest(w, r, paramsSearch)
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := s.run(r, sr)
	s.metrics.observeQuery(endpointSearch, start)
	if err != nil {
		return err
	}
	out := getBuf()
	defer putBuf(out)
	b := append((*out)[:0], `{"total":`...)
	b = strconv.AppendInt(b, int64(res.Total), 10)
	b = append(b, `,"data":`...)
	b = appendHits(b, keyOf(w), res.Hits)
	b = append(b, `,"next":`...)
	if res.Next == "" {
		b = append(b, "null"...)
	} else {
		b = appendString(b, res.Next)
	}
	if len(sr.req.Aggs) > 0 {
		if b, err = appendAggregations(b, res.Aggregations); err != nil {
			return err
		}
	}
	if b, err = appendPartial(b, res); err != nil {
		return err
	}
	*out = append(b, '}')
	writeJSON(w, http.StatusOK, *out)
	return nil
}

// handleAggregate answers the total and the aggregations of a query: POST
// [/s/{space}]/api/events/_aggregate with a query.Request body →
// {"total":N,"aggregations":{...}}.
func (s *Server) handleAggregate(w http.ResponseWriter, r *http.Request) error {
	sr, err := s.searchFromRequest(w, r, paramsAggregate)
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := s.db.Aggregate(r.Context(), sr.req)
	s.metrics.observeQuery(endpointAggregate, start)
	if err != nil {
		return err
	}
	out := getBuf()
	defer putBuf(out)
	b := append((*out)[:0], `{"total":`...)
	b = strconv.AppendInt(b, int64(res.Total), 10)
	if b, err = appendAggregations(b, res.Aggregations); err != nil {
		return err
	}
	if b, err = appendPartial(b, res); err != nil {
		return err
	}
	*out = append(b, '}')
	writeJSON(w, http.StatusOK, *out)
	return nil
}

// warning is a damaged range a partial answer left out, as the member
// "warnings" lists it.
type warning struct {
	File   string    `json:"file"`
	Block  int       `json:"block"` // -1: the whole file
	Events int       `json:"events,omitempty"`
	MinSeq uint64    `json:"min_seq"`
	MaxSeq uint64    `json:"max_seq"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Reason string    `json:"reason"`
}

// appendPartial appends, when res is partial (query.Request.AllowPartial
// left damaged ranges out), the members "partial":true,"warnings":[...].
func appendPartial(dst []byte, res *query.Result) ([]byte, error) {
	if !res.Partial {
		return dst, nil
	}
	ws := make([]warning, len(res.Warnings))
	for i, d := range res.Warnings {
		ws[i] = warning{File: d.File, Block: d.Block, Events: d.Events, MinSeq: d.MinSeq, MaxSeq: d.MaxSeq,
			Start: time.Unix(0, d.MinTS).UTC(), End: time.Unix(0, d.MaxTS).UTC(), Reason: d.Reason}
	}
	js, err := json.Marshal(ws)
	if err != nil {
		return dst, err
	}
	dst = append(dst, `,"partial":true,"warnings":`...)
	return append(dst, js...), nil
}

// appendAggregations appends the member "aggregations":{...}, in the
// shape of query.AggResult's MarshalJSON.
func appendAggregations(dst []byte, aggs map[string]*query.AggResult) ([]byte, error) {
	if aggs == nil {
		aggs = map[string]*query.AggResult{}
	}
	js, err := json.Marshal(aggs)
	if err != nil {
		return dst, err
	}
	dst = append(dst, `,"aggregations":`...)
	return append(dst, js...), nil
}
