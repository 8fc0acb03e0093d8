package tiering_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/auth"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/objstore"
	"github.com/eventlogdb/eventlog/objstore/objstoretest"
	"github.com/eventlogdb/eventlog/query"
	"github.com/eventlogdb/eventlog/tiering"
)

// fakeClock is a settable clock shared by a writer and its node: the
// events are from 2024, and retention must expire some of them.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Add(d time.Duration) { c.ns.Add(int64(d)) }

// appendVaried appends n events over three days with varied providers,
// outcomes, users, tags, saved objects and spaces, then seals them.
func (w *writer) appendVaried(n int) {
	w.t.Helper()
	ctx := context.Background()
	providers, outcomes, users := []string{"alerting", "actions", "security"}, []string{"success", "failure", "unknown"}, []string{"alice", "bob", "carol"}
	for range n {
		w.seq++
		i := w.seq
		doc := fmt.Sprintf(`{"@timestamp":"2024-05-%02dT%02d:%02d:%02d.%03dZ","event":{"provider":%q,"action":"a%d","outcome":%q,"duration":%d},`+
			`"user":{"name":%q},"tags":["t%d"],"message":"event %d disk %s",`+
			`"kibana":{"saved_objects":[{"type":"alert","id":"o%d","rel":"primary","namespace":%q}],"space_ids":[%q]}}`,
			1+i%3, i%24, i%60, (i*7)%60, i%1000, providers[i%3], i%4, outcomes[i%3], i*13%500,
			users[i%3], i%5, i, []string{"full", "ok"}[i%2], i%7, []string{"default", "s1"}[i%2], []string{"default", "s1", "s2"}[i%3])
		ev, err := event.Decode([]byte(doc), event.DefaultLimits())
		if err != nil {
			w.t.Fatal(err)
		}
		if _, err := w.db.Append(ctx, ev); err != nil {
			w.t.Fatal(err)
		}
	}
	if err := w.db.Roll(ctx); err != nil {
		w.t.Fatal(err)
	}
}

// suiteRequests are the shapes of the project's query suite (package
// bench, suite_queries.go: saved-object scopes, the newest 100, failures
// in a space, a day's count by action, by id alone) and of the query
// model test (filters over terms, prefixes, ranges, words, nested refs;
// sorts; aggregations), over appendVaried's events.
func suiteRequests() []query.Request {
	so := func(id string) *query.SavedObjects {
		return &query.SavedObjects{Type: "alert", IDs: []string{id}, Space: "default"}
	}
	desc := []query.SortField{{Field: "@timestamp", Order: "desc"}}
	reqs := []query.Request{
		{SavedObjects: so("o3"), PerPage: query.MaxWindow},
		{SavedObjects: so("o1"), Sort: desc, PerPage: 100},
		{Filter: "event.outcome:failure", Space: "s1", Sort: desc, PerPage: 100},
		{Filter: "event.provider:alerting", Start: "2024-05-02T00:00:00Z", End: "2024-05-02T23:59:59.999Z",
			Aggs: map[string]query.Agg{"actions": {Terms: &query.TermsAgg{Field: "event.action", Size: 100}}}},
		{Filter: `kibana.saved_objects.id:"o5"`, PerPage: query.MaxWindow},
	}
	for _, f := range []string{"", `event.provider:(alerting or security)`, `user.name:a*`, `tags:t1 and not event.outcome:success`,
		`message:disk and message:full`, `event.duration >= 250`, `@timestamp < "2024-05-02T12:00:00Z"`,
		`kibana.saved_objects:{ type: alert and id: o2 }`, `kibana.space_ids:s2`, `not event.provider:eventlog`} {
		reqs = append(reqs, query.Request{Filter: f, PerPage: 50, Sort: []query.SortField{{Field: "event.duration", Order: "desc"}},
			Aggs: map[string]query.Agg{
				"h": {DateHistogram: &query.DateHistogramAgg{Interval: "1h"}},
				"u": {Terms: &query.TermsAgg{Field: "user.name", Size: 5}, Aggs: map[string]query.Agg{"d": {Stats: &query.StatsAgg{Field: "event.duration"}}}},
			}})
	}
	return reqs
}

