package query

import (
	"fmt"
	"sort"
	"time"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query/timespan"
)

// Agg is one aggregation: exactly one of Terms, DateHistogram and Stats.
// Terms and DateHistogram may hold sub-aggregations, computed per bucket;
// sub-aggregations cannot nest further.
type Agg struct {
	Terms         *TermsAgg         `json:"terms,omitempty"`
	DateHistogram *DateHistogramAgg `json:"date_histogram,omitempty"`
	Stats         *StatsAgg         `json:"stats,omitempty"`
	Aggs          map[string]Agg    `json:"aggs,omitempty"`
}

// TermsAgg counts the most frequent values of a keyword field (a list
// counts each of its values).
type TermsAgg struct {
	Field string `json:"field"`
	// Size is how many buckets to return (default 10, at most MaxTermsSize).
	Size int `json:"size,omitempty"`
}

// DateHistogramAgg counts events per time bucket.
type DateHistogramAgg struct {
	// Field is a date field; "" means @timestamp.
	Field string `json:"field,omitempty"`
	// Interval is fixed (30s, 15m, 1h), calendar (1d, 3d, 1w, 1M, 1y), or
	// "auto" / "" for about 50 buckets over the data's range.
	Interval string `json:"interval,omitempty"`
	// TimeZone is an IANA name (default UTC): buckets follow its wall
	// clock, calendar days its midnights, across DST changes.
	TimeZone string `json:"time_zone,omitempty"`
}

// StatsAgg summarises an integer field (event.duration, counters): count,
// min, max, exact sum, average and percentiles.
type StatsAgg struct {
	Field string `json:"field"`
}

// Aggregation limits.
const (
	MaxTermsSize = 1000
	// MaxBuckets bounds the buckets of a date histogram, empty ones
	// included.
	MaxBuckets = 10_000
	// MaxTermsTracked bounds the distinct values a terms aggregation
	// counts (exact counts need them all); with sub-aggregations, a tenth.
	MaxTermsTracked = 1_000_000
	autoBuckets     = 50
)

// aggSpec is a checked Agg.
type aggSpec struct {
	name  string
	kind  string // "terms", "date_histogram", "stats"
	field *event.Field
	size  int
	// date_histogram
	interval timespan.Interval
	auto     bool
	loc      *time.Location
	subs     []*aggSpec
}

