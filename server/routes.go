package server

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/eventlogdb/eventlog/auth"
)

// handlerFunc is a route's handler. An error it returns is answered as JSON
// (see asAPIError), unless the handler has already started its answer.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// routeUnmatched is the route label of requests no pattern matches.
const routeUnmatched = "unmatched"

// route is one entry of the route table: its pattern, who may call it,
// whether it streams, and its handler.
type route struct {
	pattern   string
	rule      rule
	streaming bool
	// es: an Elasticsearch-compatible route (es.go), whose every answer
	// names the product and whose errors take Elasticsearch's shape.
	es bool
	h  handlerFunc
}

// Access rules, named for what the routes they guard do (see access.go).
var (
	public      = rule{public: true}
	read        = rule{need: auth.Reader}
	readAll     = rule{need: auth.Reader, storeWide: true}
	write       = rule{need: auth.Writer}
	admin       = rule{need: auth.Admin}
	adminAudit  = func(action string) rule { return rule{need: auth.Admin, audit: action} }
	metricsRule = rule{need: auth.Reader, storeWide: true, metrics: true}
	// audit: the Merkle tree's heads and proofs (integrity.go), for admins
	// and auditors whose keys see the whole store.
	audit = rule{need: auth.Auditor, storeWide: true}
)

// routeTable lists every route with its access rule. A route that reads
// events under /s/{space} is listed twice, with and without the prefix.
func (s *Server) routeTable() []route {
	var rs []route
	add := func(pattern string, rl rule, h handlerFunc) {
		rs = append(rs, route{pattern: pattern, rule: rl, h: h})
	}
	spaced := func(method, path string, streaming bool, h handlerFunc) {
		for _, p := range []string{method + " " + path, method + " /s/{space}" + path} {
			rs = append(rs, route{pattern: p, rule: read, streaming: streaming, h: h})
		}
	}
	add("POST /api/events", write, s.handleIngest)
	add("POST /api/events/_bulk", write, s.handleBulk)
	add("POST /api/events/_delete_by_query", adminAudit(actionDeleteRequest), s.handleDeleteByQuery)
	for _, prefix := range []string{"/api", "/internal"} { // Kibana's older and current routes
		spaced("GET", prefix+"/event_log/{type}/{id}/_find", false, s.handleFind)
		spaced("POST", prefix+"/event_log/{type}/_find", false, s.handleFind)
	}
	spaced("GET", "/api/events/_search", false, s.handleSearch)
	spaced("POST", "/api/events/_search", false, s.handleSearch)
	spaced("POST", "/api/events/_aggregate", false, s.handleAggregate)
	spaced("GET", "/api/events/_export", true, s.handleExport)
	spaced("POST", "/api/events/_export", true, s.handleExport)
	spaced("GET", "/api/events/_tail", true, s.handleTail)
	add("GET /api/events/{id}", read, s.handleGetEvent)
	add("POST /api/events/_mget", read, s.handleMget)
	add("GET /api/destinations", admin, s.handleDestinationList)
	add("PUT /api/destinations/{name}", adminAudit(actionDestinationPut), s.handleDestinationPut)
	add("GET /api/destinations/{name}", admin, s.handleDestinationGet)
	add("DELETE /api/destinations/{name}", adminAudit(actionDestinationDelete), s.handleDestinationDelete)
	add("POST /api/destinations/{name}/_resume", admin, s.handleDestinationResume)
	add("GET /api/providers", read, s.handleProviders)
	add("PUT /api/providers/{provider}", write, s.handleRegister)
	add("GET /api/_stats", readAll, s.handleStats)
	add("GET /api/_privacy", read, s.handlePrivacy)
	add("POST /api/_privacy/_reveal", admin, s.handleReveal) // audits itself, with what was asked
	add("POST /api/_roll", admin, s.handleRoll)
	add("POST /api/_compact", admin, s.handleCompact)
	add("POST /api/_retention", adminAudit(actionRetentionRun), s.handleRetention)
	add("POST /api/_compaction/_pause", admin, s.handlePause)
	add("POST /api/_compaction/_resume", admin, s.handleResume)
	add("POST /api/_backup", adminAudit(actionBackup), s.handleBackup)
	// Incident holds (holds.go): the engine records each change too.
	add("POST /api/_holds", adminAudit(actionHoldCreate), s.handleHoldCreate)
	add("GET /api/_holds", audit, s.handleHoldList)
	add("DELETE /api/_holds/{name}", adminAudit(actionHoldRelease), s.handleHoldRelease)
	add("POST /api/_security/api_key", admin, s.handleKeyCreate)
	add("GET /api/_security/api_key", admin, s.handleKeyList)
	add("DELETE /api/_security/api_key/{id}", admin, s.handleKeyRevoke)
	// The timeline page (ui.go): its files are public, its API calls are
	// not; _authenticate tells it what the key it was given grants.
	add("GET /{$}", public, s.handlePage)
	add("GET /assets/{file}", public, s.handleAsset)
	add("GET /api/_security/_authenticate", read, s.handleAuthenticate)
	// Elasticsearch-compatible ingest under /es (es_routes.go).
	rs = append(rs, s.esRoutes()...)
	// End of the /es block.
	// GitLab's audit stream: its verification token, not an API key,
	// authenticates it (gitlab.go).
	add("POST /api/ingest/gitlab", public, s.handleGitLab)
	// The Merkle tree over the log (integrity.go).
	add("GET /api/_integrity/head", audit, s.handleHead)
	add("POST /api/_integrity/head", admin, s.handleSignHead)
	add("GET /api/_integrity/heads", audit, s.handleHeads)
	add("GET /api/_integrity/consistency", audit, s.handleConsistency)
	add("GET /api/events/{id}/_proof", audit, s.handleProof)

	add("GET /healthz", public, s.handleHealth)
	add("GET /readyz", read, s.handleReady)
	metrics := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{
		ErrorLog: slogPrinter{s.log}, Registry: s.metrics.reg,
	})
	add("GET /metrics", metricsRule, func(w http.ResponseWriter, r *http.Request) error {
		metrics.ServeHTTP(w, r)
		return nil
	})
	return rs
}

