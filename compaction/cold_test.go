package compaction

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestPlanCold: a partition the newest segment has left ColdAfter behind
// merges into one segment, whatever the tiers; one still receiving
// events, or whose largest segment outweighs the rest ColdRatio times,
// does not.
func TestPlanCold(t *testing.T) {
	const mib, h = 1 << 20, int64(time.Hour)
	for name, c := range map[string]struct {
		segs []Segment
		cfg  Config
		want []Job
	}{
		"a day sealed in two heads merges once the next is 3 hours in": {
			segs: []Segment{span("a1", 3*mib, 0, 13*h), span("a2", 2*mib, 13*h, day-1), span("b", mib, day, day+3*h)},
			want: []Job{{Partition: 0, Inputs: []string{"a2", "a1"}, Bytes: 5 * mib}},
		},
		"not yet cold: 3 hours less a nanosecond": {
			segs: []Segment{span("a1", 3*mib, 0, 13*h), span("a2", 2*mib, 13*h, day-1), span("b", mib, day, day+3*h-1)},
		},
		"ColdAfter set: one hour": {
			segs: []Segment{span("a1", 3*mib, 0, 13*h), span("a2", 2*mib, 13*h, day-1), span("b", mib, day, day+h)},
			cfg:  Config{ColdAfter: time.Hour},
			want: []Job{{Partition: 0, Inputs: []string{"a2", "a1"}, Bytes: 5 * mib}},
		},
		"NeverCold: the tiers decide, and two segments are no tier": {
			segs: []Segment{span("a1", 3*mib, 0, 13*h), span("a2", 2*mib, 13*h, day-1), span("b", mib, 5*day, 5*day+3*h)},
			cfg:  Config{ColdAfter: NeverCold},
		},
		"a late straggler under 1/32 of the day waits": {
			segs: []Segment{span("day", 64*mib, 0, day-1), span("late", mib, 2*h, 3*h), span("next", mib, 2*day, 2*day+h)},
		},
		"late segments of 1/32 of the day together merge into it": {
			segs: []Segment{span("day", 64*mib, 0, day-1), span("late1", mib, 2*h, 3*h), span("late2", mib, 4*h, 5*h), span("next", mib, 2*day, 2*day+h)},
			want: []Job{{Partition: 0, Inputs: []string{"late1", "late2", "day"}, Bytes: 66 * mib}},
		},
		"the largest that outweighs the rest is left out, the rest merge": {
			segs: []Segment{span("day", 640*mib, 0, day-1), span("late1", mib, 2*h, 3*h), span("late2", mib, 4*h, 5*h), span("next", mib, 2*day, 2*day+h)},
			cfg:  Config{MaxSegmentBytes: 2 << 30},
			want: []Job{{Partition: 0, Inputs: []string{"late1", "late2"}, Bytes: 2 * mib}},
		},
		"MaxPerPartition caps a cold merge, smallest first": {
			segs: []Segment{span("a", mib, 0, h), span("b", mib, h, 2*h), span("c", mib, 2*h, 3*h), span("d", 2*mib, 3*h, 4*h), span("n", mib, 2*day, 2*day)},
			cfg:  Config{MaxPerPartition: 3},
			want: []Job{{Partition: 0, Inputs: []string{"a", "b", "c"}, Bytes: 3 * mib}},
		},
		"before 1970 as after": {
			segs: []Segment{span("a1", 3*mib, -day, -day+13*h), span("a2", 2*mib, -day+13*h, -1), span("b", mib, 0, 3*h)},
			want: []Job{{Partition: -day, Inputs: []string{"a2", "a1"}, Bytes: 5 * mib}},
		},
	} {
		t.Run(name, func(t *testing.T) {
			if got := Plan(c.segs, c.cfg); fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Fatalf("plan %v\nwant %v", got, c.want)
			}
		})
	}
}

