// Package compaction decides which segments to merge (the engine's
// compact.go carries its jobs out and delete_purge.go its purge rewrites,
// both through segments.go's swap). It is pure policy: Plan and PlanFull
// look at segment metadata and return jobs; the engine (the root package)
// does the I/O and the crash-safe swap, so the policy is tested without a
// disk.
//
// # Partitions
//
// Segments are grouped by time partition (their minimum @timestamp floored
// to Config.Partition, one day by default), because retention drops whole
// segments and a merged segment must not mix days. A segment whose
// timestamps span partitions (the partition length changed) is never
// merged.
//
// # Overlap
//
// Two segments overlap when their closed @timestamp ranges [MinTS, MaxTS]
// intersect (a.MinTS <= b.MaxTS && b.MinTS <= a.MaxTS; touching at one
// nanosecond counts). A query bounded in time reads every segment whose
// range meets its bounds, so segments that overlap make it read more than
// the events it asks for. The overlap clusters of a partition are its
// segments connected by overlap (sorted by MinTS, a segment joins the
// cluster before it when it starts at or before the latest MaxTS so far).
//
// # Background policy: Plan
//
// Plan is the background compactor's policy; it proposes at most one job
// per partition, and the engine calls it again after each round. Segments
// already at least half of MaxSegmentBytes are left alone. A cold
// partition, one the store's newest segment has left ColdAfter behind, is
// merged into one segment first (cold.go). Within a partition that is not
// cold, or whose cold merge finds fewer than two inputs, overlap comes
// first: the overlap cluster offering the most
// inputs is merged, its segments taken smallest first, as many as fit in
// MaxSegmentBytes and at most MaxPerPartition of them, dropping the
// largest while it outweighs the others together (so a small segment that
// overlaps a big one waits for company instead of rewriting the big one:
// every merge at least doubles the size of the segment holding a rewritten
// byte, bounding rewrites per byte by log2(MaxSegmentBytes/seal size)).
//
// When no cluster yields two inputs, the mergeable segments are sorted by
// size and placed in size tiers, each Fanout times the one below, starting
// at TierFloor. A tier holding MinInputs segments or more is merged
// (smallest first, as many as fit in MaxSegmentBytes): under steady
// ingest, sealed heads merge into segments Fanout times larger, which
// merge again, so a partition keeps at most about (MinInputs-1) segments
// per tier. If a partition still holds more than MaxPerPartition mergeable
// segments, its smallest ones are merged whatever their tiers.
//
// # On demand: PlanFull
//
// PlanFull is the policy of an on-demand compaction (DB.Compact, POST
// /api/_compact, eventlog compact): per partition, every segment smaller
// than MaxSegmentBytes is packed, largest first, into the first output it
// fits under MaxSegmentBytes (first-fit decreasing), and each output of two
// or more inputs is a job. A partition whose segments fit in
// MaxSegmentBytes thus becomes one segment, whatever their sizes or
// tiers; otherwise as few as first-fit decreasing finds (within 11/9 of
// the fewest possible, plus one). Every job has two inputs or more, so
// running PlanFull's jobs and planning again ends: each round removes a
// segment.
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
	// MaxPerPartition bounds the mergeable segments of a partition, and
	// the inputs of one overlap or cold merge of Plan. PlanFull ignores
	// it. Zero: 10.
	MaxPerPartition int
	// ColdAfter is how far (in @timestamp) past a partition's end the
	// newest segment must reach for Plan to count the partition cold and
	// merge its segments into one (see cold.go). Zero: Partition/8;
	// NeverCold turns the rule off.
	ColdAfter time.Duration
	// ColdRatio bounds a cold merge's rewrite: its largest input is at
	// most ColdRatio times the others together. Zero: DefaultColdRatio.
	ColdRatio int64
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
	return c.coldDefaults()
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

// Plan returns the background merges to run now: per partition, at most
// one job, merging a cold partition into one segment first, then
// overlapping segments (see the package doc).
func Plan(segs []Segment, cfg Config) []Job {
	cfg = cfg.withDefaults()
	newest, some := newestTS(segs)
	var jobs []Job
	for part, ss := range partitions(segs, cfg, cfg.MaxSegmentBytes/2) {
		var in []Segment
		if some && cold(part, newest, cfg) {
			in = pickSmallest(ss, cfg, cfg.ColdRatio)
		}
		if len(in) < 2 {
			in = pickOverlap(ss, cfg)
		}
		if len(in) < 2 {
			in = pickTier(bySize(ss), cfg)
		}
		if len(in) >= 2 {
			jobs = append(jobs, newJob(part, in))
		}
	}
	return sortJobs(jobs)
}

