package server

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// esAnswer is Elasticsearch's _bulk answer.
type esAnswer struct {
	Took   *int64 `json:"took"`
	Errors bool   `json:"errors"`
	Items  []map[string]esItemAnswer
}

// esItemAnswer is one item of a _bulk answer, or a single document's.
type esItemAnswer struct {
	Index   string  `json:"_index"`
	ID      *string `json:"_id"`
	Version int     `json:"_version"`
	Result  string  `json:"result"`
	Status  int     `json:"status"`
	SeqNo   *uint64 `json:"_seq_no"`
	Shards  *struct {
		Total, Successful, Failed int
	} `json:"_shards"`
	Error *struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	} `json:"error"`
}

// esErr is Elasticsearch's error answer.
type esErr struct {
	Status int `json:"status"`
	Error  struct {
		RootCause []struct{ Type, Reason string } `json:"root_cause"`
		Type      string                          `json:"type"`
		Reason    string                          `json:"reason"`
	} `json:"error"`
}

// wantESError checks an /es error answer: status, Elasticsearch's shape
// and type, and the product header.
func (r response) wantESError(t *testing.T, status int, typ string) esErr {
	t.Helper()
	var e esErr
	r.decode(t, &e)
	if r.status != status || e.Status != status || e.Error.Type != typ || e.Error.Reason == "" ||
		len(e.Error.RootCause) != 1 || e.Error.RootCause[0].Type != typ {
		t.Fatalf("got %d %s, want %d with type %s in Elasticsearch's shape", r.status, r.body, status, typ)
	}
	wantProduct(t, r)
	return e
}

func wantProduct(t *testing.T, r response) {
	t.Helper()
	if got := r.header.Get("X-Elastic-Product"); got != "Elasticsearch" {
		t.Fatalf("X-Elastic-Product %q, want Elasticsearch (status %d %s)", got, r.status, r.body)
	}
}

// esBulk posts body to path and decodes Elasticsearch's answer.
func (e *env) esBulk(path, body string) esAnswer {
	e.t.Helper()
	r := e.do("POST", path, ctNDJSON, body)
	if r.status != http.StatusOK {
		e.t.Fatalf("%s: %d %s", path, r.status, r.body)
	}
	wantProduct(e.t, r)
	var a esAnswer
	r.decode(e.t, &a)
	if a.Took == nil {
		e.t.Fatalf("no took in %s", r.body)
	}
	return a
}

// itemOf returns the single action and result object of a bulk item.
func itemOf(t *testing.T, item map[string]esItemAnswer) (string, esItemAnswer) {
	t.Helper()
	if len(item) != 1 {
		t.Fatalf("item %v has %d members, want one action", item, len(item))
	}
	for op, v := range item {
		return op, v
	}
	return "", esItemAnswer{}
}

func TestESNodeInfo(t *testing.T) {
	e := newEnv(t, Config{})
	r := e.do("GET", "/es/", "", "")
	wantProduct(t, r)
	var info struct {
		Name, ClusterName, ClusterUUID, Tagline string
		Version                                 struct{ Number, BuildFlavor string }
	}
	r.decode(t, &info)
	var raw map[string]any
	r.decode(t, &raw)
	if r.status != http.StatusOK || raw["cluster_name"] == "" || raw["cluster_uuid"] == "" || raw["name"] == "" ||
		raw["tagline"] != "You Know, for Search" {
		t.Fatalf("GET /es/: %d %s", r.status, r.body)
	}
	v := raw["version"].(map[string]any)
	if !strings.HasPrefix(v["number"].(string), "8.") || v["build_flavor"] != "default" {
		t.Fatalf("version %v, want 8.x, build_flavor default", v)
	}
	head := e.do("HEAD", "/es/", "", "")
	if head.status != http.StatusOK || len(head.body) != 0 {
		t.Fatalf("HEAD /es/: %d %q", head.status, head.body)
	}
	wantProduct(t, head)
	e.do("GET", "/es/no/such/route/at/all", "", "").wantESError(t, http.StatusNotFound, "resource_not_found_exception")
}

