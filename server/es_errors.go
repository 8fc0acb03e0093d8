package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Errors under /es take Elasticsearch's shape, so that the clients' error
// handling works unchanged: a request's error is
// {"error":{"root_cause":[{"type","reason"}],"type","reason"},"status"}, an
// item's {"type","reason"} under "error", with Elasticsearch's type names.

// Elasticsearch's error types used by the /es routes.
const (
	esMapperParsing    = "mapper_parsing_exception"
	esIllegalArgument  = "illegal_argument_exception"
	esVersionConflict  = "version_conflict_engine_exception"
	esSecurity         = "security_exception"
	esRejected         = "es_rejected_execution_exception"
	esValidationFailed = "action_request_validation_exception"
	esInvalidIndexName = "invalid_index_name_exception"
)

// maxESIndexBytes bounds an index name, as Elasticsearch does.
const maxESIndexBytes = 255

// checkESIndex applies Elasticsearch's rules for index names, so that a
// name eventlog keeps in _index is one Elasticsearch would have taken: an
// index name never starts with '_', which is also how an /es path such as
// /es/_search (a route eventlog does not serve) is told from an index.
func checkESIndex(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("Invalid index name [%s], %s", name, why)
	}
	switch {
	case name == "." || name == "..":
		return bad("must not be '.' or '..'")
	case len(name) > maxESIndexBytes:
		return bad(fmt.Sprintf("index name is too long, (%d > %d)", len(name), maxESIndexBytes))
	case strings.ContainsAny(name[:1], "_-+"):
		return bad("must not start with '_', '-', or '+'")
	case strings.ToLower(name) != name:
		return bad("must be lowercase")
	case strings.ContainsAny(name, `\/*?"<>| ,#:`):
		return bad(`must not contain the following characters ['\\', '/', '*', '?', '"', '<', '>', '|', ' ', ',', '#', ':']`)
	}
	return nil
}

// esTypes maps the API's error types to Elasticsearch's.
var esTypes = map[string]string{
	typeInvalidRequest:   "parse_exception",
	typeInvalidEvent:     esMapperParsing,
	typeUnregistered:     esIllegalArgument,
	typeTooLarge:         esIllegalArgument,
	typeUnsupportedMedia: "media_type_header_exception",
	typeOverloaded:       esRejected,
	typeRateLimited:      esRejected,
	typeNotFound:         "resource_not_found_exception",
	typeUnauthenticated:  esSecurity,
	typeForbidden:        esSecurity,
	typeReadOnly:         "cluster_block_exception",
	typeDiskFull:         "cluster_block_exception",
	typeUnavailable:      "unavailable_shards_exception",
	typeStorageFailed:    "unavailable_shards_exception",
	typeRequestTimeout:   "timeout_exception",
	typeInternal:         "exception",
	typeConflict:         esVersionConflict,
}

// esType is Elasticsearch's name for an error type of the API; a type
// already Elasticsearch's passes unchanged.
func esType(typ string) string {
	if t, ok := esTypes[typ]; ok {
		return t
	}
	return typ
}

// esItemError is an item error decided by the /es protocol itself (an
// update or delete, a duplicate id), in Elasticsearch's terms.
type esItemError struct {
	status      int
	typ, reason string
}

func (e *esItemError) Error() string { return e.typ + ": " + e.reason }

// appendESError appends the answer to a failed /es request.
func appendESError(dst []byte, e *apiError) []byte {
	typ := esType(e.typ)
	dst = append(dst, `{"error":{"root_cause":[`...)
	dst = appendErrorObject(dst, typ, e.reason)
	dst = append(dst, `],"type":`...)
	dst = appendString(dst, typ)
	dst = append(dst, `,"reason":`...)
	dst = appendString(dst, e.reason)
	dst = append(dst, `},"status":`...)
	dst = strconv.AppendInt(dst, int64(e.status), 10)
	return append(dst, '}')
}

// esUnmatched is the route of a path under /es that no route serves, in
// Elasticsearch's shape and with its product header.
func esUnmatched(s *Server, mux *http.ServeMux) route {
	return route{pattern: routeUnmatched, rule: public, es: true, h: func(w http.ResponseWriter, r *http.Request) error {
		return s.unmatched(mux, w, r)
	}}
}
