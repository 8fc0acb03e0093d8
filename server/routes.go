package server

import (
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// handlerFunc is a route's handler. An error it returns is answered as JSON
// (see asAPIError), unless the handler has already started its answer.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// routeUnmatched is the route label of requests no pattern matches.
const routeUnmatched = "unmatched"

// routes registers every route on a new ServeMux. A catch-all pattern
// answers what no route matches with a JSON 404 or 405, instead of the
// mux's plain-text ones.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, h handlerFunc) {
		mux.Handle(pattern, s.wrap(pattern, false, h))
	}
	spaced := func(method, path string, streaming bool, h handlerFunc) {
		for _, p := range []string{method + " " + path, method + " /s/{space}" + path} {
			mux.Handle(p, s.wrap(p, streaming, h))
		}
	}
	handle("POST /api/events", s.handleIngest)
	handle("POST /api/events/_bulk", s.handleBulk)
	handle("POST /api/events/_delete_by_query", s.handleDeleteByQuery)
	spaced("GET", "/api/event_log/{type}/{id}/_find", false, s.handleFind)
	spaced("POST", "/api/event_log/{type}/_find", false, s.handleFind)
	spaced("GET", "/api/events/_search", false, s.handleSearch)
	spaced("POST", "/api/events/_search", false, s.handleSearch)
	spaced("POST", "/api/events/_aggregate", false, s.handleAggregate)
	spaced("GET", "/api/events/_export", true, s.handleExport)
	spaced("POST", "/api/events/_export", true, s.handleExport)
	spaced("GET", "/api/events/_tail", true, s.handleTail)
	handle("GET /api/destinations", s.handleDestinationList)
	handle("PUT /api/destinations/{name}", s.handleDestinationPut)
	handle("GET /api/destinations/{name}", s.handleDestinationGet)
	handle("DELETE /api/destinations/{name}", s.handleDestinationDelete)
	handle("POST /api/destinations/{name}/_resume", s.handleDestinationResume)
	handle("GET /api/providers", s.handleProviders)
	handle("PUT /api/providers/{provider}", s.handleRegister)
	handle("GET /api/_stats", s.handleStats)
	handle("GET /api/_privacy", s.handlePrivacy)
	handle("POST /api/_roll", s.handleRoll)
	handle("POST /api/_compact", s.handleCompact)
	handle("POST /api/_retention", s.handleRetention)
	handle("POST /api/_compaction/_pause", s.handlePause)
	handle("POST /api/_compaction/_resume", s.handleResume)
	handle("POST /api/_backup", s.handleBackup)
	handle("GET /healthz", s.handleHealth)
	handle("GET /readyz", s.handleReady)
	metrics := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{
		ErrorLog: slogPrinter{s.log}, Registry: s.metrics.reg,
	})
	handle("GET /metrics", func(w http.ResponseWriter, r *http.Request) error {
		metrics.ServeHTTP(w, r)
		return nil
	})
	mux.Handle("/", s.wrap(routeUnmatched, false, func(w http.ResponseWriter, r *http.Request) error {
		return s.unmatched(mux, w, r)
	}))
	return mux
}

// probeMethods are the methods tried to compute the Allow header of a 405.
var probeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions}

// unmatched answers a request that matched only the catch-all pattern: 405
// with Allow when the path is a route's under other methods, else 404.
func (s *Server) unmatched(mux *http.ServeMux, w http.ResponseWriter, r *http.Request) error {
	var allow []string
	for _, m := range probeMethods {
		probe := *r // shallow copy: only the method changes
		probe.Method = m
		if _, p := mux.Handler(&probe); p != "" && p != "/" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		return errorf(http.StatusNotFound, typeNotFound, "no route for %s %s", r.Method, r.URL.Path)
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	return errorf(http.StatusMethodNotAllowed, typeMethodNotAllowed, "%s is not allowed on %s (allowed: %s)",
		r.Method, r.URL.Path, strings.Join(allow, ", "))
}
