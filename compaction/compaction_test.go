package compaction

import (
	"fmt"
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

func TestPlanTiersAndPartitions(t *testing.T) {
	const mib = 1 << 20
	segs := []Segment{
		// day 0: four small segments (one tier) merge; the big one stays.
		seg("a", 3*mib, 0), seg("b", 2*mib, 0), seg("c", mib, 0), seg("d", mib/2, 0), seg("big", 600*mib, 0),
		// day 1: three of a tier and one of the next: nothing to do.
		seg("e", mib, 1), seg("f", mib, 1), seg("g", mib, 1), seg("h", 20*mib, 1),
		// day -1 (before 1970): the same rule with negative timestamps.
		seg("i", mib, -1), seg("j", mib, -1), seg("k", mib, -1), seg("l", mib, -1),
		// spanning two days: never touched.
		{Name: "span", Bytes: mib, MinTS: 2*day - 1, MaxTS: 2*day + 1},
	}
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
// sealed segments and merging per the plan: the segment count stays
// bounded, no job exceeds the size cap, inputs are never reused.
func TestPlanBoundsSegmentsUnderSteadyIngest(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		cfg := Config{MaxSegmentBytes: 256 << 20, TierFloor: 1 << 20}
		var live []Segment
		n := 0
		maxLive := 0
		for range rapid.IntRange(50, 400).Draw(rt, "seals") {
			n++
			live = append(live, seg(fmt.Sprint("s", n), rapid.Int64Range(1<<19, 4<<20).Draw(rt, "bytes"), 0))
			for _, j := range Plan(live, cfg) {
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
	})
}
