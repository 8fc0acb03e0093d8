package compaction

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

const day = int64(24 * time.Hour)

func seg(name string, bytes int64, dayN int) Segment {
	ts := int64(dayN)*day + 1000
	return Segment{Name: name, Bytes: bytes, Events: int(bytes / 50), MinTS: ts, MaxTS: ts + int64(time.Hour)}
}

// disjoint places each segment in its own hour of its day, so that none
// overlap and the size tiers decide.
func disjoint(segs ...Segment) []Segment {
	for i := range segs {
		segs[i].MinTS += int64(i) * int64(time.Hour)
		segs[i].MaxTS = segs[i].MinTS + int64(time.Hour) - 1
	}
	return segs
}

func TestPlanTiersAndPartitions(t *testing.T) {
	const mib = 1 << 20
	segs := append(disjoint(
		// day 0: four small segments (one tier) merge; the big one stays.
		seg("a", 3*mib, 0), seg("b", 2*mib, 0), seg("c", mib, 0), seg("d", mib/2, 0), seg("big", 600*mib, 0),
		// day 1: three of a tier and one of the next: nothing to do.
		seg("e", mib, 1), seg("f", mib, 1), seg("g", mib, 1), seg("h", 20*mib, 1),
		// day -1 (before 1970): the same rule with negative timestamps.
		seg("i", mib, -1), seg("j", mib, -1), seg("k", mib, -1), seg("l", mib, -1),
	),
		// spanning two days: never touched.
		Segment{Name: "span", Bytes: mib, MinTS: 2*day - 1, MaxTS: 2*day + 1},
	)
	got := Plan(segs, Config{TierFloor: mib})
	want := []Job{
		{Partition: -day, Inputs: []string{"i", "j", "k", "l"}, Bytes: 4 * mib},
		{Partition: 0, Inputs: []string{"d", "c", "b", "a"}, Bytes: mib/2 + mib + 2*mib + 3*mib},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("plan %v\nwant %v", got, want)
	}
}

func TestPlanRespectsMaxBytesAndCount(t *testing.T) {
	var segs []Segment
	for i := range 12 { // 12 segments in 12 different tiers-ish sizes of one day
		segs = append(segs, seg(fmt.Sprint("s", i), int64(1)<<(10+2*i%20), 3))
	}
	jobs := Plan(segs, Config{MaxSegmentBytes: 1 << 30, MaxPerPartition: 5})
	if len(jobs) != 1 || len(jobs[0].Inputs) < 2 || jobs[0].Bytes > 1<<30 {
		t.Fatalf("jobs %+v", jobs)
	}
}

// TestPlanBoundsSegmentsUnderSteadyIngest simulates a partition receiving
// sealed segments, all overlapping, and merging per the plan: the segment
// count stays bounded, no job exceeds the size cap, inputs are never
// reused, and no byte is rewritten more than log2(cap/smallest seal)+1
// times on average (overlap first does not rewrite a big segment for
// every small one).
func TestPlanBoundsSegmentsUnderSteadyIngest(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		cfg := Config{MaxSegmentBytes: 256 << 20, TierFloor: 1 << 20}
		var live []Segment
		n := 0
		maxLive := 0
		var sealed, rewritten int64
		for range rapid.IntRange(50, 400).Draw(rt, "seals") {
			n++
			b := rapid.Int64Range(1<<19, 4<<20).Draw(rt, "bytes")
			sealed += b
			live = append(live, seg(fmt.Sprint("s", n), b, 0))
			for _, j := range Plan(live, cfg) {
				rewritten += j.Bytes
				if j.Bytes > cfg.MaxSegmentBytes || len(j.Inputs) < 2 {
					rt.Fatalf("job %+v", j)
				}
				var merged int64
				live = slices.DeleteFunc(live, func(s Segment) bool {
					if slices.Contains(j.Inputs, s.Name) {
						merged += s.Bytes
						return true
					}
					return false
				})
				n++
				live = append(live, seg(fmt.Sprint("m", n), merged, 0))
			}
			maxLive = max(maxLive, len(live))
		}
		if maxLive > 20 {
			rt.Fatalf("a partition reached %d segments", maxLive)
		}
		if bound := math.Log2(float64(cfg.MaxSegmentBytes)/(1<<19)) + 1; float64(rewritten)/float64(sealed) > bound {
			rt.Fatalf("%d bytes rewritten for %d sealed: more than %.1f times each", rewritten, sealed, bound)
		}
	})
}

