package tiering_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog"
	"github.com/eventlogdb/eventlog/bench"
	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/objstore/objstoretest"
	"github.com/eventlogdb/eventlog/query"
	"github.com/eventlogdb/eventlog/tiering"
)

// suiteAnswer runs one of the suite's requests on db by its route.
func suiteAnswer(t *testing.T, db *eventlog.DB, q bench.SuiteRequest) (answer []byte, events int) {
	t.Helper()
	ctx := context.Background()
	var v any
	var err error
	switch q.Path {
	case "api/events/_export":
		var hits []query.Hit
		err = db.Export(ctx, q.Req, func(h query.Hit) error { hits = append(hits, h); return nil })
		v, events = hits, len(hits)
	case "api/events/_aggregate":
		var res *query.Result
		res, err = db.Aggregate(ctx, q.Req)
		v = res
		if res != nil {
			events = res.Total
		}
	default:
		var res *query.Result
		res, err = db.Query(ctx, q.Req)
		v = res
		if res != nil {
			events = res.Total
		}
	}
	if err != nil {
		t.Fatalf("%s: %v", q.Name, err)
	}
	answer, _ = json.Marshal(v)
	return answer, events
}

// TestS3NodeAnswersSuite: the project's query suite (package bench,
// RunSuite's seven queries, over its generated workload) asked of a
// writer and of a node following it through versitygw, after deletes by
// query and retention (a rule for failures, at the writer's clock): the
// node's answer to every query is the writer's, byte for byte, whether
// it downloads every segment or holds a third of them in a cache
// (FollowConfig.CacheMaxBytes) and reads the rest by ranged GETs, its
// directory then holding at most that third plus the pinned parts.
func TestS3NodeAnswersSuite(t *testing.T) {
	const n = 6000
	wl, reqs := bench.SuiteRequests(1, n)
	srv := objstoretest.Start(t)
	s := srv.Store("suite", "prod")
	clock := newFakeClock(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) // the workload spans January 2026
	w := openWriterOpts(t, t.TempDir(), s, time.Hour, eventlog.Options{Now: clock.Now,
		RetentionRules: []eventlog.RetentionRule{{Filter: "event.outcome:failure", MaxAge: 20 * 24 * time.Hour}}})
	ctx := context.Background()
	batch := make([]event.Event, 1000)
	failures := 0
	for first := int64(0); first < n; first += int64(len(batch)) {
		wl.Fill(batch, first)
		for i := range batch {
			if batch[i].Event.Outcome == "failure" {
				failures++
			}
		}
		if _, err := w.db.Append(ctx, batch...); err != nil {
			t.Fatal(err)
		}
		if err := w.db.Roll(ctx); err != nil { // several segments
			t.Fatal(err)
		}
	}
	res, err := w.db.Delete(ctx, eventlog.DeleteRequest{Filter: "event.outcome:success", Start: "2026-01-10T00:00:00Z", End: "2026-01-12T00:00:00Z"})
	if err != nil || res.Deleted == 0 {
		t.Fatalf("delete: %+v, %v (want some events deleted)", res, err)
	}
	if _, err := w.db.ApplyRetention(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.db.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	w.waitPublished()
	m := latest(t, s)
	var total int64
	for _, o := range m.Segments {
		total += o.Bytes
	}
	// A node that downloads every segment, and one with a cache of a
	// third of them (--cache-max-bytes): the rest it reads by ranged GETs.
	cacheDir, cacheMax := t.TempDir(), total/3
	for _, node := range []*tiering.Follower{follow(t, s, clock.Now, time.Hour), followCached(t, s, cacheDir, clock.Now, time.Hour, cacheMax)} {
		answered := 0
		for _, q := range reqs {
			want, events := suiteAnswer(t, w.db, q)
			got, _ := suiteAnswer(t, node.DB(), q)
			if string(got) != string(want) {
				t.Fatalf("%s (cache %v): node answers\n%.500s\nthe writer\n%.500s", q.Name, node.Cache() != nil, got, want)
			}
			if events > 0 {
				answered++
			}
			t.Logf("%s (cache %v): %d events, same answer", q.Name, node.Cache() != nil, events)
		}
		// Retention is in force on both: the rule hides January's early
		// failures, not all of them.
		shown, err := node.DB().Count(ctx, eventlog.FindRequest{Terms: []eventlog.Term{{Field: "event.outcome", Values: []string{"failure"}}}})
		if err != nil || shown == 0 || shown >= failures {
			t.Fatalf("the node shows %d of %d failures (%v): retention should hide some, not all", shown, failures, err)
		}
		if answered < len(reqs)-1 {
			t.Fatalf("only %d of %d suite queries found events: the comparison is too weak", answered, len(reqs))
		}
		if node.Cache() != nil {
			checkCachedDisk(t, node, cacheDir, m, cacheMax)
		}
	}
}
