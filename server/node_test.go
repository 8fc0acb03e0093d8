package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/objstore"
	"github.com/eventlogdb/eventlog/tiering"
)

// newNode starts a writer tiered to a directory store, ingests through
// its server, seals, and returns it with a read-only node's server
// following the same store.
func newNode(t *testing.T) (writer *env, node *nodeServer) {
	t.Helper()
	s, err := objstore.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	up, err := tiering.New(context.Background(), tiering.Config{Store: s, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	db, err := eventlog.Open(dir, eventlog.Options{AllowUnregistered: true, ManifestObserver: up})
	if err != nil {
		t.Fatal(err)
	}
	up.Start(db.ManifestCommit())
	t.Cleanup(func() { up.Close(); _ = db.Close() })
	w := &env{t: t, dir: dir, db: db, srv: New(db, Config{}, nil, testLogger(t))}
	w.ts = newTestServer(t, w.srv)
	w.bulk(ev{ts: tsAt(1), provider: "alerting", action: "execute", outcome: "success"}.json(), ev{ts: tsAt(2), provider: "alerting", action: "execute", outcome: "failure"}.json(), ev{ts: tsAt(3), provider: "actions", action: "execute", outcome: "success"}.json())
	if err := db.Roll(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := up.WaitPublished(ctx); err != nil {
		t.Fatal(err)
	}
	f, err := tiering.Follow(context.Background(), tiering.FollowConfig{Store: s, Dir: t.TempDir(), PollInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	m := NewMetrics()
	m.Register(f.Collector())
	srv := New(f.DB(), Config{Node: &NodeConfig{Store: s.String(), WriterURL: "http://writer:9700", Status: f.Status}}, m, testLogger(t))
	return w, &nodeServer{t: t, url: newTestServer(t, srv).URL}
}

type nodeServer struct {
	t   *testing.T
	url string
}

func (n *nodeServer) do(method, path, contentType, body string) response {
	n.t.Helper()
	return doReq(n.t, method, n.url+path, contentType, strings.NewReader(body), body == "")
}

// TestNodeRefusesWrites: on a read-only node every route that writes
// answers 405 read_only naming the writer, and changes nothing; the read
// routes answer what the writer answers.
func TestNodeRefusesWrites(t *testing.T) {
	w, node := newNode(t)
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/events", ev{ts: tsAt(4), provider: "alerting", action: "execute", outcome: "success"}.json()},
		{"POST", "/api/events/_bulk", ndjson(ev{ts: tsAt(4), provider: "alerting", action: "execute", outcome: "success"}.json())},
		{"POST", "/api/events/_delete_by_query", `{"filter":"*"}`},
		{"PUT", "/api/providers/x", `{"actions":["y"]}`},
		{"POST", "/api/_holds", `{"name":"h","filter":"*","reason":"r"}`},
		{"POST", "/api/_security/api_key", `{"name":"k","role":"reader"}`},
		{"POST", "/api/_roll", ""},
		{"POST", "/api/_retention", ""},
		{"POST", "/es/_bulk", ndjson(`{"index":{"_index":"x"}}`, `{"message":"m"}`)},
		{"POST", "/api/ingest/gitlab", `{}`},
	} {
		r := node.do(c.method, c.path, ctJSON, c.body)
		typ := typeReadOnly
		if strings.HasPrefix(c.path, "/es/") {
			typ = "cluster_block_exception" // Elasticsearch's name for a read-only index
		}
		e := r.wantError(t, http.StatusMethodNotAllowed, typ)
		if !strings.Contains(e.Error.Reason, "read-only") || !strings.Contains(e.Error.Reason, "http://writer:9700") {
			t.Errorf("%s %s: reason %q does not say the node is read-only and where to write", c.method, c.path, e.Error.Reason)
		}
	}
	for _, q := range []string{`{"filter":"event.outcome:failure"}`, `{"aggs":{"a":{"terms":{"field":"event.provider"}}}}`, `{}`} {
		want := w.do("POST", "/api/events/_search", ctJSON, q)
		got := node.do("POST", "/api/events/_search", ctJSON, q)
		if got.status != http.StatusOK || string(got.body) != string(want.body) {
			t.Fatalf("search %s: node %d %s, writer %d %s", q, got.status, got.body, want.status, want.body)
		}
	}
	var total struct{ Total int }
	node.do("POST", "/api/events/_search", ctJSON, `{}`).decode(t, &total)
	if total.Total != 3 {
		t.Fatalf("node holds %d events after the refused writes, want 3", total.Total)
	}
}

// TestNodeHealth: /healthz shows the manifest served and its age,
// /readyz is ready (a node serves reads), and /metrics has the lag.
func TestNodeHealth(t *testing.T) {
	_, node := newNode(t)
	var h health
	r := node.do("GET", "/healthz", "", "")
	r.decode(t, &h)
	if r.status != http.StatusOK || h.Status != healthOK || h.Node == nil || h.Node.Manifest != 1 || h.Node.SealedSeq != 3 || h.Node.ManifestAgeSeconds < 0 {
		t.Fatalf("healthz: %d %s", r.status, r.body)
	}
	if r := node.do("GET", "/readyz", "", ""); r.status != http.StatusOK {
		t.Fatalf("readyz: %d %s", r.status, r.body)
	}
	r = node.do("GET", "/metrics", "", "")
	if !strings.Contains(string(r.body), "\neventlog_object_store_manifest_age_seconds ") || !strings.Contains(string(r.body), "\neventlog_object_store_served_manifest 1\n") {
		t.Fatalf("metrics lack the node's lag:\n%s", r.body)
	}
}
