package eventlog

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"

	"pgregory.net/rapid"

	"github.com/eventlogdb/eventlog/query"
	"github.com/eventlogdb/eventlog/query/timespan"
)

// checkAggs recomputes the request's aggregations over the model's matches
// and compares: exactly, but for percentiles, which must be within the
// sketch's 1% of the exact value of rank floor(q*(n-1)).
func checkAggs(rt *rapid.T, req query.Request, res *query.Result, matches []modelEvent) {
	for name, a := range req.Aggs {
		got := res.Aggregations[name]
		if got == nil {
			rt.Fatalf("aggs %+v: %s missing", req, name)
		}
		switch {
		case a.Terms != nil:
			checkTerms(rt, name, a, got, matches)
		case a.DateHistogram != nil:
			checkHistogram(rt, name, a, got, matches)
		default:
			checkStats(rt, name, a.Stats.Field, got, matches)
		}
	}
}

func modelTermValues(field string, e *Event) []string {
	switch field {
	case "tags":
		return e.Tags.Values
	case "event.action":
		return nonEmpty(e.Event.Action)
	case "user.name":
		return nonEmpty(e.User.Name)
	case "message":
		return nonEmpty(e.Message)
	}
	panic("model: no terms field " + field)
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func checkTerms(rt *rapid.T, name string, a query.Agg, got *query.AggResult, matches []modelEvent) {
	groups := map[string][]modelEvent{}
	for _, me := range matches {
		for _, v := range modelTermValues(a.Terms.Field, &me.ev) {
			groups[v] = append(groups[v], me)
		}
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y string) int {
		return cmp.Or(cmp.Compare(len(groups[y]), len(groups[x])), strings.Compare(x, y))
	})
	size := cmp.Or(a.Terms.Size, 10)
	var other int64
	for _, k := range keys[min(size, len(keys)):] {
		other += int64(len(groups[k]))
	}
	keys = keys[:min(size, len(keys))]
	if len(got.Buckets) != len(keys) || got.OtherCount != other {
		rt.Fatalf("terms %s: got %d buckets other %d, want %v other %d", name, len(got.Buckets), got.OtherCount, keys, other)
	}
	for i, k := range keys {
		b := got.Buckets[i]
		if b.Key != k || b.Count != int64(len(groups[k])) {
			rt.Fatalf("terms %s: bucket %d is %q:%d, want %q:%d", name, i, b.Key, b.Count, k, len(groups[k]))
		}
		for sub, sa := range a.Aggs {
			checkStats(rt, name+"."+sub, sa.Stats.Field, b.Aggs[sub], groups[k])
		}
	}
}

func checkHistogram(rt *rapid.T, name string, a query.Agg, got *query.AggResult, matches []modelEvent) {
	iv, err := timespan.ParseInterval(got.Interval)
	if err != nil || (a.DateHistogram.Interval != "auto" && got.Interval != a.DateHistogram.Interval) {
		rt.Fatalf("histogram %s: interval %q (%v), asked %q", name, got.Interval, err, a.DateHistogram.Interval)
	}
	loc, err := time.LoadLocation(cmp.Or(a.DateHistogram.TimeZone, "UTC"))
	if err != nil {
		rt.Fatalf("zone: %v", err)
	}
	b := timespan.NewBucketer(iv, loc)
	counts := map[int64]int64{}
	for _, me := range matches {
		counts[b.Floor(me.ev.Timestamp.UnixNano())]++
	}
	var want []query.Bucket
	if len(counts) > 0 {
		starts := make([]int64, 0, len(counts))
		for s := range counts {
			starts = append(starts, s)
		}
		slices.Sort(starts)
		for s := starts[0]; s <= starts[len(starts)-1]; s = b.Next(s) {
			want = append(want, query.Bucket{Key: time.Unix(0, s).In(loc).Format(time.RFC3339), Count: counts[s]})
		}
	}
	if len(got.Buckets) != len(want) {
		rt.Fatalf("histogram %s: got %+v, want %+v", name, got.Buckets, want)
	}
	for i := range want {
		if got.Buckets[i].Key != want[i].Key || got.Buckets[i].Count != want[i].Count {
			rt.Fatalf("histogram %s: bucket %d is %+v, want %+v", name, i, got.Buckets[i], want[i])
		}
	}
}

func checkStats(rt *rapid.T, name, field string, got *query.AggResult, matches []modelEvent) {
	if field != "event.duration" {
		panic("model: stats only on event.duration")
	}
	var vals []int64
	for _, me := range matches {
		if d := me.ev.Event.Duration; d != nil {
			vals = append(vals, d.Nanos)
		}
	}
	st := got.Stats
	if st == nil || st.Count != int64(len(vals)) {
		rt.Fatalf("stats %s: got %+v, want count %d", name, st, len(vals))
	}
	if len(vals) == 0 {
		if st.Min != nil || st.Max != nil || st.Avg != nil || st.Sum.Sign() != 0 {
			rt.Fatalf("stats %s: empty but got %+v", name, st)
		}
		return
	}
	slices.Sort(vals)
	var sum int64
	for _, v := range vals {
		sum += v
	}
	if *st.Min != vals[0] || *st.Max != vals[len(vals)-1] || st.Sum.Int64() != sum || !st.Sum.IsInt64() {
		rt.Fatalf("stats %s: got min %d max %d sum %v, want %d %d %d", name, *st.Min, *st.Max, st.Sum, vals[0], vals[len(vals)-1], sum)
	}
	if avg := float64(sum) / float64(len(vals)); math.Abs(*st.Avg-avg) > 1e-9*math.Max(1, math.Abs(avg)) {
		rt.Fatalf("stats %s: avg %v, want %v", name, *st.Avg, avg)
	}
	for p, q := range map[string]float64{"50": 0.5, "90": 0.9, "95": 0.95, "99": 0.99} {
		exact := float64(vals[int(q*float64(len(vals)-1))])
		if g := st.Percentiles[p]; math.Abs(g-exact) > 0.01*math.Abs(exact)+0.001 {
			rt.Fatalf("stats %s: p%s = %v, exact %v (bound 1%%)", name, p, g, exact)
		}
	}
}
