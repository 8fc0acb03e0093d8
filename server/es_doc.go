package server

import (
	"net/http"
	"time"

	"github.com/eventlogdb/eventlog/event"
)

// Single documents under /es: POST /es/{index}/_doc (the store gives the
// id), PUT|POST /es/{index}/_doc/{id} (index; ?op_type=create makes it a
// create) and PUT|POST /es/{index}/_create/{id}. Each is a one-item _bulk
// (es_bulk.go) answered as Elasticsearch answers a single document: the
// item's object with 201 (200 for a noop), or its error as the request's.

// handleESDoc serves the _doc routes.
func (s *Server) handleESDoc(w http.ResponseWriter, r *http.Request) error {
	op := esIndex
	switch r.URL.Query().Get("op_type") {
	case "", "index":
	case "create":
		op = esCreate
	default:
		return errorf(http.StatusBadRequest, typeInvalidRequest, "op_type %q: want index or create", r.URL.Query().Get("op_type"))
	}
	return s.serveESDoc(w, r, op)
}

// handleESCreate serves the _create routes.
func (s *Server) handleESCreate(w http.ResponseWriter, r *http.Request) error {
	return s.serveESDoc(w, r, esCreate)
}

// serveESDoc stores the body as one document of the path's index, with
// the path's id if any.
func (s *Server) serveESDoc(w http.ResponseWriter, r *http.Request, op esOp) error {
	k := keyOf(w)
	it := esItem{op: op, index: r.PathValue("index"), id: r.PathValue("id")}
	return s.serveBulk(w, r, bulkProtocol{
		idOutsideBody: it.id != "",
		mediaTypes:    esMediaTypes,
		parse: func(b *bulk, body []byte) error {
			if isBlank(body) {
				return errorf(http.StatusBadRequest, typeInvalidRequest, "request body is required: send the document")
			}
			if err := it.check(1, it.id != ""); err != nil { // the mux gives {id} no empty value
				b.add(1, nil, err)
			} else {
				b.add(1, body, nil)
			}
			b.es = append(b.es, it)
			b.register = s.cfg.ES.Providers == ProvidersRegister
			b.keep = true // shippers send more than the schema: host, agent, syslog...
			b.decodeAs(k, func(i int, ev *event.Event) { s.completeES(ev, &b.es[i]) })
			return nil
		},
		respond: func(b *bulk, dst []byte, _ time.Duration) ([]byte, int) {
			b.failCreateDuplicates()
			if f := b.items[0].fail; f != 0 {
				e := b.fails[f-1]
				return appendESError(dst, &apiError{status: e.status, typ: e.typ, reason: e.reason}), e.status
			}
			return b.appendESItem(dst, 0), esResultOf(&b.items[0]).status
		},
	})
}