// TestESSetupCallsDoNothing sends the calls shippers make at start: each
// answers 2xx with the product header, and nothing is stored.
func TestESSetupCallsDoNothing(t *testing.T) {
	e := newEnv(t, Config{})
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/es/_license", ""},
		{"GET", "/es/_xpack", ""},
		{"GET", "/es/_cluster/health", ""},
		{"GET", "/es/_cluster/health/logs-x", ""},
		{"GET", "/es/_cat/health?format=json", ""},
		{"GET", "/es/_nodes", ""},
		{"GET", "/es/_nodes/_local/ingest", ""},
		{"GET", "/es/_index_template/filebeat-8", ""},
		{"HEAD", "/es/_index_template/filebeat-8", ""},
		{"PUT", "/es/_index_template/filebeat-8", `{"index_patterns":["filebeat-*"]}`},
		{"PUT", "/es/_template/logstash", `{"index_patterns":["logstash-*"]}`},
		{"PUT", "/es/_component_template/c1", `{"template":{}}`},
		{"GET", "/es/_ilm/policy/filebeat", ""},
		{"PUT", "/es/_ilm/policy/filebeat", `{"policy":{}}`},
		{"PUT", "/es/_ingest/pipeline/p1", `{"processors":[]}`},
		{"GET", "/es/_data_stream/logs-x", ""},
		{"PUT", "/es/_data_stream/logs-x", ""},
		{"GET", "/es/_alias/filebeat", ""},
		{"HEAD", "/es/logs-x", ""},
		{"PUT", "/es/logs-x", `{"settings":{}}`},
		{"POST", "/es/_refresh", ""},
		{"POST", "/es/logs-x/_refresh", ""},
	} {
		r := e.do(c.method, c.path, ctJSON, c.body)
		if r.status < 200 || r.status > 299 {
			t.Errorf("%s %s: %d %s", c.method, c.path, r.status, r.body)
		}
		wantProduct(t, r)
	}
	e.wantCount(0)
}