// routes registers every route of the table on a new ServeMux. A
// catch-all pattern answers what no route matches with a JSON 404 or 405,
// instead of the mux's plain-text ones; it needs no key, as it reveals
// only which paths exist, which the documentation says anyway.
func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routeTable() {
		if err := rt.rule.check(); err != nil {
			panic(fmt.Sprintf("server: route %s: %v", rt.pattern, err)) // a programming error, caught by the route tests
		}
		if s.cfg.Node != nil && refusedOnNode(rt) {
			rt.h = s.refuseOnNode
		}
		mux.Handle(rt.pattern, s.wrap(rt))
	}
	mux.Handle("/es/", s.wrap(esUnmatched(s, mux)))
	mux.Handle("/", s.wrap(route{pattern: routeUnmatched, rule: public, h: func(w http.ResponseWriter, r *http.Request) error {
		return s.unmatched(mux, w, r)
	}}))
	return mux
}

// probeMethods are the methods tried to compute the Allow header of a 405.
var probeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions}

// unmatched answers a request that matched only the catch-all pattern: the
// page to a browser navigating to one of its URLs (ui.go), 405 with Allow
// when the path is a route's under other methods, else 404.
func (s *Server) unmatched(mux *http.ServeMux, w http.ResponseWriter, r *http.Request) error {
	if s.wantsPage(r) {
		return s.servePageFile(w, r, "index.html")
	}
	var allow []string
	for _, m := range probeMethods {
		probe := *r // shallow copy: only the method changes
		probe.Method = m
		if _, p := mux.Handler(&probe); p != "" && p != "/" && p != "/es/" {
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
