package server

import (
	"fmt"
	"maps"
	"strings"
)

// The access expectation of the /es routes, independent of es_routes.go:
// reading the node's identity and set-up objects needs a reader; ingest
// and the set-up PUTs a writer.
var esRouteNeeds = map[string]string{
	"GET /es/{$}":                        "reader",
	"GET /es/_license":                   "reader",
	"GET /es/_xpack":                     "reader",
	"GET /es/_cluster/health":            "reader",
	"GET /es/_cluster/health/{index}":    "reader",
	"GET /es/_cat/health":                "reader",
	"GET /es/_nodes":                     "reader",
	"GET /es/_nodes/{filter}":            "reader",
	"GET /es/_nodes/{filter}/{metric}":   "reader",
	"GET /es/_index_template/{name}":     "reader",
	"GET /es/_template/{name}":           "reader",
	"GET /es/_component_template/{name}": "reader",
	"GET /es/_ilm/policy/{name}":         "reader",
	"GET /es/_ingest/pipeline/{name}":    "reader",
	"GET /es/_data_stream/{name}":        "reader",
	"PUT /es/{kind}/{name}":              "writer",
	"PUT /es/_ilm/policy/{name}":         "writer",
	"PUT /es/_ingest/pipeline/{name}":    "writer",
	"GET /es/_alias/{name}":              "reader",
	"GET /es/{index}":                    "reader",
	"PUT /es/{index}":                    "writer",
	"POST /es/_refresh":                  "reader",
	"POST /es/{index}/_refresh":          "reader",
	"POST /es/_bulk":                     "writer",
	"PUT /es/_bulk":                      "writer",
	"POST /es/{index}/_bulk":             "writer",
	"PUT /es/{index}/_bulk":              "writer",
	"POST /es/{index}/_create/{id}":      "writer",
	"PUT /es/{index}/_create/{id}":       "writer",
	"POST /es/{index}/_doc":              "writer",
	"PUT /es/{index}/_doc/{id}":          "writer",
	"POST /es/{index}/_doc/{id}":         "writer",
}

// esSingleDocRoutes store one document all or nothing: out of the key's
// spaces, the whole request is refused.
var esSingleDocRoutes = map[string]bool{
	"POST /es/{index}/_create/{id}": true, "PUT /es/{index}/_create/{id}": true,
	"POST /es/{index}/_doc": true, "PUT /es/{index}/_doc/{id}": true, "POST /es/{index}/_doc/{id}": true,
}

// accessGitLabToken is the GitLab verification token of the access
// tests' server: the GitLab receiver needs it, and no API key.
const accessGitLabToken = "access-test-token-01"

// sampleHeaders are the headers a sample request needs besides
// Authorization, by path.
var sampleHeaders = map[string][2]string{"/api/ingest/gitlab": {gitlabTokenHeader, accessGitLabToken}}

func init() {
	maps.Copy(routeNeeds, esRouteNeeds)
	routeNeeds["POST /api/ingest/gitlab"] = ""
}

// esRouteSample is the sample request of an /es route pattern's path, or
// of the GitLab receiver.
func esRouteSample(path, space string) (sample, bool) {
	if path == "/api/ingest/gitlab" {
		return sample{path: path, body: `{"id":"s-` + space + `","event_type":"x"}`, contentType: ctJSON}, true
	}
	if !strings.HasPrefix(path, "/es/") {
		return sample{}, false
	}
	doc := fmt.Sprintf(`{"@timestamp":"2026-01-02T03:04:05Z","event":{"provider":"alerting","action":"execute"},"kibana":{"space_ids":[%q]}}`, space)
	r := strings.NewReplacer("{$}", "", "{index}", "app", "{filter}", "_local", "{metric}", "ingest",
		"{name}", "n1", "{id}", "id-"+space, "{kind}", "_index_template")
	smp := sample{path: r.Replace(path), body: `{}`, contentType: ctJSON}
	switch {
	case strings.HasSuffix(path, "/_bulk"):
		smp.body, smp.contentType = `{"create":{"_index":"app"}}`+"\n"+doc+"\n", ctNDJSON
	case strings.Contains(path, "/_doc"), strings.Contains(path, "/_create/"):
		smp.body = doc
	}
	return smp, true
}