// TestESBulk sends every kind of action and checks each item against
// Elasticsearch's answer, the events stored, and the defaults given to
// documents without provider or action.
func TestESBulk(t *testing.T) {
	e := newEnv(t, Config{})
	syslog := `{"@timestamp":"2026-01-02T03:04:05Z","message":"sshd: accepted key"}`
	typed := `{"@timestamp":"2026-01-02T03:04:06Z","event":{"provider":"alerting","action":"execute"},"message":"run"}`
	body := ndjson(
		`{"index":{"_index":"syslog"}}`, syslog, // 1
		`{"create":{}}`, typed, // 3: the path's index
		`{"update":{"_index":"syslog","_id":"x"}}`, `{"doc":{"message":"changed"}}`, // 5
		`{"delete":{"_index":"syslog","_id":"y"}}`,                     // 7
		`{"index":{"_index":"syslog"}}`, `{"@timestamp":"not a date"}`, // 8
	)
	a := e.esBulk("/es/logs-app/_bulk", body)
	if !a.Errors || len(a.Items) != 5 {
		t.Fatalf("errors %v, %d items, want errors and 5 items", a.Errors, len(a.Items))
	}
	want := []struct {
		op, index string
		status    int
		errType   string
	}{
		{"index", "syslog", 201, ""},
		{"create", "logs-app", 201, ""},
		{"update", "syslog", 400, "illegal_argument_exception"},
		{"delete", "syslog", 400, "illegal_argument_exception"},
		{"index", "syslog", 400, "mapper_parsing_exception"},
	}
	var seqs []uint64
	for i, w := range want {
		op, it := itemOf(t, a.Items[i])
		if op != w.op || it.Index != w.index || it.Status != w.status {
			t.Errorf("item %d: %s %+v, want %s of %s with status %d", i, op, it, w.op, w.index, w.status)
			continue
		}
		if w.errType == "" {
			if it.Result != "created" || it.Version != 1 || it.SeqNo == nil || it.ID == nil || *it.ID == "" ||
				it.Shards == nil || it.Shards.Successful != 1 || it.Error != nil {
				t.Errorf("item %d: %+v, want created with _id, _seq_no, _version 1 and _shards", i, it)
			}
			if it.SeqNo != nil {
				seqs = append(seqs, *it.SeqNo)
			}
			continue
		}
		if it.Error == nil || it.Error.Type != w.errType || it.Error.Reason == "" {
			t.Errorf("item %d: error %+v, want type %s with a reason", i, it.Error, w.errType)
		}
	}
	if op, it := itemOf(t, a.Items[2]); op == "update" && !strings.Contains(it.Error.Reason, "immutable") {
		t.Errorf("update's reason %q does not say events are immutable", it.Error.Reason)
	}
	e.wantCount(2)
	// The syslog line got its index as provider and the default action;
	// the typed event kept its own.
	raw, _ := e.searchAll("/api/events/_search", url.Values{"filter": {"event.provider:syslog and event.action:log"}})
	if len(raw) != 1 || !strings.Contains(string(raw[0]), "sshd: accepted key") {
		t.Fatalf("syslog event: %s", raw)
	}
	raw, _ = e.searchAll("/api/events/_search", url.Values{"filter": {"event.provider:alerting"}})
	if len(raw) != 1 {
		t.Fatalf("typed event: %s", raw)
	}
	if got := e.db.ProviderActions()["syslog"]; !slices.Equal(got, []string{"log"}) {
		t.Fatalf("syslog registered with %v, want [log]", got)
	}
	r := e.do("GET", "/api/providers", "", "")
	if !strings.Contains(string(r.body), `"unregistered_policy":"register"`) || !strings.Contains(string(r.body), `"syslog":["log"]`) {
		t.Fatalf("GET /api/providers does not show the /es settings and the new pair: %s", r.body)
	}
	if len(seqs) != 2 || seqs[0] == seqs[1] {
		t.Fatalf("_seq_no of the stored items %v, want two distinct", seqs)
	}
}

// TestESBulkStrictProviders: with the strict policy, an unregistered pair
// fails its item and registers nothing.
func TestESBulkStrictProviders(t *testing.T) {
	e := newEnv(t, Config{ES: IngestRoute{Providers: ProvidersStrict, DefaultAction: "line"}})
	a := e.esBulk("/es/_bulk", ndjson(`{"index":{"_index":"syslog"}}`, `{"message":"a"}`,
		`{"index":{"_index":"alerting"}}`, `{"message":"b","event":{"action":"execute"}}`))
	_, first := itemOf(t, a.Items[0])
	_, second := itemOf(t, a.Items[1])
	if first.Status != 400 || first.Error == nil || first.Error.Type != "illegal_argument_exception" ||
		!strings.Contains(first.Error.Reason, `"syslog"`) {
		t.Fatalf("unregistered item: %+v %+v", first, first.Error)
	}
	if second.Status != 201 {
		t.Fatalf("registered pair (provider from the index): %+v %+v", second, second.Error)
	}
	if _, ok := e.db.ProviderActions()["syslog"]; ok {
		t.Fatal("the strict policy registered syslog")
	}
	e.wantCount(1)
}

// TestESBulkRejectsMalformedRequests: a request whose pairs cannot be
// told apart fails whole, naming the line, and stores nothing.
func TestESBulkRejectsMalformedRequests(t *testing.T) {
	e := newEnv(t, Config{})
	ok := `{"message":"fine"}`
	for name, c := range map[string]struct{ body, reason string }{
		"not json":       {ndjson(`{"index":{}}`, ok, `{"index":`, ok), "line 3"},
		"unknown action": {ndjson(`{"index":{"_index":"a"}}`, ok, `{"upsert":{"_index":"a"}}`, ok), "[upsert]"},
		"no document":    {ndjson(`{"index":{"_index":"a"}}`, ok, `{"create":{"_index":"a"}}`), "line 3: the create action has no document"},
		"two actions":    {ndjson(`{"index":{"_index":"a"},"create":{}}`, ok), "line 1"},
	} {
		r := e.do("POST", "/es/_bulk", ctNDJSON, c.body)
		er := r.wantESError(t, http.StatusBadRequest, "parse_exception")
		if !strings.Contains(er.Error.Reason, c.reason) {
			t.Errorf("%s: reason %q does not say %q", name, er.Error.Reason, c.reason)
		}
	}
	e.wantCount(0)
}

