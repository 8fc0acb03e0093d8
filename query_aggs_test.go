package eventlog

import (
	"encoding/json"
	"fmt"
	"math"
	"runtime"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/eventlogdb/eventlog/query"
)

// aggsDB holds a small hand-made data set, half in a segment and half in
// the head. Provider p (the expectations below are computed by hand):
//
//	@timestamp (UTC)      Europe/Berlin             action   duration
//	2024-04-30T21:30:00Z  04-30 23:30 +02:00        execute  100
//	2024-04-30T22:15:00Z  05-01 00:15               execute  200
//	2024-04-30T22:45:00Z  05-01 00:45               start    300
//	2024-05-01T01:00:00Z  05-01 03:00               execute  -
//	2024-05-01T01:59:59Z  05-01 03:59:59            stop     50
//	2024-05-02T23:00:00Z  05-03 01:00               start    1000
//	2024-05-03T10:00:00Z  05-03 12:00               execute  400
//	2024-05-03T11:00:00Z  05-03 13:00               abort    7
//
// Provider dst straddles the switch to summer time (2024-03-31 02:00 CET
// becomes 03:00 CEST): 03-30T22:30Z, 03-30T23:30Z, 03-31T22:30Z for days,
// and provider dsth 03-31T00:30Z, 03-31T01:30Z for hours.
func aggsDB(t *testing.T) *DB {
	t.Helper()
	db := openQueryDB(t)
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	p := []Event{
		qEvent("execute", at("2024-04-30T21:30:00Z"), 100),
		qEvent("execute", at("2024-04-30T22:15:00Z"), 200),
		qEvent("start", at("2024-04-30T22:45:00Z"), 300),
		qEvent("execute", at("2024-05-01T01:00:00Z"), -1),
		qEvent("stop", at("2024-05-01T01:59:59Z"), 50),
		qEvent("start", at("2024-05-02T23:00:00Z"), 1000),
		qEvent("execute", at("2024-05-03T10:00:00Z"), 400),
		qEvent("abort", at("2024-05-03T11:00:00Z"), 7),
	}
	for i, s := range []string{"2024-03-30T22:30:00Z", "2024-03-30T23:30:00Z", "2024-03-31T22:30:00Z", "2024-03-31T00:30:00Z", "2024-03-31T01:30:00Z"} {
		e := qEvent("dst", at(s), 1)
		e.Event.Provider = "dst"
		if i >= 3 {
			e.Event.Provider = "dsth"
		}
		p = append(p, e)
	}
	qAppend(t, db, p[:4]...)
	qRoll(t, db)
	qAppend(t, db, p[4:]...)
	return db
}

func mustAggregate(t *testing.T, db *DB, req query.Request) *query.Result {
	t.Helper()
	res, err := db.Aggregate(ctx, req)
	if err != nil {
		t.Fatalf("aggregate %+v: %v", req, err)
	}
	return res
}

// bucketList renders buckets as "key=count" for comparison.
func bucketList(r *query.AggResult) []string {
	var out []string
	for _, b := range r.Buckets {
		out = append(out, fmt.Sprintf("%s=%d", b.Key, b.Count))
	}
	return out
}

// wantStats is a stats expectation; pct are the exact values of rank
// floor(q*(count-1)) for 50, 90, 95, 99.
type wantStats struct {
	count, min, max, sum int64
	avg                  float64
	pct                  [4]float64
}