// span is a segment of the given size over [min, max] (ns).
func span(name string, bytes, min, max int64) Segment {
	return Segment{Name: name, Bytes: bytes, MinTS: min, MaxTS: max}
}

func TestOverlaps(t *testing.T) {
	for _, c := range []struct {
		a, b Segment
		want bool
	}{
		{span("a", 1, 10, 20), span("b", 1, 15, 30), true},
		{span("a", 1, 10, 20), span("b", 1, 20, 30), true}, // closed ranges: one shared nanosecond
		{span("a", 1, 10, 20), span("b", 1, 21, 30), false},
		{span("a", 1, 10, 40), span("b", 1, 20, 30), true}, // one inside the other
		{span("a", 1, 10, 10), span("b", 1, 10, 10), true}, // single instants
	} {
		if Overlaps(c.a, c.b) != c.want || Overlaps(c.b, c.a) != c.want {
			t.Errorf("Overlaps(%v, %v) = %v, want %v", c.a, c.b, Overlaps(c.a, c.b), c.want)
		}
	}
}

// TestPlanOverlapFirst: the background policy merges overlapping segments
// of a partition before anything else, within MaxSegmentBytes and
// MaxPerPartition, and never lets one small segment rewrite a big one.
func TestPlanOverlapFirst(t *testing.T) {
	const kib, h = 1 << 10, int64(time.Hour)
	for name, c := range map[string]struct {
		segs []Segment
		cfg  Config
		want []Job
	}{
		"six overlapping in no common tier merge into one": {
			// tiers with TierFloor 1 KiB, Fanout 4: {1,2,3} KiB and {5,8,13} KiB, three each
			segs: []Segment{span("a", 13*kib, 0, 5*h), span("b", 8*kib, h, 6*h), span("c", 5*kib, 2*h, 7*h),
				span("d", 3*kib, 3*h, 8*h), span("e", 2*kib, 4*h, 9*h), span("f", kib, 4*h, 4*h)},
			cfg:  Config{TierFloor: kib},
			want: []Job{{Partition: 0, Inputs: []string{"f", "e", "d", "c", "b", "a"}, Bytes: 32 * kib}},
		},
		"an overlapping pair before a full tier": {
			segs: []Segment{span("t1", kib, 0, 1), span("t2", kib, 2, 3), span("t3", kib, 4, 5), span("t4", kib, 6, 7),
				span("o1", 100*kib, 10*h, 12*h), span("o2", 100*kib, 11*h, 13*h)},
			cfg:  Config{TierFloor: kib},
			want: []Job{{Partition: 0, Inputs: []string{"o1", "o2"}, Bytes: 200 * kib}},
		},
		"the cluster with most inputs first; touching ends overlap": {
			segs: []Segment{span("p1", kib, 0, h), span("p2", kib, h/2, 2*h),
				span("q1", kib, 5*h, 6*h), span("q2", kib, 6*h, 7*h), span("q3", kib, 7*h, 8*h)},
			want: []Job{{Partition: 0, Inputs: []string{"q1", "q2", "q3"}, Bytes: 3 * kib}},
		},
		"size bound: the smallest that fit": {
			segs: []Segment{span("a", 40*kib, 0, h), span("b", 30*kib, 0, h), span("c", 20*kib, 0, h), span("d", 20*kib, 0, h)},
			cfg:  Config{MaxSegmentBytes: 100 * kib, TierFloor: kib},
			// a (40 KiB) is not below half the cap, so only b, c, d are mergeable; 70 KiB fit
			want: []Job{{Partition: 0, Inputs: []string{"c", "d", "b"}, Bytes: 70 * kib}},
		},
		"MaxPerPartition caps the inputs": {
			segs: []Segment{span("a", kib, 0, h), span("b", kib, 0, h), span("c", kib, 0, h), span("d", kib, 0, h)},
			cfg:  Config{MaxPerPartition: 3, TierFloor: 64 * kib, MinInputs: 5},
			want: []Job{{Partition: 0, Inputs: []string{"a", "b", "c"}, Bytes: 3 * kib}},
		},
		"a small segment does not rewrite a big one": {
			segs: []Segment{span("big", 400*kib, 0, 10*h), span("small", kib, 5*h, 6*h)},
			cfg:  Config{TierFloor: kib},
		},
		"one nanosecond apart is no overlap": {
			segs: []Segment{span("a", kib, 0, h), span("b", kib, h+1, 2*h)},
			cfg:  Config{TierFloor: kib},
		},
	} {
		t.Run(name, func(t *testing.T) {
			if got := Plan(c.segs, c.cfg); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("plan %v\nwant %v", got, c.want)
			}
		})
	}
}