// gzipped compresses text.
func gzipped(text string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(text))
	zw.Close()
	return b.Bytes()
}

// postEncoded posts body to path with a Content-Type and a
// Content-Encoding ("": none).
func (e *env) postEncoded(path, ct, enc string, body []byte) response {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.ts.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", ct)
	if enc != "" {
		req.Header.Set("Content-Encoding", enc)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: buf.Bytes()}
}

// TestESBulkGzipAndMediaTypes: gzip bodies and the clients' vendor media
// type are accepted; a body that is not the gzip it claims is a 400.
func TestESBulkGzipAndMediaTypes(t *testing.T) {
	e := newEnv(t, Config{})
	body := ndjson(`{"index":{"_index":"app"}}`, `{"message":"zipped"}`)
	r := e.postEncoded("/es/_bulk", "application/vnd.elasticsearch+x-ndjson; compatible-with=8", "gzip", gzipped(body))
	if r.status != 200 || strings.Contains(string(r.body), `"errors":true`) {
		t.Fatalf("gzip: %d %s", r.status, r.body)
	}
	e.wantCount(1)
	e.postEncoded("/es/_bulk", ctNDJSON, "gzip", []byte(body)).wantESError(t, http.StatusBadRequest, "parse_exception")
	e.postEncoded("/es/_bulk", ctNDJSON, "br", []byte(body)).wantESError(t, http.StatusUnsupportedMediaType, "media_type_header_exception")
	e.postEncoded("/es/_bulk", "text/plain", "", []byte(body)).wantESError(t, http.StatusUnsupportedMediaType, "media_type_header_exception")
	// The native _bulk reads gzip the same way.
	native := `{"@timestamp":"2026-01-02T03:04:05Z","event":{"provider":"alerting","action":"execute"}}` + "\n"
	if r := e.postEncoded("/api/events/_bulk", ctNDJSON, "gzip", gzipped(native)); r.status != 200 {
		t.Fatalf("native gzip _bulk: %d %s", r.status, r.body)
	}
	e.wantCount(2)
}

// TestESGzipBombBounded: the body limit applies to the decompressed
// bytes.
func TestESGzipBombBounded(t *testing.T) {
	e := newEnv(t, Config{MaxBulkBytes: 64 << 10})
	line := ndjson(`{"index":{"_index":"app"}}`, `{"message":"`+strings.Repeat("a", 1000)+`"}`)
	zipped := gzipped(strings.Repeat(line, 100))
	if len(zipped) > 64<<10 {
		t.Fatalf("compressed body of %d bytes is not under the limit: the test proves nothing", len(zipped))
	}
	if r := e.postEncoded("/es/_bulk", ctNDJSON, "gzip", zipped); r.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d %s, want 413", r.status, r.body)
	}
	e.wantCount(0)
}

// TestESSingleDocuments covers the _doc and _create routes.
func TestESSingleDocuments(t *testing.T) {
	e := newEnv(t, Config{})
	r := e.do("POST", "/es/app/_doc", ctJSON, `{"message":"one"}`)
	var it esItemAnswer
	r.decode(t, &it)
	if r.status != 201 || it.Result != "created" || it.Index != "app" || it.ID == nil || it.SeqNo == nil {
		t.Fatalf("POST _doc: %d %s", r.status, r.body)
	}
	wantProduct(t, r)
	r = e.do("PUT", "/es/app/_create/c-1", ctJSON, `{"@timestamp":7}`)
	r.wantESError(t, http.StatusBadRequest, "mapper_parsing_exception")
	r = e.do("PUT", "/es/app/_doc/d-1?op_type=upsert", ctJSON, `{"message":"x"}`)
	r.wantESError(t, http.StatusBadRequest, "parse_exception")
	r = e.do("PUT", "/es/app/_doc/d-1", ctJSON, ``)
	r.wantESError(t, http.StatusBadRequest, "parse_exception")
	e.wantCount(1)
}

