// Package sketch is a mergeable quantile sketch in the style of DDSketch
// (Masson, Rim and Lee, "DDSketch: A Fast and Fully-Mergeable Quantile
// Sketch with Relative-Error Guarantees", VLDB 2019). The query engine
// uses it for percentiles of event.duration over millions of events: it
// needs a few kilobytes per sketch whatever the number of values, adds a
// value in 15–25ns without allocating, and merges per-segment sketches
// into one without losing accuracy.
//
// # Guarantee
//
// Let x_0 <= x_1 <= ... <= x_(n-1) be the n added values in order, and
// r = floor(q*(n-1)) (computed in float64). Quantile(q) estimates x_r with
//
//	|estimate - x_r| <= ra * |x_r|
//
// where ra is the sketch's relative accuracy. Zero is estimated exactly as
// 0, and the smallest and largest values (q = 0 and q = 1) exactly. The
// bound holds for a Merge of sketches just as for one sketch of the union.
//
// # How
//
// A positive value v falls in the bin i = ceil(log_gamma(v)), with
// gamma = (1+a)/(1-a); every value of bin i lies in (gamma^(i-1),
// gamma^i] and is estimated as (1-a)*gamma^i, which is within a of all of
// them. The bins are built for a = ra*(1-1e-5) rather than ra itself, a
// margin that keeps the rounding of math.Log and math.Exp at bin
// boundaries from breaking the bound. Negative values go to a second, mirrored set of bins keyed by
// magnitude; zeros are only counted. Bins are dense counter arrays with an
// offset, so Add is a logarithm, a bounds check and an increment.
//
// # Limits
//
// Each sign keeps at most 4096 bins (32 KiB). With ra = 0.01 that spans a
// factor of about 10^35 between the smallest and largest magnitude, so
// durations from 1 ns to the int64 limit never reach it. When a sign needs
// more, its lowest-magnitude bins are merged into the lowest bin kept; the
// guarantee then holds only for quantiles whose value lies above that
// collapsed range (for negative values: whose magnitude does), and the
// others are estimated as the lowest kept bin's value. Magnitudes below
// about 2.2e-308 (the smallest normal float64 times gamma) are counted as
// zero. NaN and ±Inf are ignored. Counts saturate at 2^64-1.
//
// A Sketch is not safe for concurrent use.
package sketch
