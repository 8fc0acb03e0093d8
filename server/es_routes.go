package server

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The Elasticsearch-compatible routes live under /es, so that a shipper is
// pointed at http://HOST:9700/es as its Elasticsearch URL while the root
// stays free for the web interface. Besides ingest (es_bulk.go, es_doc.go),
// they answer the calls shippers and clients make at start — the node's
// identity and licence, and the templates, policies, pipelines and indices
// they set up — with success and no effect: events have one schema, and
// retention and indexing are the store's own.

// The product header every official Elasticsearch client checks before it
// trusts an answer.
const (
	esProductHeader = "X-Elastic-Product"
	esProduct       = "Elasticsearch"
)

// esVersion is the Elasticsearch version the /es routes answer as: the
// v8 clients refuse a major version other than 8.
const esVersion = "8.17.0"

// esRoutes are the routes under /es with their access rules: reading the
// node's identity needs a reader, ingest and the set-up calls a writer.
func (s *Server) esRoutes() []route {
	var rs []route
	add := func(pattern string, rl rule, h handlerFunc) {
		rs = append(rs, route{pattern: pattern, rule: rl, es: true, h: h})
	}
	info := func(v any) handlerFunc {
		return func(w http.ResponseWriter, r *http.Request) error { return writeValue(w, http.StatusOK, v) }
	}
	ack := info(map[string]any{"acknowledged": true})
	add("GET /es/{$}", read, s.handleESInfo) // HEAD too: GET patterns serve it
	add("GET /es/_license", read, info(esLicense()))
	add("GET /es/_xpack", read, info(esXPack()))
	add("GET /es/_cluster/health", read, s.handleESHealth)
	add("GET /es/_cluster/health/{index}", read, s.handleESHealth)
	add("GET /es/_cat/health", read, s.handleESCatHealth)
	add("GET /es/_nodes", read, s.handleESNodes)
	add("GET /es/_nodes/{filter}", read, s.handleESNodes)
	add("GET /es/_nodes/{filter}/{metric}", read, s.handleESNodes)
	// Set-up calls: whatever a shipper checks exists, and whatever it
	// puts is acknowledged.
	for _, kind := range esSetupKinds {
		add("GET /es/"+kind+"/{name}", read, info(map[string]any{}))
	}
	add("GET /es/_data_stream/{name}", read, info(map[string]any{"data_streams": []any{}}))
	// One pattern for the PUTs of /es/{kind}/{name}: one per kind would
	// conflict with PUT /es/{index}/_bulk (think /es/_template/_bulk).
	add("PUT /es/{kind}/{name}", write, func(w http.ResponseWriter, r *http.Request) error {
		if !slices.Contains(esSetupKinds, r.PathValue("kind")) && r.PathValue("kind") != "_data_stream" {
			return errorf(http.StatusNotFound, typeNotFound, "no route for %s %s", r.Method, r.URL.Path)
		}
		return ack(w, r)
	})
	add("PUT /es/_ilm/policy/{name}", write, ack)
	add("PUT /es/_ingest/pipeline/{name}", write, ack)
	add("GET /es/_alias/{name}", read, info(map[string]any{}))
	add("GET /es/{index}", read, s.handleESIndex) // HEAD /es/{index}: the index exists
	add("PUT /es/{index}", write, s.handleESIndexPut)
	add("POST /es/_refresh", read, info(esShards()))
	add("POST /es/{index}/_refresh", read, info(esShards()))
	// Ingest (es_bulk.go, es_doc.go).
	for _, m := range []string{"POST", "PUT"} {
		add(m+" /es/_bulk", write, s.handleESBulk)
		add(m+" /es/{index}/_bulk", write, s.handleESBulk)
		add(m+" /es/{index}/_create/{id}", write, s.handleESCreate)
	}
	add("POST /es/{index}/_doc", write, s.handleESDoc)
	add("PUT /es/{index}/_doc/{id}", write, s.handleESDoc)
	add("POST /es/{index}/_doc/{id}", write, s.handleESDoc)
	return rs
}

// esSetupKinds are the kinds of set-up object (GET|PUT /es/{kind}/{name})
// answered without effect; _ilm/policy and _ingest/pipeline are two
// segments deep and listed on their own.
var esSetupKinds = []string{"_index_template", "_template", "_component_template", "_ilm/policy", "_ingest/pipeline"}

// esClusterName is the cluster name the node reports.
const esClusterName = "eventlog"

// esClusterUUID is a stable id for the node's answers: a hash of the host
// name, so it stays the same across restarts.
var esClusterUUID = func() string {
	host, _ := os.Hostname()
	sum := sha256.Sum256([]byte("eventlog:" + host))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}()

// handleESInfo answers GET /es/ as an Elasticsearch 8 node: what the
// clients' product check reads.
func (s *Server) handleESInfo(w http.ResponseWriter, r *http.Request) error {
	return writeValue(w, http.StatusOK, map[string]any{
		"name":         "eventlog",
		"cluster_name": esClusterName,
		"cluster_uuid": esClusterUUID,
		"version": map[string]any{
			"number":                              esVersion,
			"build_flavor":                        "default",
			"build_type":                          "eventlog",
			"build_hash":                          "eventlog",
			"build_date":                          "2026-01-01T00:00:00.000Z",
			"build_snapshot":                      false,
			"lucene_version":                      "9.12.0",
			"minimum_wire_compatibility_version":  "7.17.0",
			"minimum_index_compatibility_version": "7.0.0",
		},
		"tagline": "You Know, for Search",
	})
}

