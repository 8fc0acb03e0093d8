package query

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestCompileRejects: each malformed request is ErrInvalid with a message
// naming the problem.
func TestCompileRejects(t *testing.T) {
	stats := func(field string) map[string]Agg { return map[string]Agg{"s": {Stats: &StatsAgg{Field: field}}} }
	for _, tc := range []struct {
		name string
		req  Request
		want string
	}{
		{"filter syntax", Request{Filter: "event.action:"}, "filter: at 14: expected value after ':'"},
		{"bad start", Request{Start: "yesterday"}, "start: "},
		{"start after end", Request{Start: "2024-05-02T00:00:00Z", End: "2024-05-01T00:00:00Z"}, "is after end"},
		{"sort field", Request{Sort: []SortField{{Field: "labels"}}}, `cannot sort by "labels"`},
		{"sort order", Request{Sort: []SortField{{Field: "event.action", Order: "up"}}}, `order "up"`},
		{"window", Request{Page: 11, PerPage: 1000}, "use search_after"},
		{"per_page", Request{PerPage: MaxWindow + 1}, "per_page 10001"},
		{"negative page", Request{Page: -1}, "pages start at 1"},
		{"page with cursor", Request{Page: 2, SearchAfter: "x"}, "page must be 1"},
		{"bad cursor", Request{SearchAfter: "x"}, "search_after: "},
		{"scope without ids", Request{SavedObjects: &SavedObjects{Type: "alert"}}, "a type and at least one id"},
		{"two kinds", Request{Aggs: map[string]Agg{"a": {Terms: &TermsAgg{Field: "event.action"}, Stats: &StatsAgg{Field: "event.duration"}}}}, "exactly one of"},
		{"reserved name", Request{Aggs: map[string]Agg{"count": {Stats: &StatsAgg{Field: "event.duration"}}}}, "reserved"},
		{"terms on text", Request{Aggs: map[string]Agg{"a": {Terms: &TermsAgg{Field: "event.duration"}}}}, "terms needs a keyword field"},
		{"terms size", Request{Aggs: map[string]Agg{"a": {Terms: &TermsAgg{Field: "event.action", Size: MaxTermsSize + 1}}}}, "terms size 1001"},
		{"stats on string", Request{Aggs: stats("event.action")}, "stats needs an integer field"},
		{"interval", Request{Aggs: map[string]Agg{"h": {DateHistogram: &DateHistogramAgg{Interval: "fortnight"}}}}, "aggs.h: interval"},
		{"time zone", Request{Aggs: map[string]Agg{"h": {DateHistogram: &DateHistogramAgg{TimeZone: "Mars/Olympus"}}}}, `time_zone "Mars/Olympus"`},
		{"deep nesting", Request{Aggs: map[string]Agg{"a": {Terms: &TermsAgg{Field: "event.action"}, Aggs: map[string]Agg{
			"b": {Terms: &TermsAgg{Field: "event.outcome"}, Aggs: stats("event.duration")}}}}}, "nest one level"},
		{"stats with subs", Request{Aggs: map[string]Agg{"s": {Stats: &StatsAgg{Field: "event.duration"}, Aggs: stats("event.duration")}}}, "no sub-aggregations"},
	} {
		_, err := compile(tc.req, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), nil)
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want ErrInvalid saying %q", tc.name, err, tc.want)
		}
	}
}