func checkStatsResult(t *testing.T, name string, r *query.AggResult, w wantStats) {
	t.Helper()
	st := r.Stats
	if r.Kind != "stats" || st == nil {
		t.Fatalf("%s: kind %q, stats %v", name, r.Kind, st)
	}
	if st.Count != w.count || st.Sum.Int64() != w.sum || !st.Sum.IsInt64() ||
		st.Min == nil || *st.Min != w.min || st.Max == nil || *st.Max != w.max || st.Avg == nil || *st.Avg != w.avg {
		t.Fatalf("%s: got count %d min %v max %v sum %v avg %v, want %+v", name, st.Count, deref(st.Min), deref(st.Max), st.Sum, deref(st.Avg), w)
	}
	for i, q := range []string{"50", "90", "95", "99"} {
		got, ok := st.Percentiles[q]
		if !ok || math.Abs(got-w.pct[i]) > 0.01*math.Abs(w.pct[i]) {
			t.Errorf("%s: p%s = %v (present %v), want %v within 1%%", name, q, got, ok, w.pct[i])
		}
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func TestQueryAggsTerms(t *testing.T) {
	db := aggsDB(t)
	cases := []struct {
		size  int
		want  []string
		other int64
	}{
		{0, []string{"execute=4", "start=2", "abort=1", "stop=1"}, 0},
		{2, []string{"execute=4", "start=2"}, 2},
		{3, []string{"execute=4", "start=2", "abort=1"}, 1},
		{1, []string{"execute=4"}, 4},
	}
	for _, c := range cases {
		req := query.Request{Filter: "event.provider:p", Aggs: map[string]query.Agg{"a": {Terms: &query.TermsAgg{Field: "event.action", Size: c.size}}}}
		res := mustAggregate(t, db, req)
		r := res.Aggregations["a"]
		if res.Total != 8 || len(res.Hits) != 0 || r == nil || r.Kind != "terms" {
			t.Fatalf("size %d: total %d, %d hits, result %+v", c.size, res.Total, len(res.Hits), r)
		}
		if got := bucketList(r); !slices.Equal(got, c.want) || r.OtherCount != c.other {
			t.Errorf("size %d: got %v other %d, want %v other %d", c.size, got, r.OtherCount, c.want, c.other)
		}
	}
}

func TestQueryAggsDateHistogram(t *testing.T) {
	db := aggsDB(t)
	cases := []struct {
		name, filter, end, interval, tz string
		want                            []string
	}{
		{"1h UTC", "event.provider:p", "2024-05-01T02:00:00Z", "1h", "", []string{
			"2024-04-30T21:00:00Z=1", "2024-04-30T22:00:00Z=2", "2024-04-30T23:00:00Z=0",
			"2024-05-01T00:00:00Z=0", "2024-05-01T01:00:00Z=2",
		}},
		{"1d Berlin", "event.provider:p", "", "1d", "Europe/Berlin", []string{
			"2024-04-30T00:00:00+02:00=1", "2024-05-01T00:00:00+02:00=4",
			"2024-05-02T00:00:00+02:00=0", "2024-05-03T00:00:00+02:00=3",
		}},
		{"1d UTC", "event.provider:p", "", "1d", "UTC", []string{
			"2024-04-30T00:00:00Z=3", "2024-05-01T00:00:00Z=2",
			"2024-05-02T00:00:00Z=1", "2024-05-03T00:00:00Z=2",
		}},
		{"1d Berlin across DST", "event.provider:dst", "", "1d", "Europe/Berlin", []string{
			"2024-03-30T00:00:00+01:00=1", "2024-03-31T00:00:00+01:00=1", "2024-04-01T00:00:00+02:00=1",
		}},
		{"1h Berlin across DST", "event.provider:dsth", "", "1h", "Europe/Berlin", []string{
			"2024-03-31T01:00:00+01:00=1", "2024-03-31T03:00:00+02:00=1",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := &query.DateHistogramAgg{Interval: c.interval, TimeZone: c.tz}
			res := mustAggregate(t, db, query.Request{Filter: c.filter, End: c.end, Aggs: map[string]query.Agg{"h": {DateHistogram: h}}})
			r := res.Aggregations["h"]
			if r == nil || r.Kind != "date_histogram" || r.Interval != c.interval {
				t.Fatalf("result %+v", r)
			}
			if got := bucketList(r); !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestQueryAggsStats(t *testing.T) {
	db := aggsDB(t)
	res := mustAggregate(t, db, query.Request{Filter: "event.provider:p", Aggs: map[string]query.Agg{"s": {Stats: &query.StatsAgg{Field: "event.duration"}}}})
	// durations 7 50 100 200 300 400 1000: ranks 3, 5, 5, 5
	checkStatsResult(t, "s", res.Aggregations["s"], wantStats{7, 7, 1000, 2057, 2057.0 / 7, [4]float64{200, 400, 400, 400}})

	res = mustAggregate(t, db, query.Request{Filter: "event.provider:p and not event.duration:*", Aggs: map[string]query.Agg{"s": {Stats: &query.StatsAgg{Field: "event.duration"}}}})
	b, err := json.Marshal(res.Aggregations["s"])
	if want := `{"count":0,"min":null,"max":null,"avg":null,"sum":0}`; err != nil || string(b) != want || res.Total != 1 {
		t.Fatalf("stats over no values: %s (%v), total %d; want %s, total 1", b, err, res.Total, want)
	}
}

func TestQueryAggsTermsStats(t *testing.T) {
	db := aggsDB(t)
	req := query.Request{Filter: "event.provider:p", Aggs: map[string]query.Agg{"by_action": {
		Terms: &query.TermsAgg{Field: "event.action"},
		Aggs:  map[string]query.Agg{"dur": {Stats: &query.StatsAgg{Field: "event.duration"}}},
	}}}
	res := mustQuery(t, db, req)
	r := res.Aggregations["by_action"]
	if got, want := bucketList(r), []string{"execute=4", "start=2", "abort=1", "stop=1"}; !slices.Equal(got, want) {
		t.Fatalf("buckets %v, want %v", got, want)
	}
	want := []wantStats{
		{3, 100, 400, 700, 700.0 / 3, [4]float64{200, 200, 200, 200}},
		{2, 300, 1000, 1300, 650, [4]float64{300, 300, 300, 300}},
		{1, 7, 7, 7, 7, [4]float64{7, 7, 7, 7}},
		{1, 50, 50, 50, 50, [4]float64{50, 50, 50, 50}},
	}
	for i, b := range r.Buckets {
		checkStatsResult(t, b.Key, b.Aggs["dur"], want[i])
	}
	got := normalizeAggJSON(t, res.Aggregations, true)
	wantJSON := `{"by_action":{"buckets":[
		{"count":4,"key":"execute","dur":{"count":3,"min":100,"max":400,"avg":233.33333333333334,"sum":700}},
		{"count":2,"key":"start","dur":{"count":2,"min":300,"max":1000,"avg":650,"sum":1300}},
		{"count":1,"key":"abort","dur":{"count":1,"min":7,"max":7,"avg":7,"sum":7}},
		{"count":1,"key":"stop","dur":{"count":1,"min":50,"max":50,"avg":50,"sum":50}}],
		"other_count":0}}`
	if w := normalizeAggJSON(t, json.RawMessage(wantJSON), false); got != w {
		t.Fatalf("JSON\n%s\nwant\n%s", got, w)
	}

	// Histogram buckets with sub-aggregations, the empty one included.
	req.Aggs = map[string]query.Agg{"days": {
		DateHistogram: &query.DateHistogramAgg{Interval: "1d", TimeZone: "Europe/Berlin"},
		Aggs:          map[string]query.Agg{"dur": {Stats: &query.StatsAgg{Field: "event.duration"}}},
	}}
	res = mustAggregate(t, db, req)
	got = normalizeAggJSON(t, res.Aggregations, true)
	wantJSON = `{"days":{"interval":"1d","buckets":[
		{"count":1,"key":"2024-04-30T00:00:00+02:00","dur":{"count":1,"min":100,"max":100,"avg":100,"sum":100}},
		{"count":4,"key":"2024-05-01T00:00:00+02:00","dur":{"count":3,"min":50,"max":300,"avg":183.33333333333334,"sum":550}},
		{"count":0,"key":"2024-05-02T00:00:00+02:00","dur":{"count":0,"min":null,"max":null,"avg":null,"sum":0}},
		{"count":3,"key":"2024-05-03T00:00:00+02:00","dur":{"count":3,"min":7,"max":1000,"avg":469,"sum":1407}}]}}`
	if w := normalizeAggJSON(t, json.RawMessage(wantJSON), false); got != w {
		t.Fatalf("JSON\n%s\nwant\n%s", got, w)
	}
}

// normalizeAggJSON marshals v, checks that every stats object with values
// has exactly the percentiles 50, 90, 95, 99 (when withPct) and drops them
// (their values are estimates, checked elsewhere), and re-marshals with
// sorted keys.
func normalizeAggJSON(t *testing.T, v any, withPct bool) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var tree any
	if err := json.Unmarshal(b, &tree); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	var walk func(any)
	walk = func(n any) {
		switch n := n.(type) {
		case map[string]any:
			if p, ok := n["percentiles"].(map[string]any); ok {
				if len(p) != 4 || p["50"] == nil || p["90"] == nil || p["95"] == nil || p["99"] == nil {
					t.Errorf("percentiles %v: want 50, 90, 95, 99", p)
				}
				delete(n, "percentiles")
			} else if c, ok := n["count"].(float64); withPct && ok && c > 0 && n["sum"] != nil && n["key"] == nil {
				t.Errorf("stats %v without percentiles", n)
			}
			for _, c := range n {
				walk(c)
			}
		case []any:
			for _, c := range n {
				walk(c)
			}
		}
	}
	walk(tree)
	out, err := json.Marshal(tree)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return string(out)
}

// TestQueryAggsScratchReused checks that an aggregation that decodes full
// blocks does not allocate a block's worth of scratch events each time:
// at 1,408 bytes an event that was 11 MiB a query (and as much again per
// parallel worker), garbage that set the server's heap peak in the soak of
// issue 13.
func TestQueryAggsScratchReused(t *testing.T) {
	db := openQueryDB(t)
	evs := make([]Event, 3*8192)
	for i := range evs {
		evs[i] = qEvent([]string{"execute", "start", "stop"}[i%3], qEpoch.Add(-time.Duration(i)*time.Second), int64(i))
	}
	qAppend(t, db, evs...)
	qRoll(t, db)
	req := query.Request{Filter: "event.duration >= 0", Aggs: map[string]query.Agg{
		"a": {Terms: &query.TermsAgg{Field: "event.action", Size: 10}},
	}}
	mustAggregate(t, db, req) // fills the pool
	const runs = 5
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		if res := mustAggregate(t, db, req); res.Total != len(evs) {
			t.Fatalf("total %d, want %d", res.Total, len(evs))
		}
	}
	runtime.ReadMemStats(&after)
	perQuery := (after.TotalAlloc - before.TotalAlloc) / runs
	t.Logf("%d events: %.1f MiB allocated a query", len(evs), float64(perQuery)/(1<<20))
	// A block's scratch events, were they allocated anew, would be this
	// much by themselves; what the query allocates besides (results,
	// bitmaps, and more under -race) stays well under it.
	block := uint64(8192 * unsafe.Sizeof(Event{}))
	if perQuery >= block {
		t.Errorf("an aggregation over %d events allocated %.1f MiB, a block's scratch events (%.1f MiB) or more: scratch events not reused",
			len(evs), float64(perQuery)/(1<<20), float64(block)/(1<<20))
	}
}
