package sketch_test

import (
	"fmt"
	"time"

	"github.com/eventlogdb/eventlog/query/sketch"
)

// Percentiles of event.duration, merged from two segments.
func Example() {
	seg1, _ := sketch.New(sketch.DefaultRelativeAccuracy)
	seg2, _ := sketch.New(sketch.DefaultRelativeAccuracy)
	for i := 1; i <= 1000; i++ {
		d := time.Duration(i) * time.Millisecond
		if i%2 == 0 {
			seg1.Add(float64(d))
		} else {
			seg2.Add(float64(d))
		}
	}
	if err := seg1.Merge(seg2); err != nil {
		fmt.Println(err)
		return
	}
	// The values of rank floor(q*999) are 500ms and 990ms; the estimates
	// are within 1% of them.
	for _, q := range []float64{0.5, 0.99} {
		v, _ := seg1.Quantile(q)
		fmt.Printf("p%v ≈ %v\n", q*100, time.Duration(v).Round(time.Millisecond))
	}
	// Output:
	// p50 ≈ 500ms
	// p99 ≈ 987ms
}