// sameAnswers requires node to answer every suite request as writer does.
func sameAnswers(t *testing.T, writer, node *eventlog.DB) {
	t.Helper()
	ctx := context.Background()
	for _, req := range suiteRequests() {
		w, err := writer.Query(ctx, req)
		if err != nil {
			t.Fatalf("writer query %+v: %v", req, err)
		}
		n, err := node.Query(ctx, req)
		if err != nil {
			t.Fatalf("node query %+v: %v", req, err)
		}
		wj, _ := json.Marshal(w)
		nj, _ := json.Marshal(n)
		if string(wj) != string(nj) {
			t.Fatalf("query %+v:\nwriter %s\nnode   %s", req, wj, nj)
		}
	}
}

// follow starts a follower of s in a new directory, closed at the end.
func follow(t *testing.T, s objstore.Store, clock func() time.Time, poll time.Duration) *tiering.Follower {
	t.Helper()
	f, err := tiering.Follow(context.Background(), tiering.FollowConfig{Store: s, Dir: t.TempDir(), PollInterval: poll, Now: clock,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Options: eventlog.Options{AllowUnregistered: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// waitServing waits until f serves manifest n.
func waitServing(t *testing.T, f *tiering.Follower, n uint64) time.Duration {
	t.Helper()
	start := time.Now()
	for f.Status().Manifest < n {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("node still serves manifest %d, want %d: %+v", f.Status().Manifest, n, f.Status())
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

// TestS3NodeAnswersAsWriter: against versitygw, a writer ingests, seals,
// deletes by query, holds, and applies retention (by age, and a rule for
// failures); a node started on the bucket answers every suite request as
// the writer does. Then, while a reader queries the node without pause,
// the writer publishes more manifests (new events, another delete, a
// released hold, retention at a later clock): the node keeps answering,
// picks each one up, and answers as the writer again.
func TestS3NodeAnswersAsWriter(t *testing.T) { nodeAnswersAsWriter(t, 0) }

// TestS3NodeCacheAnswersAsWriter is TestS3NodeAnswersAsWriter with a node
// whose cache (FollowConfig.CacheMaxBytes) holds about a third of the
// segments whole: new manifests' segments are opened through it under a
// reader that never pauses, and its directory stays within the limit
// plus the pinned parts.
func TestS3NodeCacheAnswersAsWriter(t *testing.T) { nodeAnswersAsWriter(t, -1) }

// nodeAnswersAsWriter runs TestS3NodeAnswersAsWriter with a node that
// downloads every segment (cache 0) or, cache < 0, one whose cache holds
// a third of the first manifest's bytes.
func nodeAnswersAsWriter(t *testing.T, cache int64) {
	srv := objstoretest.Start(t)
	s := srv.Store("node", "prod/eventlog")
	clock := newFakeClock(time.Date(2024, 5, 3, 12, 0, 0, 0, time.UTC))
	ctx := context.Background()
	w := openWriterOpts(t, t.TempDir(), s, time.Hour, eventlog.Options{Now: clock.Now, RetentionMaxAge: 72 * time.Hour,
		RetentionRules: []eventlog.RetentionRule{{Filter: "event.outcome:failure", MaxAge: 30 * time.Hour}}})
	for range 3 {
		w.appendVaried(150)
	}
	if _, err := w.db.Delete(ctx, eventlog.DeleteRequest{Filter: "user.name:bob and tags:t2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.CreateHold(ctx, eventlog.HoldRequest{Name: "inc-1", Filter: "event.provider:security", Reason: "INC-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.db.Delete(ctx, eventlog.DeleteRequest{Filter: "event.provider:security and event.action:a1"}); err != nil {
		t.Fatal(err)
	}
	clock.Add(24 * time.Hour) // failures of May 1 and 2 expire, by the rule; the security ones are held
	if _, err := w.db.ApplyRetention(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.db.Roll(ctx); err != nil { // the delete and hold records
		t.Fatal(err)
	}
	w.waitPublished()

	var node *tiering.Follower
	nodeDir := t.TempDir()
	if cache < 0 {
		for _, o := range latest(t, s).Segments {
			cache += o.Bytes
		}
		cache /= 3
		node = followCached(t, s, nodeDir, clock.Now, 20*time.Millisecond, cache)
	} else {
		node = follow(t, s, clock.Now, 20*time.Millisecond)
		if st := node.Status(); st.Manifest != latest(t, s).Number || st.Downloads != int64(st.Segments) {
			t.Fatalf("node status %+v, want manifest %d with every segment downloaded", st, latest(t, s).Number)
		}
	}
	sameAnswers(t, w.db, node.DB())

	// A reader on the node while the writer publishes: no query fails.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var reads atomic.Int64
	readErr := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := node.DB().Query(ctx, query.Request{Filter: "message:disk", PerPage: 100,
				Aggs: map[string]query.Agg{"a": {Terms: &query.TermsAgg{Field: "event.action"}}}}); err != nil {
				select {
				case readErr <- err:
				default:
				}
				return
			}
			reads.Add(1)
		}
	}()
	var lags []time.Duration
	for round := range 3 {
		w.appendVaried(100)
		switch round {
		case 0:
			if _, err := w.db.Delete(ctx, eventlog.DeleteRequest{Filter: "event.outcome:unknown and tags:t4"}); err != nil {
				t.Fatal(err)
			}
		case 1:
			if _, err := w.db.ReleaseHold(ctx, "inc-1"); err != nil {
				t.Fatal(err)
			}
		case 2:
			clock.Add(12 * time.Hour)
			if _, err := w.db.Compact(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.db.Roll(ctx); err != nil {
			t.Fatal(err)
		}
		w.waitPublished()
		lags = append(lags, waitServing(t, node, latest(t, s).Number))
		sameAnswers(t, w.db, node.DB())
	}
	close(stop)
	wg.Wait()
	select {
	case err := <-readErr:
		t.Fatalf("a query on the node failed while it followed the writer: %v", err)
	default:
	}
	if reads.Load() == 0 {
		t.Fatal("the reader made no query")
	}
	t.Logf("node picked up each new manifest in %v (poll every 20ms); %d queries meanwhile", lags, reads.Load())
	if node.Cache() != nil {
		checkCachedDisk(t, node, nodeDir, latest(t, s), cache)
	}
}

// missingOnce is a store whose first read of key, whole (Get, a node
// downloading a segment) or ranged (GetRange, a cached node fetching its
// pinned part), runs before: the test makes the writer retire and delete
// the object there first.
type missingOnce struct {
	objstore.Store
	mu     sync.Mutex // the follower's goroutine reads key while the test sets it
	key    string
	once   sync.Once
	before func()
}

func (m *missingOnce) arm(key string, before func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.key, m.before = key, before
}

// reading runs before on the first read of the armed key.
func (m *missingOnce) reading(key string) {
	m.mu.Lock()
	armed := key == m.key
	m.mu.Unlock()
	if armed {
		m.once.Do(m.before)
	}
}

func (m *missingOnce) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	m.reading(key)
	return m.Store.Get(ctx, key)
}

func (m *missingOnce) GetRange(ctx context.Context, key string, off, n int64) ([]byte, error) {
	m.reading(key)
	return m.Store.GetRange(ctx, key, off, n)
}

// TestNodeMissingSegmentReloads: a segment deleted from the bucket
// between the node reading a manifest and downloading it (the writer
// compacted it away and its grace passed) makes the node read the latest
// manifest again and install that one: it then answers as the writer.
func TestNodeMissingSegmentReloads(t *testing.T) {
	checkMissingSegmentReloads(t, func(s objstore.Store) *tiering.Follower {
		return follow(t, s, nil, time.Hour) // polled by hand
	})
}

// checkMissingSegmentReloads runs a node started by start over a store
// whose newest segment is deleted just before the node first reads it, and
// checks that its poll installs the manifest published since and that it
// then answers as the writer.
func checkMissingSegmentReloads(t *testing.T, start func(objstore.Store) *tiering.Follower) {
	s := newDirStore(t)
	w := openWriter(t, t.TempDir(), s, time.Millisecond)
	w.appendSealed(30)
	w.waitPublished()
	wrapped := &missingOnce{Store: s}
	node := start(wrapped)
	w.appendSealed(30)
	w.waitPublished()
	second := latest(t, s)
	wrapped.arm(second.Segments[len(second.Segments)-1].Key, func() {
		if _, err := w.db.Compact(context.Background()); err != nil {
			t.Error(err)
		}
		w.waitPublished()
		waitDeleted(t, s, second.Segments)
	})
	if err := node.Poll(context.Background()); err != nil {
		t.Fatalf("poll: %v", err)
	}
	st := node.Status()
	if third := latest(t, s); third.Number <= second.Number || st.Manifest != third.Number || st.NotFound != 1 {
		t.Fatalf("node status %+v; want manifest %d after one missing segment (the writer published %d before)", st, third.Number, second.Number)
	}
	sameAnswers(t, w.db, node.DB())
	if n, err := node.DB().Count(context.Background(), eventlog.FindRequest{}); err != nil || n != 60 {
		t.Fatalf("node counts %d, %v; want 60", n, err)
	}
}

// TestNodeOnEmptyPrefix: a node started before the writer's first
// manifest serves an empty store, then the first manifest published.
func TestNodeOnEmptyPrefix(t *testing.T) {
	s := newDirStore(t)
	node := follow(t, s, nil, 10*time.Millisecond)
	if n, err := node.DB().Count(context.Background(), eventlog.FindRequest{}); err != nil || n != 0 {
		t.Fatalf("empty node counts %d, %v", n, err)
	}
	w := openWriter(t, t.TempDir(), s, time.Hour)
	w.appendSealed(10)
	w.waitPublished()
	waitServing(t, node, 1)
	if n, err := node.DB().Count(context.Background(), eventlog.FindRequest{}); err != nil || n != 10 {
		t.Fatalf("node counts %d, %v; want 10", n, err)
	}
}

// TestNodeTakesKeysFromBucket: the writer publishes its keys' hashes
// (never a secret) and a node authenticates with them, with the same
// role and scope; a revocation reaches the node at its next poll; a
// keys.json that does not parse is refused, naming it, and the node
// keeps the keys it had.
func TestNodeTakesKeysFromBucket(t *testing.T) {
	s := newDirStore(t)
	dir := t.TempDir()
	keys, err := auth.Open(nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	w := &writer{t: t, dir: dir}
	cfg := w.config(s, time.Hour)
	cfg.Keys = keys
	w.start(cfg, eventlog.Options{})
	keys.OnChange(w.up.KeysChanged)
	k, secret, err := keys.Create(auth.Spec{Name: "grafana", Role: auth.Reader, Spaces: []string{"s1"}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	w.appendSealed(5)
	w.waitPublished()
	raw, err := objstore.GetBytes(context.Background(), s, "keys.json", 1<<20)
	if err != nil || bytes.Contains(raw, []byte(secret)) || !bytes.Contains(raw, []byte(k.ID)) {
		t.Fatalf("keys.json in the bucket: %v, %s (must name the key, never its secret)", err, raw)
	}
	nodeKeys, err := auth.Open(nil, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	node, err := tiering.Follow(context.Background(), tiering.FollowConfig{Store: s, Dir: t.TempDir(), PollInterval: time.Hour, Keys: nodeKeys})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	authenticate := func() (*auth.Key, error) {
		var c auth.Credentials
		if err := auth.Parse("ApiKey "+auth.Encoded(k.ID, secret), &c); err != nil {
			t.Fatal(err)
		}
		return nodeKeys.Authenticate(&c, time.Now())
	}
	got, err := authenticate()
	if err != nil || got.Role != auth.Reader || !got.InScope("s1") || got.InScope("s2") {
		t.Fatalf("node authenticates the writer's key as %+v, %v; want a reader scoped to s1", got, err)
	}
	if _, err := keys.Revoke(k.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for raw2, _ := objstore.GetBytes(context.Background(), s, "keys.json", 1<<20); bytes.Equal(raw2, raw); raw2, _ = objstore.GetBytes(context.Background(), s, "keys.json", 1<<20) {
		if time.Now().After(deadline) {
			t.Fatal("the revocation was not published")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := node.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := authenticate(); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("a revoked key still authenticates on the node: %v", err)
	}
	if err := objstore.PutBytes(context.Background(), s, "keys.json", []byte(`{"version":1,"keys":[{"id":"x","role":"emperor"}]}`), objstore.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := node.Poll(context.Background()); err == nil || !strings.Contains(err.Error(), "keys.json") {
		t.Fatalf("poll over a bad keys.json: %v, want an error naming it", err)
	}
	if n := len(nodeKeys.List()); n != 1 || nodeKeys.List()[0].Revoked.IsZero() {
		t.Fatalf("after a bad keys.json the node holds %+v, want the revoked key it had", nodeKeys.List())
	}
}

// TestNodeReadsVersion1Manifests: a manifest an older writer published
// (format version 1: no retention, no clock, no HOLDS) is still read,
// followed by a node and pulled.
func TestNodeReadsVersion1Manifests(t *testing.T) {
	s := newDirStore(t)
	w := openWriter(t, t.TempDir(), s, time.Hour)
	w.appendSealed(12)
	w.waitPublished()
	w.close()
	m := latest(t, s)
	var doc map[string]any
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	delete(doc, "retention")
	delete(doc, "clock")
	doc["version"], doc["number"] = 1, m.Number+1
	v1, _ := json.MarshalIndent(doc, "", "  ")
	if err := objstore.PutBytes(context.Background(), s, fmt.Sprintf("manifest/%020d", m.Number+1), v1, objstore.PutOptions{IfNoneMatch: true}); err != nil {
		t.Fatal(err)
	}
	if got := latest(t, s); got.Version != 1 || got.Number != m.Number+1 {
		t.Fatalf("latest is version %d number %d, want the version-1 manifest %d", got.Version, got.Number, m.Number+1)
	}
	node := follow(t, s, nil, time.Hour)
	if n, err := node.DB().Count(context.Background(), eventlog.FindRequest{}); err != nil || n != 12 || node.Status().Manifest != m.Number+1 {
		t.Fatalf("node on a version-1 manifest counts %d, %v (status %+v), want 12", n, err, node.Status())
	}
	checkBucket(t, s, 12)
}

// TestNodeRefusesWriterDirectory: a node pointed at a writer's data
// directory refuses to start and changes nothing there.
func TestNodeRefusesWriterDirectory(t *testing.T) {
	s := newDirStore(t)
	dir := t.TempDir()
	w := openWriter(t, dir, s, time.Hour)
	w.appendSealed(5)
	w.waitPublished()
	w.appendSealed(5) // a second manifest: the writer's MANIFEST differs from the bucket's first
	w.waitPublished()
	w.close()
	before, err := os.ReadFile(filepath.Join(dir, "MANIFEST"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = tiering.Follow(context.Background(), tiering.FollowConfig{Store: s, Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "writer's data directory") {
		t.Fatalf("follow into a writer's directory: %v, want a refusal", err)
	}
	if after, _ := os.ReadFile(filepath.Join(dir, "MANIFEST")); !bytes.Equal(after, before) {
		t.Fatal("the refused follower changed the writer's MANIFEST")
	}
}

// TestS3NodeServerDown: with the S3 server stopped, a node's polls fail
// and say so in its status while it goes on answering from the manifest
// it has; once the server is back it catches up with what the writer
// published meanwhile.
func TestS3NodeServerDown(t *testing.T) {
	srv := objstoretest.Start(t)
	s := srv.Store("down", "prod")
	w := openWriter(t, t.TempDir(), s, time.Hour)
	w.appendSealed(20)
	w.waitPublished()
	node := follow(t, s, nil, time.Hour) // stepped by hand
	srv.Stop()
	if err := node.Poll(context.Background()); err == nil || node.Status().LastError == "" || node.Status().Errors != 1 {
		t.Fatalf("a poll with the server stopped: %v, status %+v; want an error, also in the status", err, node.Status())
	}
	if n, err := node.DB().Count(context.Background(), eventlog.FindRequest{}); err != nil || n != 20 {
		t.Fatalf("with the server down the node counts %d, %v; want the 20 it had", n, err)
	}
	srv.Restart()
	w.appendSealed(10)
	w.waitPublished()
	if err := node.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, err := node.DB().Count(context.Background(), eventlog.FindRequest{}); err != nil || n != 30 || node.Status().LastError != "" {
		t.Fatalf("after the server came back the node counts %d, %v (status %+v); want 30 and no error", n, err, node.Status())
	}
}
