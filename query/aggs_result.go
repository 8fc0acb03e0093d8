package query

import (
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
)

// AggResult is one aggregation's answer. Kind says which fields are set:
// "terms" (Buckets, OtherCount), "date_histogram" (Interval, Buckets) or
// "stats" (Stats). Its JSON form is the HTTP API's.
type AggResult struct {
	Kind    string
	Buckets []Bucket
	// OtherCount is the count of the values past Size (terms).
	OtherCount int64
	// Interval is the histogram's interval, the chosen one for auto.
	Interval string
	Stats    *Stats
}

// Bucket is one terms value or histogram bucket (Key is the value, or the
// bucket's start in RFC 3339 in the request's time zone).
type Bucket struct {
	Key   string
	Count int64
	// Aggs are the sub-aggregations over the bucket's events.
	Aggs map[string]*AggResult
}

// Stats summarises an integer field. Min, Max and Avg are nil when Count is
// 0. Sum is exact; Avg is Sum/Count. Percentiles ("50", "90", "95", "99")
// come from a DDSketch whose estimate of the value of rank
// floor(q*(count-1)) is within 1% of it (sketch.DefaultRelativeAccuracy).
type Stats struct {
	Count       int64              `json:"count"`
	Min         *int64             `json:"min"`
	Max         *int64             `json:"max"`
	Avg         *float64           `json:"avg"`
	Sum         *big.Int           `json:"sum"`
	Percentiles map[string]float64 `json:"percentiles,omitempty"`
}

// MarshalJSON writes the HTTP API's shape of the result.
func (r *AggResult) MarshalJSON() ([]byte, error) {
	switch r.Kind {
	case "stats":
		return json.Marshal(r.Stats)
	case "terms":
		return json.Marshal(struct {
			Buckets    []Bucket `json:"buckets"`
			OtherCount int64    `json:"other_count"`
		}{r.Buckets, r.OtherCount})
	}
	return json.Marshal(struct {
		Interval string   `json:"interval"`
		Buckets  []Bucket `json:"buckets"`
	}{r.Interval, r.Buckets})
}

// MarshalJSON writes {"key": ..., "count": ..., <sub-aggregations by
// name>}.
func (b Bucket) MarshalJSON() ([]byte, error) {
	key, err := json.Marshal(b.Key)
	if err != nil {
		return nil, err
	}
	out := fmt.Appendf(nil, `{"key":%s,"count":%d`, key, b.Count)
	names := make([]string, 0, len(b.Aggs))
	for n := range b.Aggs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		name, _ := json.Marshal(n)
		v, err := json.Marshal(b.Aggs[n])
		if err != nil {
			return nil, err
		}
		out = append(append(append(append(out, ','), name...), ':'), v...)
	}
	return append(out, '}'), nil
}