func compileAggs(aggs map[string]Agg, depth int) ([]*aggSpec, error) {
	if len(aggs) > 0 && depth > 1 {
		return nil, invalid("aggs: sub-aggregations nest one level only")
	}
	names := make([]string, 0, len(aggs))
	for n := range aggs {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []*aggSpec
	for _, name := range names {
		s, err := compileAgg(name, aggs[name], depth)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func compileAgg(name string, a Agg, depth int) (*aggSpec, error) {
	switch name {
	case "":
		return nil, invalid("aggs: empty aggregation name")
	case "key", "count":
		return nil, invalid("aggs: %q is reserved for bucket fields; choose another name", name)
	}
	n := 0
	for _, set := range []bool{a.Terms != nil, a.DateHistogram != nil, a.Stats != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, invalid("aggs.%s: give exactly one of terms, date_histogram, stats", name)
	}
	s := &aggSpec{name: name}
	var err error
	switch {
	case a.Terms != nil:
		err = s.compileTerms(a.Terms)
	case a.DateHistogram != nil:
		err = s.compileHistogram(a.DateHistogram)
	default:
		err = s.compileStats(a.Stats)
	}
	if err != nil {
		return nil, err
	}
	if len(a.Aggs) > 0 && s.kind == "stats" {
		return nil, invalid("aggs.%s: stats takes no sub-aggregations", name)
	}
	if s.subs, err = compileAggs(a.Aggs, depth+1); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *aggSpec) compileTerms(t *TermsAgg) error {
	s.kind, s.size = "terms", t.Size
	if s.size == 0 {
		s.size = 10
	}
	if s.size < 0 || s.size > MaxTermsSize {
		return invalid("aggs.%s: terms size %d is outside 1..%d", s.name, t.Size, MaxTermsSize)
	}
	s.field = event.FieldByName(t.Field)
	if s.field == nil || !keyword(s.field) {
		return invalid("aggs.%s: terms needs a keyword field, not %q (keyword fields: %s)", s.name, t.Field, fieldNames(keyword))
	}
	return nil
}

func keyword(f *event.Field) bool {
	return f.Kind == event.KindString || f.Kind == event.KindStrings || f.Kind == event.KindIP
}

func (s *aggSpec) compileHistogram(h *DateHistogramAgg) error {
	s.kind = "date_histogram"
	name := h.Field
	if name == "" {
		name = "@timestamp"
	}
	isDate := func(f *event.Field) bool { return f.Kind == event.KindDate }
	if s.field = event.FieldByName(name); s.field == nil || !isDate(s.field) {
		return invalid("aggs.%s: date_histogram needs a date field, not %q (date fields: %s)", s.name, h.Field, fieldNames(isDate))
	}
	switch h.Interval {
	case "", "auto":
		s.auto = true
	default:
		iv, err := timespan.ParseInterval(h.Interval)
		if err != nil {
			return invalid("aggs.%s: interval: %v", s.name, err)
		}
		s.interval = iv
	}
	s.loc = time.UTC
	if h.TimeZone != "" {
		loc, err := time.LoadLocation(h.TimeZone)
		if err != nil {
			return invalid("aggs.%s: time_zone %q: not an IANA time zone name", s.name, h.TimeZone)
		}
		s.loc = loc
	}
	return nil
}

func (s *aggSpec) compileStats(st *StatsAgg) error {
	s.kind = "stats"
	isInt := func(f *event.Field) bool { return f.Kind == event.KindInt || f.Kind == event.KindDuration }
	if s.field = event.FieldByName(st.Field); s.field == nil || !isInt(s.field) {
		return invalid("aggs.%s: stats needs an integer field, not %q (integer fields: %s)", s.name, st.Field, fieldNames(isInt))
	}
	return nil
}

// fields reports the event fields the aggregation reads.
func (s *aggSpec) fields(add func(*event.Field)) {
	add(s.field)
	for _, sub := range s.subs {
		sub.fields(add)
	}
}

// accumulator computes one aggregation over the rows fed to it.
type accumulator interface {
	add(ev *event.Event)
	// merge adds what another accumulator of the same spec counted.
	merge(o accumulator)
	result() (*AggResult, error)
}

// newAccumulators makes the plan's accumulators; an auto interval is
// chosen from the time span of the blocks to visit.
func (x *executor) newAccumulators(items []work) ([]accumulator, error) {
	if len(x.plan.aggs) == 0 {
		return nil, nil
	}
	lo, hi := x.plan.maxTS, x.plan.minTS
	for _, w := range items {
		lo, hi = min(lo, max(w.b.MinTS, x.plan.minTS)), max(hi, min(w.b.MaxTS, x.plan.maxTS))
	}
	if lo > hi {
		lo, hi = 0, 0
	}
	x.aggLo, x.aggHi = lo, hi
	out := make([]accumulator, len(x.plan.aggs))
	for i, s := range x.plan.aggs {
		out[i] = s.accumulator(lo, hi)
	}
	return out, nil
}

func (s *aggSpec) accumulator(lo, hi int64) accumulator {
	switch s.kind {
	case "terms":
		return &termsAcc{spec: s, lo: lo, hi: hi, buckets: map[string]*bucketAcc{}}
	case "date_histogram":
		iv := s.interval
		if s.auto {
			iv = timespan.Auto(lo, hi, autoBuckets)
		}
		return &histogramAcc{spec: s, lo: lo, hi: hi, iv: iv, b: timespan.NewBucketer(iv, s.loc), buckets: map[int64]*bucketAcc{}}
	}
	return newStatsAcc(s)
}

// bucketAcc is one bucket being counted, with its sub-aggregations.
type bucketAcc struct {
	count int64
	subs  []accumulator
}

func newBucket(subs []*aggSpec, lo, hi int64) *bucketAcc {
	b := &bucketAcc{}
	for _, s := range subs {
		b.subs = append(b.subs, s.accumulator(lo, hi))
	}
	return b
}

func (b *bucketAcc) add(ev *event.Event) {
	b.count++
	for _, s := range b.subs {
		s.add(ev)
	}
}

func (b *bucketAcc) merge(o *bucketAcc) {
	b.count += o.count
	for i, s := range b.subs {
		s.merge(o.subs[i])
	}
}

func (b *bucketAcc) result(key string, specs []*aggSpec) (Bucket, error) {
	out := Bucket{Key: key, Count: b.count}
	for i, s := range b.subs {
		r, err := s.result()
		if err != nil {
			return out, err
		}
		if out.Aggs == nil {
			out.Aggs = map[string]*AggResult{}
		}
		out.Aggs[specs[i].name] = r
	}
	return out, nil
}

func (x *executor) aggResults() (map[string]*AggResult, error) {
	if len(x.aggs) == 0 {
		return nil, nil
	}
	out := map[string]*AggResult{}
	for i, a := range x.aggs {
		r, err := a.result()
		if err != nil {
			return nil, fmt.Errorf("%w: aggs.%s: %w", ErrInvalid, x.plan.aggs[i].name, err)
		}
		out[x.plan.aggs[i].name] = r
	}
	return out, nil
}
