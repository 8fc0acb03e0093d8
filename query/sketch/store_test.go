package sketch

import (
	"math"
	"testing"

	"pgregory.net/rapid"
)

// TestCollapse adds magnitudes over 300 decades, far more than 4096 bins
// hold at 1%: the bins stay bounded, the high quantiles keep the bound and
// the collapsed low ones are estimated by the lowest kept bin.
func TestCollapse(t *testing.T) {
	s := mustNew(t, DefaultRelativeAccuracy)
	var vs []float64
	for e := -150; e <= 150; e++ {
		for k := 1; k < 10; k++ {
			v := float64(k) * math.Pow(10, float64(e))
			vs = append(vs, v, -v)
			s.Add(v)
			s.Add(-v)
		}
	}
	for _, st := range []*store{&s.pos, &s.neg} {
		if !st.collapsed || len(st.bins) > maxBins {
			t.Fatalf("collapsed %v with %d bins", st.collapsed, len(st.bins))
		}
	}
	sorted := sortedFinite(vs)
	for _, q := range []float64{0, 0.01, 0.1, 0.9, 0.95, 0.99, 1} {
		got, _ := s.Quantile(q)
		want := sorted[int(math.Floor(q*float64(len(sorted)-1)))]
		if covered(s, want) && math.Abs(got-want) > 0.01*math.Abs(want) {
			t.Errorf("Quantile(%v) = %v, want %v within 1%%", q, got, want)
		}
	}
	for _, q := range []float64{0.95, 0.99} {
		got, _ := s.Quantile(q)
		if want := sorted[int(math.Floor(q*float64(len(sorted)-1)))]; !covered(s, want) {
			t.Errorf("Quantile(%v) = %v: high quantile %v fell into the collapsed range", q, got, want)
		}
	}
	// Merging a collapsed sketch into a fresh one collapses it alike.
	m := mustNew(t, DefaultRelativeAccuracy)
	m.Add(1e-200)
	if err := m.Merge(s); err != nil {
		t.Fatal(err)
	}
	if !m.pos.collapsed || m.pos.offset < s.pos.offset {
		t.Errorf("merged store: collapsed %v at %d, input at %d", m.pos.collapsed, m.pos.offset, s.pos.offset)
	}
}

// TestStoreWindow drives the window growth in both directions and the
// in-place shift, checking the counts survive.
func TestStoreWindow(t *testing.T) {
	var st store
	var total uint64
	add := func(idx int64) {
		st.add(idx, 1)
		total++
		var sum uint64
		for _, c := range st.bins {
			sum += c
		}
		if sum != total || st.count != total || len(st.bins) > maxBins {
			t.Fatalf("after add(%d): bins sum %d, count %d, want %d; %d bins", idx, sum, st.count, total, len(st.bins))
		}
	}
	for i := int64(0); i < 3000; i += 7 {
		add(i)
		add(-i)
	}
	for i := int64(3000); i < 20000; i += 997 {
		add(i)
	}
	add(-1 << 40)
	add(1 << 40)
	if !st.collapsed || st.offset != 1<<40-maxBins+1 {
		t.Errorf("collapsed %v offset %d", st.collapsed, st.offset)
	}
}

// TestFastLnIsCloseToLog: fastLn stays within 2e-9 of math.Log over the
// normal range, so bins are those of the exact mapping except within that
// distance of a boundary.
func TestFastLnIsCloseToLog(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		v := math.Float64frombits(rapid.Uint64Range(math.Float64bits(0x1p-1022), math.Float64bits(math.MaxFloat64)).Draw(rt, "v"))
		if d := math.Abs(fastLn(v) - math.Log(v)); d > 2e-9 {
			rt.Fatalf("fastLn(%g) is %g off", v, d)
		}
	})
	for _, v := range []float64{1, 2, 0.5, 3, 1e9, 1e-300, math.MaxFloat64, 0x1p-1022} {
		if d := math.Abs(fastLn(v) - math.Log(v)); d > 2e-9 {
			t.Errorf("fastLn(%g) is %g off", v, d)
		}
	}
}
