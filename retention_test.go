package eventlog

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query"
)

// retentionStore holds one segment per day for days -9..0 (ten events a
// day, at noon) under a controllable clock.
func retentionStore(t *testing.T, opts Options) (*DB, *atomic.Int64) {
	t.Helper()
	var now atomic.Int64
	now.Store(time.Date(2024, 5, 20, 12, 0, 0, 0, time.UTC).UnixNano())
	opts.AllowUnregistered, opts.MaintenanceInterval = true, -1
	opts.Now = func() time.Time { return time.Unix(0, now.Load()).UTC() }
	db := mustOpen(t, t.TempDir(), opts)
	for d := -9; d <= 0; d++ {
		var batch []Event
		for i := range 10 {
			e := ev("app", "act", "")
			ts, _ := event.ParseDate(time.Date(2024, 5, 20+d, 12, 0, i, 0, time.UTC).Format(time.RFC3339))
			e.Timestamp = ts
			batch = append(batch, e)
		}
		if _, err := db.Append(ctx, batch...); err != nil {
			t.Fatal(err)
		}
		if err := db.Roll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return db, &now
}

func countApp(t *testing.T, db *DB) int {
	t.Helper()
	res, err := db.Aggregate(ctx, query.Request{Filter: "event.provider:app"})
	if err != nil {
		t.Fatal(err)
	}
	n, err := db.Count(ctx, FindRequest{Terms: []Term{{Field: "event.provider", Values: []string{"app"}}}})
	if err != nil || n != res.Total {
		t.Fatalf("Count %d (%v) disagrees with Aggregate %d", n, err, res.Total)
	}
	return res.Total
}

// TestRetentionMaxAgeHidesThenDrops: expired events vanish from every
// query at once; ApplyRetention then drops the wholly expired segments and
// records each drop as an event.
func TestRetentionMaxAgeHidesThenDrops(t *testing.T) {
	db, _ := retentionStore(t, Options{RetentionMaxAge: 72 * time.Hour})
	// now - 72h is 2024-05-17T12:00Z: days -3 (at 12:00:00..09) are kept
	// from the cutoff on, days -4 and before are expired.
	if got, want := countApp(t, db), 40; got != want {
		t.Fatalf("%d visible events, want %d (older ones expired)", got, want)
	}
	plan, err := db.PlanRetention()
	if err != nil || len(plan) != 6 || db.Stats().Segments != 10 {
		t.Fatalf("plan %d drops, %d segments", len(plan), db.Stats().Segments)
	}
	res, err := db.ApplyRetention(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Dropped) != 6 || res.BytesReclaimed <= 0 || db.Stats().Segments != 4 || countApp(t, db) != 40 {
		t.Fatalf("result %+v, %d segments, %d visible", res, db.Stats().Segments, countApp(t, db))
	}
	recs, err := db.Query(ctx, query.Request{Filter: "event.provider:eventlog and event.action:retention-drop", PerPage: 100})
	if err != nil {
		t.Fatal(err)
	}
	if recs.Total != 6 {
		t.Fatalf("%d drop records, want 6", recs.Total)
	}
	for i, h := range recs.Hits {
		d := res.Dropped[i]
		l := h.Event.Labels
		if l["segment"] != d.Name || l["events"] != "10" || h.Event.Event.Reason != "max_age" || !strings.Contains(h.Event.Message, d.Name) {
			t.Fatalf("record %d: %+v for drop %+v", i, h.Event, d)
		}
	}
	// Tail from the beginning skips expired events too.
	got, cancel := collectTail(t, db, TailRequest{Filter: "event.provider:app"}, 40)
	defer cancel()
	if rs := <-got; len(rs) != 40 || rs[0].Event.Timestamp.Time().Before(time.Date(2024, 5, 17, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("tail gave %d events from %v", len(rs), rs[0].Event.Timestamp)
	}
}

func TestRetentionMaxBytesAndFloor(t *testing.T) {
	db, _ := retentionStore(t, Options{})
	segs := db.Segments()
	var total int64
	for _, s := range segs {
		total += s.Bytes
	}
	db.opts.RetentionMaxBytes = total - segs[0].Bytes - segs[1].Bytes/2 // two segments too many
	db.SetRetentionFloor(func() uint64 { return segs[0].MaxSeq })       // a consumer is past the first only
	res, err := db.ApplyRetention(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Dropped) != 2 || res.Dropped[0].Name != segs[0].Name || res.Dropped[1].Name != segs[1].Name ||
		res.Dropped[0].Undelivered || !res.Dropped[1].Undelivered || res.Dropped[1].Reason != "max_bytes" {
		t.Fatalf("dropped %+v", res.Dropped)
	}
	if got := countApp(t, db); got != 80 {
		t.Fatalf("%d events left, want 80", got)
	}
}

func TestRetentionFloorHoldsMaxAge(t *testing.T) {
	db, _ := retentionStore(t, Options{RetentionMaxAge: 72 * time.Hour})
	db.SetRetentionFloor(func() uint64 { return 0 }) // nothing delivered yet
	if res, err := db.ApplyRetention(ctx); err != nil || len(res.Dropped) != 0 {
		t.Fatalf("dropped undelivered segments by age: %+v, %v", res, err)
	}
	db.SetRetentionFloor(nil)
	if res, err := db.ApplyRetention(ctx); err != nil || len(res.Dropped) != 6 {
		t.Fatalf("after removing the floor: %+v, %v", res, err)
	}
}

func TestMaxFutureSkewRejects(t *testing.T) {
	db, now := retentionStore(t, Options{MaxFutureSkew: time.Hour})
	e := ev("app", "act", "")
	e.Timestamp = event.DateOf(time.Unix(0, now.Load()).Add(2 * time.Hour))
	_, err := db.Append(ctx, e)
	var inv *InvalidEventsError
	if !errors.As(err, &inv) || !strings.Contains(err.Error(), "future") {
		t.Fatalf("an event 2h ahead: %v", err)
	}
	e.Timestamp = event.DateOf(time.Unix(0, now.Load()).Add(30 * time.Minute))
	if _, err := db.Append(ctx, e); err != nil {
		t.Fatalf("an event 30m ahead: %v", err)
	}
}

func TestStatsReportMaintenance(t *testing.T) {
	db, _ := retentionStore(t, Options{RetentionMaxAge: 72 * time.Hour})
	m := db.Stats().Maintenance
	if len(m.SegmentsPerPartition) != 10 || m.SegmentsPerPartition["2024-05-20T00:00:00Z"] != 1 {
		t.Fatalf("segments per partition %v", m.SegmentsPerPartition)
	}
	res, err := db.ApplyRetention(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m = db.Stats().Maintenance
	if m.RetentionDrops != 6 || m.RetentionBytesReclaimed != res.BytesReclaimed || len(m.SegmentsPerPartition) != 4 {
		t.Fatalf("after retention: %+v", m)
	}
}

// TestRetentionRules: a rule keeps the events it matches for ever while
// the default expires the rest after three days. Expired events vanish
// from queries and tails; a segment holding a kept event is not dropped;
// compaction rewrites segments without their expired events.
func TestRetentionRules(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2024, 5, 20, 12, 0, 0, 0, time.UTC).UnixNano())
	db := mustOpen(t, t.TempDir(), Options{
		AllowUnregistered: true, MaintenanceInterval: -1, CompactionBytesPerSecond: -1,
		RetentionMaxAge: 72 * time.Hour,
		RetentionRules:  []RetentionRule{{Filter: "event.action:keep", MaxAge: 0}},
		Now:             func() time.Time { return time.Unix(0, now.Load()).UTC() },
	})
	// Day -5: four segments of 10 events, two of each kept; day 0: 10 events.
	for seg := range 5 {
		var batch []Event
		day := -5
		if seg == 4 {
			day = 0
		}
		for i := range 10 {
			action := "act"
			if i%5 == 0 {
				action = "keep"
			}
			e := ev("app", action, "")
			ts, _ := event.ParseDate(time.Date(2024, 5, 20+day, 12, seg, i, 0, time.UTC).Format(time.RFC3339))
			e.Timestamp = ts
			batch = append(batch, e)
		}
		if _, err := db.Append(ctx, batch...); err != nil {
			t.Fatal(err)
		}
		if err := db.Roll(ctx); err != nil {
			t.Fatal(err)
		}
	}
	visible := func() int {
		res, err := db.Aggregate(ctx, query.Request{Filter: "event.provider:app"})
		if err != nil {
			t.Fatal(err)
		}
		return res.Total
	}
	if got := visible(); got != 4*2+10 {
		t.Fatalf("%d visible events, want the 8 kept old ones and the 10 new", got)
	}
	if res, err := db.Query(ctx, query.Request{Filter: "event.action:act", Start: "2024-05-15T00:00:00Z", End: "2024-05-15T23:59:59Z"}); err != nil || res.Total != 0 {
		t.Fatalf("expired events found by a query: %v, %v", res, err)
	}
	if res, err := db.ApplyRetention(ctx); err != nil || len(res.Dropped) != 0 {
		t.Fatalf("retention dropped segments holding kept events: %+v, %v", res, err)
	}
	before := db.Stats().SegmentEvents
	res, err := db.Compact(ctx)
	if err != nil || res.Merges != 1 || res.Events != 8 {
		t.Fatalf("compaction %+v, %v: want the four old segments merged into their 8 kept events", res, err)
	}
	if after := db.Stats().SegmentEvents; after != before-32 || visible() != 18 {
		t.Fatalf("segment events %d -> %d, %d visible", before, after, visible())
	}
	got, cancel := collectTail(t, db, TailRequest{Filter: "event.provider:app"}, 18)
	defer cancel()
	if rs := <-got; len(rs) != 18 {
		t.Fatalf("tail gave %d events", len(rs))
	}
	if _, err := Open(t.TempDir(), Options{RetentionRules: []RetentionRule{{Filter: "event.action:"}}}); err == nil || !strings.Contains(err.Error(), "retention rule 0") {
		t.Fatalf("a bad rule: %v", err)
	}
}

// TestRetentionRuleAgesDropSegments: a segment is dropped once its longest
// lived event has expired under its rule, not before.
func TestRetentionRuleAgesDropSegments(t *testing.T) {
	var now atomic.Int64
	start := time.Date(2024, 5, 20, 12, 0, 0, 0, time.UTC)
	now.Store(start.UnixNano())
	db := mustOpen(t, t.TempDir(), Options{
		AllowUnregistered: true, MaintenanceInterval: -1,
		RetentionMaxAge: 24 * time.Hour,
		RetentionRules:  []RetentionRule{{Filter: "event.provider:security", MaxAge: 10 * 24 * time.Hour}},
		Now:             func() time.Time { return time.Unix(0, now.Load()).UTC() },
	})
	ts, _ := event.ParseDate(start.Format(time.RFC3339))
	a, b := ev("app", "act", ""), ev("security", "login", "")
	a.Timestamp, b.Timestamp = ts, ts
	if _, err := db.Append(ctx, a, b); err != nil {
		t.Fatal(err)
	}
	if err := db.Roll(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		days    int
		visible int
		dropped int
	}{{0, 2, 0}, {2, 1, 0}, {9, 1, 0}, {11, 0, 1}} {
		now.Store(start.Add(time.Duration(c.days) * 24 * time.Hour).UnixNano())
		res, err := db.Aggregate(ctx, query.Request{Filter: "not event.provider:eventlog"})
		if err != nil || res.Total != c.visible {
			t.Fatalf("day %d: %v visible (%v), want %d", c.days, res, err, c.visible)
		}
		r, err := db.ApplyRetention(ctx)
		if err != nil || len(r.Dropped) != c.dropped {
			t.Fatalf("day %d: dropped %+v (%v), want %d", c.days, r.Dropped, err, c.dropped)
		}
	}
}

func TestRetentionAfterCloseIsErrClosed(t *testing.T) {
	db, _ := retentionStore(t, Options{RetentionMaxAge: 72 * time.Hour})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.PlanRetention(); !errors.Is(err, ErrClosed) {
		t.Fatalf("plan after close: %v", err)
	}
	if _, err := db.ApplyRetention(ctx); !errors.Is(err, ErrClosed) {
		t.Fatalf("apply after close: %v", err)
	}
}
