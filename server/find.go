package server

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/query"
)

// findBody is the JSON body of POST .../{type}/_find: the ids, and
// optionally the query parameters (which it overrides).
type findBody struct {
	IDs       []string          `json:"ids"`
	LegacyIDs []string          `json:"legacyIds"`
	Page      *int              `json:"page"`
	PerPage   *int              `json:"per_page"`
	SortField *string           `json:"sort_field"`
	SortOrder *string           `json:"sort_order"`
	Sort      []query.SortField `json:"sort"`
	Filter    *string           `json:"filter"`
	Start     *string           `json:"start"`
	End       *string           `json:"end"`
}

// handleFind answers the Kibana event log's _find: the events with a
// primary reference to the saved object(s), paged. As Kibana does, a POST
// without ids, or a start after the end, answers an empty page.
//
//	GET  [/s/{space}]/{api,internal}/event_log/{type}/{id}/_find
//	POST [/s/{space}]/{api,internal}/event_log/{type}/_find  {"ids": [...]}
func (s *Server) handleFind(w http.ResponseWriter, r *http.Request) error {
	sr := &searchRequest{}
	if err := parseParams(r.URL.Query(), paramsFind, sr); err != nil {
		return err
	}
	ids := []string{r.PathValue("id")}
	if r.Method == http.MethodPost {
		var body findBody
		if err := s.readJSONBody(w, r, &body); err != nil {
			return err
		}
		if err := body.apply(sr); err != nil {
			return err
		}
		ids = append(body.IDs, body.LegacyIDs...)
	}
	sr.req.SavedObjects = &query.SavedObjects{Type: r.PathValue("type"), IDs: ids, Space: r.PathValue("space")}
	if err := restrictQuery(keyOf(w), &sr.req); err != nil {
		return err
	}
	if sr.req.Page == 0 {
		sr.req.Page = 1
	}
	if sr.req.PerPage == 0 && !sr.countOnly {
		sr.req.PerPage = query.DefaultPerPage
	}
	start := time.Now()
	var res *query.Result
	var err error
	if len(ids) == 0 {
		res, err = s.validate(sr) // an empty page, once the rest is valid
	} else {
		res, err = s.run(r, sr)
	}
	s.metrics.observeQuery(endpointFind, start)
	if errors.Is(err, query.ErrStartAfterEnd) {
		res, err = &query.Result{}, nil
	}
	if err != nil {
		return err
	}
	out := getBuf()
	defer putBuf(out)
	b := append((*out)[:0], `{"page":`...)
	b = strconv.AppendInt(b, int64(sr.req.Page), 10)
	b = append(b, `,"per_page":`...)
	b = strconv.AppendInt(b, int64(sr.req.PerPage), 10)
	b = append(b, `,"total":`...)
	b = strconv.AppendInt(b, int64(res.Total), 10)
	b = append(b, `,"data":`...)
	if b, err = appendPartial(appendHits(b, keyOf(w), res.Hits), res); err != nil {
		return err
	}
	*out = append(b, '}')
	writeJSON(w, http.StatusOK, *out)
	return nil
}

// apply sets the body's parameters on sr.
func (b *findBody) apply(sr *searchRequest) error {
	if b.Page != nil {
		if *b.Page < 1 {
			return errorf(http.StatusBadRequest, typeInvalidRequest, "page %d: want a whole number >= 1", *b.Page)
		}
		sr.req.Page = *b.Page
	}
	if b.PerPage != nil {
		if *b.PerPage < 0 {
			return errorf(http.StatusBadRequest, typeInvalidRequest, "per_page %d: want a whole number >= 0", *b.PerPage)
		}
		sr.req.PerPage, sr.countOnly = *b.PerPage, *b.PerPage == 0
	}
	setString(&sr.req.Filter, b.Filter)
	setString(&sr.req.Start, b.Start)
	setString(&sr.req.End, b.End)
	switch {
	case len(b.Sort) > 0:
		sr.req.Sort = b.Sort
	case b.SortField != nil || b.SortOrder != nil:
		key := query.SortField{Field: "@timestamp"}
		if len(sr.req.Sort) == 1 {
			key = sr.req.Sort[0]
		}
		setString(&key.Field, b.SortField)
		setString(&key.Order, b.SortOrder)
		sr.req.Sort = []query.SortField{key}
	}
	return nil
}

func setString(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

// validate checks sr as run would, with no saved objects to find: an
// empty result, or run's error for an invalid request.
func (s *Server) validate(sr *searchRequest) (*query.Result, error) {
	req := sr.req
	req.SavedObjects = nil
	if err := s.db.CheckQuery(req); err != nil {
		return nil, err
	}
	return &query.Result{}, nil
}

// run executes a search: the page, or with countOnly the total alone.
func (s *Server) run(r *http.Request, sr *searchRequest) (*query.Result, error) {
	if sr.countOnly {
		return s.db.Aggregate(r.Context(), sr.req)
	}
	return s.db.Query(r.Context(), sr.req)
}

// appendHits appends the hits as a JSON array, as key k may see them.
func appendHits(dst []byte, k *auth.Key, hits []query.Hit) []byte {
	dst = append(dst, '[')
	for i := range hits {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendShown(dst, k, hits[i].Seq, &hits[i].Event)
	}
	return append(dst, ']')
}
