package query

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"slices"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/eventlogdb/eventlog/event"
	"github.com/eventlogdb/eventlog/query/sketch"
	"github.com/eventlogdb/eventlog/query/timespan"
)

// termsAcc counts every value of a keyword field exactly.
type termsAcc struct {
	spec     *aggSpec
	lo, hi   int64
	buckets  map[string]*bucketAcc
	overflow bool
}

func (a *termsAcc) add(ev *event.Event) {
	f := a.spec.field
	if f.Kind == event.KindStrings {
		// A bucket counts events: a value listed twice counts once, as
		// the postings (which the fast path reads) hold it once.
		vals := f.List(ev).Values
		for i, v := range vals {
			if !slices.Contains(vals[:i], v) {
				a.addValue(v, ev)
			}
		}
		return
	}
	if v := *f.Str(ev); v != "" {
		a.addValue(v, ev)
	}
}

func (a *termsAcc) addValue(v string, ev *event.Event) {
	b := a.buckets[v]
	if b == nil {
		if len(a.buckets) >= a.limit() {
			a.overflow = true
			return
		}
		b = newBucket(a.spec.subs, a.lo, a.hi)
		a.buckets[v] = b
	}
	b.add(ev)
}

// countSource counts a whole source from the postings of an indexed field,
// decoding nothing; rows are the source's matches (nil: every row).
func (a *termsAcc) countSource(src Source, rows *roaring.Bitmap) (bool, error) {
	if !a.spec.field.Indexed || len(a.spec.subs) > 0 {
		return false, nil
	}
	err := src.EachTerm(a.spec.field.Name, "", func(v string, vrows *roaring.Bitmap) error {
		n := vrows.GetCardinality()
		if rows != nil {
			n = vrows.AndCardinality(rows)
		}
		if n == 0 {
			return nil
		}
		b := a.buckets[v]
		if b == nil {
			if len(a.buckets) >= a.limit() {
				a.overflow = true
				return nil
			}
			b = &bucketAcc{}
			a.buckets[v] = b
		}
		b.count += int64(n)
		return nil
	})
	return err == nil, err
}

func (a *termsAcc) merge(o accumulator) {
	other := o.(*termsAcc)
	a.overflow = a.overflow || other.overflow
	for k, b := range other.buckets {
		if mine := a.buckets[k]; mine != nil {
			mine.merge(b)
		} else if len(a.buckets) < a.limit() {
			a.buckets[k] = b
		} else {
			a.overflow = true
		}
	}
}

func (a *termsAcc) limit() int {
	if len(a.spec.subs) > 0 {
		return MaxTermsTracked / 10
	}
	return MaxTermsTracked
}

func (a *termsAcc) result() (*AggResult, error) {
	if a.overflow {
		return nil, fmt.Errorf("terms on %s: more than %d distinct values; narrow the filter", a.spec.field.Name, MaxTermsTracked)
	}
	keys := make([]string, 0, len(a.buckets))
	for k := range a.buckets {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y string) int {
		if c := cmp.Compare(a.buckets[y].count, a.buckets[x].count); c != 0 {
			return c
		}
		return cmp.Compare(x, y)
	})
	r := &AggResult{Kind: "terms", Buckets: []Bucket{}}
	for i, k := range keys {
		if i >= a.spec.size {
			r.OtherCount += a.buckets[k].count
			continue
		}
		b, err := a.buckets[k].result(k, a.spec.subs)
		if err != nil {
			return nil, err
		}
		r.Buckets = append(r.Buckets, b)
	}
	return r, nil
}

// histogramAcc counts events per time bucket.
type histogramAcc struct {
	spec    *aggSpec
	lo, hi  int64
	iv      timespan.Interval
	b       timespan.Bucketer
	buckets map[int64]*bucketAcc
	// the bucket of the last row: rows mostly arrive in time order, and
	// finding a bucket start in a time zone is the costly part.
	curStart, curNext int64
	cur               *bucketAcc
}

func (a *histogramAcc) add(ev *event.Event) {
	d := a.spec.field.Date(ev)
	if d.IsZero() {
		return
	}
	t := d.UnixNano()
	if a.cur == nil || t < a.curStart || t >= a.curNext {
		a.curStart = a.b.Floor(t)
		a.curNext = a.b.Next(a.curStart)
		a.cur = a.buckets[a.curStart]
		if a.cur == nil {
			a.cur = newBucket(a.spec.subs, a.lo, a.hi)
			a.buckets[a.curStart] = a.cur
		}
	}
	a.cur.add(ev)
}