// TestPlanColdUnderIngest feeds the plan a store receiving events day
// after day, sealed in heads of random sizes that a day boundary splits,
// with late events sealed into days already past; after each seal the
// plan's jobs run until it proposes none. Against a model of which days
// are cold: every cold day is one segment unless its largest outweighs
// the rest ColdRatio times; no job exceeds the cap; rewrites in days not
// yet cold stay within the tiers' bound; and the cold merges rewrite at
// most the bytes sealed in time once and the late bytes ColdRatio+1
// times.
func TestPlanColdUnderIngest(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		cfg := Config{MaxSegmentBytes: 1 << 30, TierFloor: 1 << 20}.withDefaults()
		const perDay = 64 << 20 // bytes of one day
		var live []Segment
		names := 0
		add := func(b, minTS, maxTS int64) {
			names++
			live = append(live, span(fmt.Sprint("s", names), b, minTS, maxTS))
		}
		var onTime, late, rewritten, coldRewritten, minSeal int64 = 0, 0, 0, 0, math.MaxInt64
		run := func() {
			for round := 0; ; round++ {
				jobs := Plan(live, cfg)
				if len(jobs) == 0 {
					return
				}
				if round > 1000 {
					rt.Fatalf("still planning after %d rounds", round)
				}
				newest, _ := newestTS(live)
				for _, j := range jobs {
					if j.Bytes > cfg.MaxSegmentBytes || len(j.Inputs) < 2 {
						rt.Fatalf("job %+v", j)
					}
					if cold(j.Partition, newest, cfg) {
						coldRewritten += j.Bytes
					} else {
						rewritten += j.Bytes
					}
					lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
					live = slices.DeleteFunc(live, func(s Segment) bool {
						if slices.Contains(j.Inputs, s.Name) {
							lo, hi = min(lo, s.MinTS), max(hi, s.MaxTS)
							return true
						}
						return false
					})
					add(j.Bytes, lo, hi)
				}
			}
		}
		now := int64(0) // the newest @timestamp sealed, in ns: bytes stand for time
		nsPerByte := day / perDay
		for range rapid.IntRange(1, 60).Draw(rt, "seals") {
			b := rapid.Int64Range(1<<20, 3*perDay/2).Draw(rt, "head bytes")
			minSeal = min(minSeal, b)
			onTime += b
			for from, to := now, now+b*nsPerByte; from < to; { // a day boundary splits the head
				end := min(to, (from/day+1)*day)
				add((end-from)/nsPerByte, from, end-1)
				from = end
			}
			now += b * nsPerByte
			if now > day && rapid.Bool().Draw(rt, "late events") {
				lb := rapid.Int64Range(1, 1<<20).Draw(rt, "late bytes")
				d := rapid.Int64Range(0, now/day-1).Draw(rt, "late day")
				late += lb
				add(lb, d*day+int64(time.Hour), d*day+2*int64(time.Hour))
			}
			run()
		}
		newest, _ := newestTS(live)
		for part, ss := range partitions(live, cfg, cfg.MaxSegmentBytes/2) {
			if !cold(part, newest, cfg) || len(ss) < 2 {
				continue
			}
			in := bySize(ss)
			var rest int64
			for _, s := range in[:len(in)-1] {
				rest += s.Bytes
			}
			if in[len(in)-1].Bytes <= cfg.ColdRatio*rest {
				rt.Fatalf("cold day %d left as %d segments: %+v", part/day, len(ss), ss)
			}
		}
		if bound := math.Log2(float64(cfg.MaxSegmentBytes)/float64(minSeal)) + 1; float64(rewritten) > bound*float64(onTime+late) {
			rt.Fatalf("%d bytes rewritten in days not cold for %d sealed: more than %.1f times each", rewritten, onTime+late, bound)
		}
		if bound := onTime + (cfg.ColdRatio+1)*late; coldRewritten > bound {
			rt.Fatalf("%d bytes rewritten in cold days for %d sealed in time and %d late: more than %d", coldRewritten, onTime, late, bound)
		}
	})
}
