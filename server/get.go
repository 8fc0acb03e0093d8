package server

import (
	"net/http"
	"strings"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/event"
)

// This file is lookup by id: GET /api/events/{id} and POST
// /api/events/_mget. An id is a client id first, then an engine id
// (eventlog.DB.Get). A key sees by id only what its queries would show
// it: an event outside its spaces, or one of the store's own records for
// a key that may not read them, is answered exactly like a missing id.

// maxMgetIDs bounds the ids of one _mget.
const maxMgetIDs = 10_000

// handleGetEvent answers one event by id: 200 with its document, or 404.
func (s *Server) handleGetEvent(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if allow := eventRouteMethods(s.routeTable(), id); allow != nil {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		return errorf(http.StatusMethodNotAllowed, typeMethodNotAllowed, "%s is not allowed on %s (allowed: %s)",
			r.Method, r.URL.Path, strings.Join(allow, ", "))
	}
	found, err := s.get(r, keyOf(w), []string{id})
	if err != nil {
		return err
	}
	rec, ok := found[id]
	if !ok {
		return errorf(http.StatusNotFound, typeNotFound, "no event with _id %q", id)
	}
	out := getBuf()
	defer putBuf(out)
	*out = appendShown((*out)[:0], keyOf(w), rec.Seq, &rec.Event)
	writeJSON(w, http.StatusOK, *out)
	return nil
}

// eventRouteMethods returns the methods of the routes named
// /api/events/NAME (_bulk, _search, ...), nil when NAME is none: GET of
// such a path is the 405 it was before events could be read by id, not a
// lookup of an event whose id is NAME.
func eventRouteMethods(routes []route, name string) []string {
	var allow []string
	for _, rt := range routes {
		method, path, _ := strings.Cut(rt.pattern, " ")
		if path == "/api/events/"+name && method != http.MethodGet {
			allow = append(allow, method)
		}
	}
	return allow
}

// mgetRequest is the body of _mget.
type mgetRequest struct {
	IDs []string `json:"ids"`
}

// handleMget answers several events by id, like Elasticsearch's _mget:
// {"ids":[...]} → {"docs":[{"found":true,"_id":...,"_seq":...,...}, ...]}
// in the order asked, {"_id":...,"found":false} for an id not found.
func (s *Server) handleMget(w http.ResponseWriter, r *http.Request) error {
	var req mgetRequest
	if err := s.readJSONBody(w, r, &req); err != nil {
		return err
	}
	if len(req.IDs) > maxMgetIDs {
		return errorf(http.StatusBadRequest, typeInvalidRequest, "ids: %d ids is over the limit of %d", len(req.IDs), maxMgetIDs)
	}
	found, err := s.get(r, keyOf(w), req.IDs)
	if err != nil {
		return err
	}
	out := getBuf()
	defer putBuf(out)
	b := append((*out)[:0], `{"docs":[`...)
	for i, id := range req.IDs {
		if i > 0 {
			b = append(b, ',')
		}
		rec, ok := found[id]
		if !ok {
			b = append(b, `{"_id":`...)
			b = appendString(b, id)
			b = append(b, `,"found":false}`...)
			continue
		}
		b = append(b, `{"found":true,`...)
		doc := appendShown(nil, keyOf(w), rec.Seq, &rec.Event)
		b = append(b, doc[1:]...)
	}
	*out = append(b, "]}"...)
	writeJSON(w, http.StatusOK, *out)
	return nil
}

// get looks ids up and keeps what k may see.
func (s *Server) get(r *http.Request, k *auth.Key, ids []string) (map[string]eventlog.Record, error) {
	found, err := s.db.Get(r.Context(), ids...)
	if err != nil {
		return nil, err
	}
	for id, rec := range found {
		if !mayRead(k, &rec.Event) {
			delete(found, id)
		}
	}
	return found, nil
}

// mayRead reports whether key k (nil: no authentication) may read ev:
// the rule restrictQuery gives queries (its spaces, and the store's own
// records only for roles that read them).
func mayRead(k *auth.Key, ev *event.Event) bool {
	if k == nil {
		return true
	}
	if ev.Event.Provider == eventlog.InternalProvider && !k.Role.SeesAudit() {
		return false
	}
	return k.MaySee(ev)
}