// PlanFull returns the merges of an on-demand compaction: each partition's
// segments packed into as few outputs under MaxSegmentBytes as first-fit
// decreasing finds, one job per output of two inputs or more.
func PlanFull(segs []Segment, cfg Config) []Job {
	cfg = cfg.withDefaults()
	var jobs []Job
	for part, ss := range partitions(segs, cfg, cfg.MaxSegmentBytes) {
		for _, in := range pack(ss, cfg.MaxSegmentBytes) {
			if len(in) >= 2 {
				jobs = append(jobs, newJob(part, bySize(in)))
			}
		}
	}
	return sortJobs(jobs)
}

// partitions groups the segments smaller than below by partition start
// (Unix ns), leaving out those that span partitions.
func partitions(segs []Segment, cfg Config, below int64) map[int64][]Segment {
	parts := map[int64][]Segment{}
	p := int64(cfg.Partition)
	for _, s := range segs {
		first, last := match.FloorDiv(s.MinTS, p), match.FloorDiv(s.MaxTS, p)
		if first != last || s.Bytes >= below {
			continue
		}
		parts[first*p] = append(parts[first*p], s)
	}
	return parts
}

func newJob(part int64, in []Segment) Job {
	j := Job{Partition: part}
	for _, s := range in {
		j.Inputs = append(j.Inputs, s.Name)
		j.Bytes += s.Bytes
	}
	return j
}

// sortJobs orders jobs by partition, then by first input.
func sortJobs(jobs []Job) []Job {
	slices.SortFunc(jobs, func(a, b Job) int {
		return cmp.Or(cmp.Compare(a.Partition, b.Partition), cmp.Compare(a.Inputs[0], b.Inputs[0]))
	})
	return jobs
}

// bySize returns a copy of ss sorted by size, smallest first (then name).
func bySize(ss []Segment) []Segment {
	out := slices.Clone(ss)
	slices.SortFunc(out, func(a, b Segment) int { return cmp.Or(cmp.Compare(a.Bytes, b.Bytes), cmp.Compare(a.Name, b.Name)) })
	return out
}

// Overlaps reports whether a's and b's closed @timestamp ranges intersect.
func Overlaps(a, b Segment) bool {
	return a.MinTS <= b.MaxTS && b.MinTS <= a.MaxTS
}

// clusters splits ss into its overlap clusters, earliest first: runs of
// segments, sorted by MinTS, each starting at or before the latest MaxTS
// of the run so far.
func clusters(ss []Segment) [][]Segment {
	sorted := slices.Clone(ss)
	slices.SortFunc(sorted, func(a, b Segment) int { return cmp.Or(cmp.Compare(a.MinTS, b.MinTS), cmp.Compare(a.Name, b.Name)) })
	var out [][]Segment
	var end int64
	for i, s := range sorted {
		if i == 0 || s.MinTS > end {
			out = append(out, nil)
			end = s.MaxTS
		}
		out[len(out)-1] = append(out[len(out)-1], s)
		end = max(end, s.MaxTS)
	}
	return out
}

// pickOverlap chooses the inputs of an overlap merge: from the cluster
// offering the most (the earliest of equals), its smallest segments, at
// most MaxPerPartition and MaxSegmentBytes together, without a largest
// one that outweighs the rest.
func pickOverlap(ss []Segment, cfg Config) []Segment {
	var best []Segment
	for _, c := range clusters(ss) {
		in := pickSmallest(c, cfg, 1)
		if len(in) > len(best) {
			best = in
		}
	}
	return best
}

// pack places ss, largest first, each in the first bin with room under max
// (first-fit decreasing), and returns the bins.
func pack(ss []Segment, max int64) [][]Segment {
	sorted := bySize(ss)
	slices.Reverse(sorted)
	var bins [][]Segment
	var room []int64
	for _, s := range sorted {
		i := slices.IndexFunc(room, func(r int64) bool { return s.Bytes <= r })
		if i < 0 {
			bins, room = append(bins, nil), append(room, max)
			i = len(bins) - 1
		}
		bins[i] = append(bins[i], s)
		room[i] -= s.Bytes
	}
	return bins
}

// pickTier chooses the inputs of a partition's size-tier merge from its
// mergeable segments (sorted by size): the lowest tier with MinInputs
// segments, else the smallest segments when there are too many.
func pickTier(ss []Segment, cfg Config) []Segment {
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
