package retention

import (
	"fmt"
	"math"
	"testing"
	"time"

	"pgregory.net/rapid"
)

var now = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

func day(n int) int64 { return now.Add(time.Duration(n) * 24 * time.Hour).UnixNano() }

func TestPlanMaxAge(t *testing.T) {
	segs := []Segment{
		{Name: "old", Bytes: 10, MinTS: day(-40), MaxTS: day(-31), MaxSeq: 5},
		{Name: "edge", Bytes: 10, MinTS: day(-31), MaxTS: day(-30), MaxSeq: 9}, // exactly 30 days: kept
		{Name: "undelivered", Bytes: 10, MinTS: day(-40), MaxTS: day(-35), MaxSeq: 20},
		{Name: "new", Bytes: 10, MinTS: day(-1), MaxTS: day(0), MaxSeq: 30},
	}
	for i := range segs {
		segs[i].ExpiresAt = ExpiresAt(segs[i].MaxTS, 30*24*time.Hour)
	}
	got := Plan(segs, 0, now, Policy{ByAge: true}, 10)
	if fmt.Sprint(names(got)) != "[old]" || got[0].Reason != ReasonMaxAge {
		t.Fatalf("drops %+v", got)
	}
}

func TestPlanMaxBytesDropsOldestFirst(t *testing.T) {
	segs := []Segment{
		{Name: "c", Bytes: 30, MaxTS: day(-1), MaxSeq: 3},
		{Name: "a", Bytes: 30, MaxTS: day(-3), MaxSeq: 1},
		{Name: "b", Bytes: 30, MaxTS: day(-2), MaxSeq: 2},
	}
	got := Plan(segs, 15, now, Policy{MaxBytes: 50}, 1)
	if fmt.Sprint(names(got)) != "[a b]" || got[0].Undelivered || !got[1].Undelivered {
		t.Fatalf("drops %+v", got)
	}
	if got := Plan(segs, 15, now, Policy{MaxBytes: 1000}, math.MaxUint64); len(got) != 0 {
		t.Fatalf("under the bound: %+v", got)
	}
}

// TestPlanProperties: after the plan the kept segments fit MaxBytes (or
// none is left), no kept segment is wholly expired unless protected, and
// nothing is dropped twice.
func TestPlanProperties(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(0, 30).Draw(rt, "n")
		var segs []Segment
		for i := range n {
			maxTS := day(-rapid.IntRange(0, 100).Draw(rt, "age"))
			segs = append(segs, Segment{Name: fmt.Sprint("s", i), Bytes: rapid.Int64Range(1, 100).Draw(rt, "bytes"), MaxTS: maxTS, MinTS: maxTS - 1, MaxSeq: uint64(i + 1)})
		}
		maxAge := time.Duration(rapid.IntRange(0, 60).Draw(rt, "max_age_days")) * 24 * time.Hour
		for i := range segs {
			segs[i].ExpiresAt = ExpiresAt(segs[i].MaxTS, maxAge)
		}
		p := Policy{ByAge: maxAge > 0, MaxBytes: rapid.Int64Range(0, 2000).Draw(rt, "max_bytes")}
		protect := uint64(rapid.IntRange(0, n).Draw(rt, "protect"))
		other := rapid.Int64Range(0, 100).Draw(rt, "other")
		drops := Plan(segs, other, now, p, protect)
		dropped := map[string]bool{}
		for _, d := range drops {
			if dropped[d.Name] {
				rt.Fatalf("%s dropped twice", d.Name)
			}
			dropped[d.Name] = true
		}
		total := other
		kept := 0
		for _, s := range segs {
			if dropped[s.Name] {
				continue
			}
			kept++
			total += s.Bytes
			if p.ByAge && s.MaxTS < ExpiredBefore(now, maxAge) && s.MaxSeq <= protect {
				rt.Fatalf("kept expired %+v", s)
			}
		}
		if p.MaxBytes > 0 && total > p.MaxBytes && kept > 0 {
			rt.Fatalf("kept %d bytes over %d", total, p.MaxBytes)
		}
	})
}

func names(ds []Drop) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Name)
	}
	return out
}

// TestPlanKeepsHeld: an expired held segment is listed as Held, not
// dropped; by size it is skipped and the next oldest goes instead, even
// if the bound then stays out of reach.
func TestPlanKeepsHeld(t *testing.T) {
	segs := []Segment{
		{Name: "a", Bytes: 30, MaxTS: day(-40), MaxSeq: 1, Held: true},
		{Name: "b", Bytes: 30, MaxTS: day(-35), MaxSeq: 2},
		{Name: "c", Bytes: 30, MaxTS: day(-1), MaxSeq: 3},
	}
	for i := range segs {
		segs[i].ExpiresAt = ExpiresAt(segs[i].MaxTS, 30*24*time.Hour)
	}
	got := Plan(segs, 0, now, Policy{ByAge: true}, math.MaxUint64)
	if fmt.Sprint(names(got)) != "[a b]" || !got[0].Held || got[1].Held {
		t.Fatalf("by age: %+v, want a held and b dropped", got)
	}
	got = Plan(segs, 0, now, Policy{MaxBytes: 40}, math.MaxUint64)
	if fmt.Sprint(names(got)) != "[b c]" || got[0].Held || got[1].Held {
		t.Fatalf("by size: %+v, want b and c dropped and a kept over the bound", got)
	}
	got = Plan(segs, 0, now, Policy{ByAge: true, MaxBytes: 40}, math.MaxUint64)
	if fmt.Sprint(names(got)) != "[a b c]" || !got[0].Held || got[1].Held || got[2].Held || got[2].Reason != ReasonMaxBytes {
		t.Fatalf("both: %+v, want a held, b by age, c by size", got)
	}
}
