// Package compaction decides which segments to merge (the engine's
// compact.go carries its jobs out and delete_purge.go its purge rewrites,
// both through segments.go's swap). It is pure policy:
// Plan looks at segment metadata and returns jobs; the engine (the root
// package) does the I/O and the crash-safe swap, so the policy is tested
// without a disk.
//
// # Policy
//
// Segments are grouped by time partition (their minimum @timestamp floored
// to Config.Partition, one day by default), because retention drops whole
// segments and a merged segment must not mix days. A segment whose
// timestamps span partitions (the partition length changed) is left alone,
// as is one already at least half of MaxSegmentBytes.
//
// Within a partition the mergeable segments are sorted by size and placed
// in size tiers, each Fanout times the one below, starting at TierFloor.
// A tier holding MinInputs segments or more is merged (smallest first, as
// many as fit in MaxSegmentBytes): under steady ingest, sealed heads merge
// into segments Fanout times larger, which merge again, so a partition
// keeps at most about (MinInputs-1) segments per tier. If a partition still
// holds more than MaxPerPartition mergeable segments, its smallest ones are
// merged whatever their tiers. Plan proposes at most one job per
// partition; the engine calls it again after each round.
package compaction

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/eventlogdb/eventlog/internal/match"
)

// Segment is what planning knows of a live segment.
type Segment struct {
	Name         string
	Bytes        int64
	Events       int
	MinTS, MaxTS int64
}

// Config tunes the policy; zero values select the defaults.
type Config struct {
	// MaxSegmentBytes caps a merged segment. Zero: 1 GiB.
	MaxSegmentBytes int64
	// Partition is the time partition length. Zero: DefaultPartition.
	Partition time.Duration
	// Fanout is the size ratio of consecutive tiers. Zero: 4.
	Fanout int
	// TierFloor is the size of the lowest tier. Zero: 4 KiB, so small
	// segments merge in groups of similar size rather than into one that
	// grows by a little at every round.
	TierFloor int64
	// MinInputs is how many segments of one tier trigger a merge. Zero: 4.
	MinInputs int
	// MaxPerPartition bounds the mergeable segments of a partition. Zero:
	// 10.
	MaxPerPartition int
}

// DefaultPartition is the time partition of segments when none is set: a
// segment holds one day of @timestamps, so retention drops whole days. The
// store, repair and compaction all default to it.
const DefaultPartition = 24 * time.Hour

func (c Config) withDefaults() Config {
	if c.MaxSegmentBytes <= 0 {
		c.MaxSegmentBytes = 1 << 30
	}
	if c.Partition <= 0 {
		c.Partition = DefaultPartition
	}
	if c.Fanout < 2 {
		c.Fanout = 4
	}
	if c.TierFloor <= 0 {
		c.TierFloor = 4 << 10
	}
	if c.MinInputs < 2 {
		c.MinInputs = 4
	}
	if c.MaxPerPartition < 2 {
		c.MaxPerPartition = 10
	}
	return c
}

// Job is one merge: the inputs, all in one partition.
type Job struct {
	// Partition is the partition's start (Unix ns).
	Partition int64
	// Inputs are the segments to merge, smallest first.
	Inputs []string
	// Bytes is their total size.
	Bytes int64
}

// Plan returns the merges to run now, by partition.
func Plan(segs []Segment, cfg Config) []Job {
	cfg = cfg.withDefaults()
	parts := map[int64][]Segment{}
	p := int64(cfg.Partition)
	for _, s := range segs {
		first, last := match.FloorDiv(s.MinTS, p), match.FloorDiv(s.MaxTS, p)
		if first != last || s.Bytes >= cfg.MaxSegmentBytes/2 {
			continue
		}
		parts[first] = append(parts[first], s)
	}
	var jobs []Job
	for part, ss := range parts {
		slices.SortFunc(ss, func(a, b Segment) int { return cmp.Or(cmp.Compare(a.Bytes, b.Bytes), cmp.Compare(a.Name, b.Name)) })
		if in := pick(ss, cfg); len(in) >= 2 {
			j := Job{Partition: part * p}
			for _, s := range in {
				j.Inputs = append(j.Inputs, s.Name)
				j.Bytes += s.Bytes
			}
			jobs = append(jobs, j)
		}
	}
	slices.SortFunc(jobs, func(a, b Job) int { return cmp.Compare(a.Partition, b.Partition) })
	return jobs
}

// pick chooses the inputs of a partition's merge from its mergeable
// segments (sorted by size): the lowest tier with MinInputs segments, else
// the smallest segments when there are too many.
func pick(ss []Segment, cfg Config) []Segment {
	for start := 0; start < len(ss); {
		t := tier(ss[start].Bytes, cfg)
		end := start
		for end < len(ss) && tier(ss[end].Bytes, cfg) == t {
			end++
		}
		if end-start >= cfg.MinInputs {
			return fit(ss[start:end], cfg.MaxSegmentBytes)
		}
		start = end
	}
	if len(ss) > cfg.MaxPerPartition {
		return fit(ss, cfg.MaxSegmentBytes)
	}
	return nil
}

// fit returns the longest prefix of ss whose sizes add up to at most max.
func fit(ss []Segment, max int64) []Segment {
	var total int64
	for i, s := range ss {
		if total+s.Bytes > max {
			return ss[:i]
		}
		total += s.Bytes
	}
	return ss
}

// tier is the size class of a segment: 0 below Fanout*TierFloor, then one
// more per factor of Fanout.
func tier(bytes int64, cfg Config) int {
	if bytes <= cfg.TierFloor {
		return 0
	}
	return int(math.Log(float64(bytes)/float64(cfg.TierFloor)) / math.Log(float64(cfg.Fanout)))
}