func (a *histogramAcc) merge(o accumulator) {
	for k, b := range o.(*histogramAcc).buckets {
		if mine := a.buckets[k]; mine != nil {
			mine.merge(b)
		} else {
			a.buckets[k] = b
		}
	}
}

func (a *histogramAcc) result() (*AggResult, error) {
	r := &AggResult{Kind: "date_histogram", Interval: a.iv.String(), Buckets: []Bucket{}}
	if len(a.buckets) == 0 {
		return r, nil
	}
	starts := make([]int64, 0, len(a.buckets))
	for s := range a.buckets {
		starts = append(starts, s)
	}
	slices.Sort(starts)
	layout := time.RFC3339
	if a.b.Next(starts[0])-starts[0] < int64(time.Second) {
		layout = time.RFC3339Nano
	}
	last := starts[len(starts)-1]
	empty := &bucketAcc{}
	for s := starts[0]; ; s = a.b.Next(s) {
		if len(r.Buckets) == MaxBuckets {
			return nil, fmt.Errorf("date_histogram: interval %s gives more than %d buckets; use a larger one", a.iv, MaxBuckets)
		}
		b := a.buckets[s]
		if b == nil {
			b = empty
			if len(a.spec.subs) > 0 {
				b = newBucket(a.spec.subs, a.lo, a.hi)
			}
		}
		out, err := b.result(time.Unix(0, s).In(a.spec.loc).Format(layout), a.spec.subs)
		if err != nil {
			return nil, err
		}
		r.Buckets = append(r.Buckets, out)
		if s >= last {
			return r, nil
		}
	}
}

// statsAcc summarises an integer field. The sum is kept in 128 bits so it
// is exact for any number of int64 values this store can hold.
type statsAcc struct {
	spec     *aggSpec
	count    int64
	min, max int64
	sumHi    int64
	sumLo    uint64
	sk       *sketch.Sketch
}

func newStatsAcc(s *aggSpec) *statsAcc {
	sk, err := sketch.New(sketch.DefaultRelativeAccuracy)
	if err != nil {
		panic(err) // the default accuracy is valid
	}
	return &statsAcc{spec: s, sk: sk}
}

func (a *statsAcc) add(ev *event.Event) {
	var v int64
	if f := a.spec.field; f.Kind == event.KindDuration {
		if ev.Event.Duration == nil {
			return
		}
		v = ev.Event.Duration.Nanos
	} else {
		p := *f.Int(ev)
		if p == nil {
			return
		}
		v = *p
	}
	if a.count == 0 || v < a.min {
		a.min = v
	}
	if a.count == 0 || v > a.max {
		a.max = v
	}
	a.count++
	var carry uint64
	a.sumLo, carry = bits.Add64(a.sumLo, uint64(v), 0)
	a.sumHi += v>>63 + int64(carry) // v>>63 sign-extends v into the high word
	a.sk.Add(float64(v))
}

func (a *statsAcc) merge(o accumulator) {
	other := o.(*statsAcc)
	if other.count == 0 {
		return
	}
	if a.count == 0 || other.min < a.min {
		a.min = other.min
	}
	if a.count == 0 || other.max > a.max {
		a.max = other.max
	}
	a.count += other.count
	var carry uint64
	a.sumLo, carry = bits.Add64(a.sumLo, other.sumLo, 0)
	a.sumHi += other.sumHi + int64(carry)
	if err := a.sk.Merge(other.sk); err != nil {
		panic(err) // both were made with the default accuracy
	}
}

// Percentiles reported by stats.
var percentiles = []struct {
	name string
	q    float64
}{{"50", 0.50}, {"90", 0.90}, {"95", 0.95}, {"99", 0.99}}

func (a *statsAcc) result() (*AggResult, error) {
	st := &Stats{Count: a.count, Sum: a.sum()}
	if a.count > 0 {
		mn, mx := a.min, a.max
		st.Min, st.Max = &mn, &mx
		avg, _ := new(big.Float).Quo(new(big.Float).SetInt(st.Sum), big.NewFloat(float64(a.count))).Float64()
		st.Avg = &avg
		st.Percentiles = map[string]float64{}
		for _, p := range percentiles {
			v, _ := a.sk.Quantile(p.q)
			st.Percentiles[p.name] = math.Round(v*1000) / 1000
		}
	}
	return &AggResult{Kind: "stats", Stats: st}, nil
}

func (a *statsAcc) sum() *big.Int {
	s := new(big.Int).Lsh(big.NewInt(a.sumHi), 64)
	return s.Add(s, new(big.Int).SetUint64(a.sumLo))
}