// TestESOverload: under overload /es answers 429 with Retry-After, as the
// native API does, in Elasticsearch's shape (what the clients retry on).
func TestESOverload(t *testing.T) {
	e := newEnv(t, Config{MaxConcurrentWrites: 1, WriteQueueTimeout: 50 * time.Millisecond})
	e.srv.writeSlots <- struct{}{} // an append in progress holds the only slot
	r := e.do("POST", "/es/_bulk", ctNDJSON, ndjson(`{"index":{"_index":"a"}}`, `{"message":"m"}`))
	<-e.srv.writeSlots
	r.wantESError(t, http.StatusTooManyRequests, "es_rejected_execution_exception")
	if r.header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	e.wantCount(0)
	var ans map[string]json.RawMessage
	r.decode(t, &ans)
}

// TestESBulkClientIDs: an action's _id is the event's client id. A
// create of a stored id answers 409 version_conflict_engine_exception
// (shippers treat it as done); an index of the same document is a noop
// with the stored _seq_no; a different document under the id is a 409
// for both; nothing is stored twice.
func TestESBulkClientIDs(t *testing.T) {
	e := newEnv(t, Config{})
	docX := `{"@timestamp":"2026-01-02T03:04:05Z","message":"x"}`
	docY := `{"@timestamp":"2026-01-02T03:04:05Z","message":"y"}`
	first := e.esBulk("/es/app/_bulk", ndjson(`{"create":{"_id":"a1"}}`, docX))
	_, created := itemOf(t, first.Items[0])
	if created.Status != 201 || created.ID == nil || *created.ID != "a1" || created.SeqNo == nil {
		t.Fatalf("first create: %+v", created)
	}
	a := e.esBulk("/es/app/_bulk", ndjson(
		`{"create":{"_id":"a1"}}`, docX,
		`{"index":{"_id":"a1"}}`, docX,
		`{"index":{"_id":"a1"}}`, docY,
		`{"create":{"_id":"a1"}}`, docY,
		`{"index":{"_id":"b1"}}`, docY,
	))
	want := []struct {
		status int
		result string
	}{{409, ""}, {200, "noop"}, {409, ""}, {409, ""}, {201, "created"}}
	for i, w := range want {
		_, it := itemOf(t, a.Items[i])
		if it.Status != w.status || it.ID == nil {
			t.Errorf("item %d: %+v, want status %d", i, it, w.status)
			continue
		}
		if w.status == 409 {
			if it.Error == nil || it.Error.Type != "version_conflict_engine_exception" {
				t.Errorf("item %d: error %+v, want version_conflict_engine_exception", i, it.Error)
			}
			continue
		}
		if it.Result != w.result {
			t.Errorf("item %d: result %q, want %q", i, it.Result, w.result)
		}
		if w.result == "noop" && (it.SeqNo == nil || *it.SeqNo != *created.SeqNo) {
			t.Errorf("noop item's _seq_no %v, want the stored %d", it.SeqNo, *created.SeqNo)
		}
	}
	if !a.Errors {
		t.Error("errors false with conflicts in the answer")
	}
	e.wantCount(2)
	raw, _ := e.searchAll("/api/events/_search", url.Values{"filter": {"_index:app and message:x"}})
	if len(raw) != 1 || !strings.Contains(string(raw[0]), `"_id":"a1"`) {
		t.Fatalf("a1 under _index app: %s", raw)
	}
	// The single-document routes answer the same way.
	r := e.do("PUT", "/es/app/_doc/a1", ctJSON, docX)
	var it esItemAnswer
	r.decode(t, &it)
	if r.status != 200 || it.Result != "noop" {
		t.Fatalf("PUT _doc of a stored id: %d %s", r.status, r.body)
	}
	e.do("PUT", "/es/app/_create/a1", ctJSON, docX).wantESError(t, http.StatusConflict, "version_conflict_engine_exception")
	e.do("PUT", "/es/app/_doc/a1", ctJSON, docY).wantESError(t, http.StatusConflict, "version_conflict_engine_exception")
	e.wantCount(2)
}