// TestPlanFull: on demand, each partition merges into as few segments as
// fit under MaxSegmentBytes, whatever their tiers or overlap.
func TestPlanFull(t *testing.T) {
	const mib, h = 1 << 20, int64(time.Hour)
	for name, c := range map[string]struct {
		segs []Segment
		cfg  Config
		want []Job
	}{
		"six overlapping segments of one partition that fit: one job": {
			segs: []Segment{seg("a", 13*mib, 0), seg("b", 8*mib, 0), seg("c", 5*mib, 0),
				seg("d", 3*mib, 0), seg("e", 2*mib, 0), seg("f", mib, 0)},
			want: []Job{{Partition: 0, Inputs: []string{"f", "e", "d", "c", "b", "a"}, Bytes: 32 * mib}},
		},
		"too big for one: first-fit decreasing, two outputs for 20 MiB under 10": {
			segs: []Segment{seg("a", 6*mib, 0), seg("b", 5*mib, 0), seg("c", 4*mib, 0), seg("d", 3*mib, 0), seg("e", 2*mib, 0)},
			cfg:  Config{MaxSegmentBytes: 10 * mib},
			want: []Job{
				{Partition: 0, Inputs: []string{"c", "a"}, Bytes: 10 * mib},
				{Partition: 0, Inputs: []string{"e", "d", "b"}, Bytes: 10 * mib},
			},
		},
		"disjoint segments merge too; partitions stay apart": {
			segs: []Segment{span("x", mib, 0, h), span("y", mib, 3*h, 4*h), seg("z1", mib, 1), seg("z2", mib, 1)},
			want: []Job{
				{Partition: 0, Inputs: []string{"x", "y"}, Bytes: 2 * mib},
				{Partition: day, Inputs: []string{"z1", "z2"}, Bytes: 2 * mib},
			},
		},
		"full-size, lone and spanning segments are left alone": {
			segs: []Segment{seg("full", 10*mib, 0), seg("small", mib, 0), seg("lone", mib, 1),
				{Name: "span", Bytes: mib, MinTS: 2*day - 1, MaxTS: 2*day + 1}},
			cfg: Config{MaxSegmentBytes: 10 * mib},
		},
	} {
		t.Run(name, func(t *testing.T) {
			got := PlanFull(c.segs, c.cfg)
			if fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("plan %v\nwant %v", got, c.want)
			}
		})
	}
}

// TestPlanFullEndsWithFewest runs PlanFull's jobs until it proposes none:
// it always ends, no job exceeds the cap, and a partition whose segments
// fit in the cap ends as one segment.
func TestPlanFullEndsWithFewest(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		cfg := Config{MaxSegmentBytes: 64 << 20}
		var live []Segment
		var total int64
		for i := range rapid.IntRange(1, 40).Draw(rt, "segments") {
			b := rapid.Int64Range(1, 16<<20).Draw(rt, "bytes")
			total += b
			live = append(live, seg(fmt.Sprint("s", i), b, 0))
		}
		for round := 0; ; round++ {
			jobs := PlanFull(live, cfg)
			if len(jobs) == 0 {
				break
			}
			if round > 40 {
				rt.Fatalf("still planning after %d rounds", round)
			}
			for _, j := range jobs {
				if j.Bytes > cfg.MaxSegmentBytes || len(j.Inputs) < 2 {
					rt.Fatalf("job %+v", j)
				}
				live = slices.DeleteFunc(live, func(s Segment) bool { return slices.Contains(j.Inputs, s.Name) })
				live = append(live, seg(fmt.Sprint("m", round, j.Inputs[0]), j.Bytes, 0))
			}
		}
		if total <= cfg.MaxSegmentBytes && len(live) != 1 {
			rt.Fatalf("%d bytes in all, under the cap, left %d segments", total, len(live))
		}
		if fewest := int((total + cfg.MaxSegmentBytes - 1) / cfg.MaxSegmentBytes); len(live) > 2*fewest {
			rt.Fatalf("%d segments left, at least %d needed", len(live), fewest)
		}
	})
}
