package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/eventlogdb/eventlog/query"
)

// The query parameters each kind of route takes.
var (
	paramsFind   = []string{"page", "per_page", "sort_field", "sort_order", "sort", "filter", "start", "end", "allow_partial"}
	paramsSearch = []string{"filter", "start", "end", "sort", "sort_field", "sort_order",
		"page", "per_page", "size", "search_after", "allow_partial"}
	paramsExport    = []string{"filter", "start", "end", "sort", "sort_field", "sort_order", "bundle"}
	paramsAggregate = []string{"filter", "start", "end", "allow_partial"}
)

// searchRequest is a query.Request read from a request's parameters and
// body, and whether it asks for the total alone (per_page or size 0).
type searchRequest struct {
	req       query.Request
	countOnly bool
}

// parseParams reads the query parameters into sr, rejecting any not in
// allowed and any given twice.
func parseParams(q url.Values, allowed []string, sr *searchRequest) error {
	var sortField, sortOrder string
	for name, vals := range q {
		if !slices.Contains(allowed, name) {
			return errorf(http.StatusBadRequest, typeInvalidRequest,
				"unknown query parameter %q (this route takes: %s)", name, strings.Join(allowed, ", "))
		}
		if len(vals) > 1 {
			return errorf(http.StatusBadRequest, typeInvalidRequest, "query parameter %q is given %d times", name, len(vals))
		}
	}
	var err error
	for name, vals := range q {
		v := vals[0]
		switch name {
		case "filter":
			sr.req.Filter = v
		case "start":
			sr.req.Start = v
		case "end":
			sr.req.End = v
		case "search_after":
			sr.req.SearchAfter = v
		case "sort":
			sr.req.Sort, err = parseSort(v)
		case "sort_field":
			sortField = v
		case "sort_order":
			sortOrder = v
		case "page":
			sr.req.Page, err = parseInt(name, v, 1)
		case "allow_partial":
			sr.req.AllowPartial, err = parseBool(name, v)
		case "per_page", "size":
			sr.req.PerPage, err = parseInt(name, v, 0)
			sr.countOnly = sr.req.PerPage == 0
		}
		if err != nil {
			return err
		}
	}
	if q.Has("per_page") && q.Has("size") {
		return errorf(http.StatusBadRequest, typeInvalidRequest, "per_page and size are the same parameter: give one")
	}
	if len(sr.req.Sort) == 0 && (sortField != "" || sortOrder != "") {
		if sortField == "" {
			sortField = "@timestamp"
		}
		sr.req.Sort = []query.SortField{{Field: sortField, Order: sortOrder}}
	}
	return nil
}

// parseInt parses a whole number of at least min.
func parseInt(name, v string, min int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < min {
		return 0, errorf(http.StatusBadRequest, typeInvalidRequest, "%s %q: want a whole number >= %d", name, v, min)
	}
	return n, nil
}

// parseBool parses true or false.
func parseBool(name, v string) (bool, error) {
	switch v {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, errorf(http.StatusBadRequest, typeInvalidRequest, "%s %q: want true or false", name, v)
}

// parseSort reads a sort parameter: a JSON array of
// {"sort_field","sort_order"} objects (as newer Kibana clients send), or
// "field[:asc|desc]" keys separated by commas.
func parseSort(v string) ([]query.SortField, error) {
	if strings.HasPrefix(strings.TrimSpace(v), "[") {
		var keys []query.SortField
		if err := decodeStrict([]byte(v), &keys); err != nil {
			return nil, errorf(http.StatusBadRequest, typeInvalidRequest, "sort: %v", err)
		}
		return keys, nil
	}
	var keys []query.SortField
	for part := range strings.SplitSeq(v, ",") {
		field, order, _ := strings.Cut(strings.TrimSpace(part), ":")
		if field == "" {
			return nil, errorf(http.StatusBadRequest, typeInvalidRequest, "sort %q: empty field", v)
		}
		keys = append(keys, query.SortField{Field: field, Order: order})
	}
	return keys, nil
}

// decodeStrict decodes one JSON value into v, rejecting unknown fields and
// trailing data.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// readJSONBody reads a query's JSON body (at most MaxEventBytes) and
// decodes it strictly into v. An empty body leaves v as it is.
func (s *Server) readJSONBody(w http.ResponseWriter, r *http.Request, v any) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	body, err := s.readBody(w, r, s.cfg.MaxEventBytes)
	if err != nil {
		return err
	}
	defer body.release()
	data := body.data()
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := requireMediaType(r, "application/json"); err != nil {
		return err
	}
	if err := decodeStrict(data, v); err != nil {
		return errorf(http.StatusBadRequest, typeInvalidRequest, "body: %v", err)
	}
	return nil
}

// searchFromRequest reads the query parameters, then the JSON body (the
// query.Request form, whose fields override the parameters), and applies
// the /s/{space} prefix.
func (s *Server) searchFromRequest(w http.ResponseWriter, r *http.Request, allowed []string) (*searchRequest, error) {
	sr := &searchRequest{}
	if err := parseParams(r.URL.Query(), allowed, sr); err != nil {
		return nil, err
	}
	if r.Method == http.MethodPost {
		if err := s.readJSONBody(w, r, &sr.req); err != nil {
			return nil, err
		}
		sr.countOnly = sr.countOnly && sr.req.PerPage == 0
	}
	if space := r.PathValue("space"); space != "" {
		sr.req.Space = space
	}
	if err := restrictQuery(keyOf(w), &sr.req); err != nil {
		return nil, err
	}
	return sr, nil
}

// pagingFields names the paging fields req sets, for the routes that
// take none.
func pagingFields(req *query.Request) []string {
	var set []string
	if req.Page != 0 {
		set = append(set, "page")
	}
	if req.PerPage != 0 {
		set = append(set, "per_page")
	}
	if req.SearchAfter != "" {
		set = append(set, "search_after")
	}
	return set
}