// TestESKeepsUnknownFields: /es keeps what shippers send beyond the
// schema, returned in place, while known fields stay typed.
func TestESKeepsUnknownFields(t *testing.T) {
	e := newEnv(t, Config{})
	doc := `{"@timestamp":"2026-01-02T03:04:05Z","message":"m","agent":{"type":"filebeat","version":"8.17.0"},"syslog":{"facility":3,"tags":["a",true]}}`
	a := e.esBulk("/es/_bulk", ndjson(`{"index":{"_index":"filebeat"}}`, doc,
		`{"index":{"_index":"filebeat"}}`, `{"message":{"not":"a string"},"agent":{"type":"x"}}`))
	_, ok := itemOf(t, a.Items[0])
	_, bad := itemOf(t, a.Items[1])
	if ok.Status != 201 || bad.Status != 400 || bad.Error.Type != "mapper_parsing_exception" || !strings.Contains(bad.Error.Reason, "message") {
		t.Fatalf("items: %+v / %+v %+v", ok, bad, bad.Error)
	}
	raw, _ := e.searchAll("/api/events/_search", url.Values{"filter": {"_index:filebeat"}})
	if len(raw) != 1 {
		t.Fatalf("stored: %s", raw)
	}
	var got, want map[string]any
	json.Unmarshal(raw[0], &got)
	json.Unmarshal([]byte(doc), &want)
	for _, k := range []string{"agent", "syslog", "message"} {
		g, _ := json.Marshal(got[k])
		w, _ := json.Marshal(want[k])
		if string(g) != string(w) {
			t.Errorf("%s came back as %s, want %s", k, g, w)
		}
	}
	e.wantCount(1)
}

// TestESBulkFilterPath: with the filter_path Beats and Elastic Agent send,
// a stored item keeps only its status and a failed one its status and
// error; with errors alone or items.*.error over a batch stored whole the
// answer is {"errors":false} or {}; a bad filter_path is refused before
// anything is stored.
func TestESBulkFilterPath(t *testing.T) {
	e := newEnv(t, Config{})
	ok := ndjson(`{"index":{"_index":"syslog"}}`, `{"message":"a"}`)
	mixed := ok + ndjson(`{"delete":{"_index":"syslog","_id":"y"}}`)
	r := e.do("POST", "/es/_bulk?filter_path=errors,items.*.error,items.*.status", ctNDJSON, mixed)
	wantProduct(t, r)
	want := `{"errors":true,"items":[{"index":{"status":201}},{"delete":{"status":400,"error":{"type":"illegal_argument_exception","reason":`
	if r.status != http.StatusOK || !strings.HasPrefix(string(r.body), want) {
		t.Fatalf("got %d %s, want it to start with %s", r.status, r.body, want)
	}
	for path, want := range map[string]string{
		"errors":           `{"errors":false}`,
		"items.*.error":    `{}`,
		"took,-items":      "",
		"items.*.**.total": `{"items":[{"index":{"_shards":{"total":1}}}]}`,
	} {
		r := e.do("POST", "/es/_bulk?filter_path="+url.QueryEscape(path), ctNDJSON, ok)
		if want == "" {
			er := r.wantESError(t, http.StatusBadRequest, "parse_exception")
			if !strings.Contains(er.Error.Reason, "filter_path: path 2 (\"-items\"): exclusions are not supported") {
				t.Errorf("%s: %q", path, er.Error.Reason)
			}
			continue
		}
		if r.status != http.StatusOK || string(r.body) != want {
			t.Errorf("filter_path=%s: %d %s, want %s", path, r.status, r.body, want)
		}
	}
	e.wantCount(4) // the refused request stored nothing
}