// esLicense is GET /es/_license: an active basic licence, which is what
// Filebeat and Logstash check for.
func esLicense() map[string]any {
	return map[string]any{"license": map[string]any{
		"status": "active", "uid": esClusterUUID, "type": "basic", "issue_date": "2026-01-01T00:00:00.000Z",
		"issue_date_in_millis": 1767225600000, "max_nodes": 1000, "issued_to": esClusterName,
		"issuer": "elasticsearch", "start_date_in_millis": -1,
	}}
}

// esXPack is GET /es/_xpack: the basic licence and no features.
func esXPack() map[string]any {
	return map[string]any{
		"build":    map[string]any{"hash": "eventlog", "date": "2026-01-01T00:00:00.000Z"},
		"license":  map[string]any{"uid": esClusterUUID, "type": "basic", "mode": "basic", "status": "active"},
		"features": map[string]any{},
	}
}

// esShards is the _shards member of an answer: one copy, written.
func esShards() map[string]any {
	return map[string]any{"_shards": map[string]any{"total": 1, "successful": 1, "failed": 0}}
}

// esStatus is the cluster's colour: green while the store takes writes,
// red once it does not (closed, read-only or poisoned).
func (s *Server) esStatus() string {
	if readinessOf(s.stats(), s.shuttingDown.Load()).Status != statusReady {
		return "red"
	}
	return "green"
}

// handleESHealth answers GET /es/_cluster/health, which Vector and
// Logstash call as a health check.
func (s *Server) handleESHealth(w http.ResponseWriter, r *http.Request) error {
	status := s.esStatus()
	return writeValue(w, http.StatusOK, map[string]any{
		"cluster_name": esClusterName, "status": status, "timed_out": false,
		"number_of_nodes": 1, "number_of_data_nodes": 1, "active_primary_shards": 1, "active_shards": 1,
		"relocating_shards": 0, "initializing_shards": 0, "unassigned_shards": 0,
		"active_shards_percent_as_number": 100.0,
	})
}

// handleESCatHealth answers GET /es/_cat/health: a text line, or JSON
// with ?format=json.
func (s *Server) handleESCatHealth(w http.ResponseWriter, r *http.Request) error {
	now := time.Now()
	epoch := strconv.FormatInt(now.Unix(), 10)
	stamp := now.UTC().Format("15:04:05")
	status := s.esStatus()
	if r.URL.Query().Get("format") == "json" {
		return writeValue(w, http.StatusOK, []map[string]string{{
			"epoch": epoch, "timestamp": stamp, "cluster": esClusterName, "status": status,
			"node.total": "1", "node.data": "1", "shards": "1", "pri": "1",
		}})
	}
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	_, _ = w.Write([]byte(epoch + " " + stamp + " " + esClusterName + " " + status + " 1 1 1 1 0 0 0 0 - 100.0%\n"))
	return nil
}

// handleESNodes answers GET /es/_nodes[/...]: this node, with nothing
// installed.
func (s *Server) handleESNodes(w http.ResponseWriter, r *http.Request) error {
	return writeValue(w, http.StatusOK, map[string]any{
		"_nodes":       map[string]int{"total": 1, "successful": 1, "failed": 0},
		"cluster_name": esClusterName,
		"nodes": map[string]any{esClusterUUID: map[string]any{
			"name": "eventlog", "version": esVersion, "roles": []string{"data", "ingest", "master"},
			"ingest": map[string]any{"processors": []any{}},
		}},
	})
}

// handleESIndex answers GET (and HEAD) /es/{index}: every index exists,
// with no settings of its own.
func (s *Server) handleESIndex(w http.ResponseWriter, r *http.Request) error {
	if err := esIndexPath(r); err != nil {
		return err
	}
	return writeValue(w, http.StatusOK, map[string]any{
		r.PathValue("index"): map[string]any{"aliases": map[string]any{}, "mappings": map[string]any{}, "settings": map[string]any{}},
	})
}

// handleESIndexPut answers PUT /es/{index}: created, without effect.
func (s *Server) handleESIndexPut(w http.ResponseWriter, r *http.Request) error {
	if err := esIndexPath(r); err != nil {
		return err
	}
	return writeValue(w, http.StatusOK, map[string]any{
		"acknowledged": true, "shards_acknowledged": true, "index": r.PathValue("index"),
	})
}

// esIndexPath checks the {index} of an index route: a path segment
// starting with '_' names an Elasticsearch API eventlog does not serve
// (404, saying where searches go), another bad name is a 400.
func esIndexPath(r *http.Request) error {
	name := r.PathValue("index")
	if strings.HasPrefix(name, "_") {
		return errorf(http.StatusNotFound, typeNotFound,
			"no route %s %s: under /es eventlog serves Elasticsearch's ingest API only; search with /api/events/_search", r.Method, r.URL.Path)
	}
	if err := checkESIndex(name); err != nil {
		return errorf(http.StatusBadRequest, esInvalidIndexName, "%v", err)
	}
	return nil
}
